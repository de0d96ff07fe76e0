"""The teachers' page (book/teachers.md) and its directive, `lab-questions`.

The directive (book/_ext/lab_questions.py) reads the questions and points from
the grading files and the running times from book/timings.yml at build time. It
is checked on a small book of two chapters, one with a grading file and one
without, built with Sphinx in a temporary folder (no notebook is executed), and
on the course's quick build (conftest.built_site).
"""

from __future__ import annotations

import re
import sys
import textwrap

import nbformat
import pytest
from conftest import CHAPTERS, ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
sys.path.insert(0, str(ROOT / "tools"))
import lab_questions  # noqa: E402
import make_labs  # noqa: E402


def chapter(labels):
    cells = [nbformat.v4.new_markdown_cell("# A chapter")]
    for label in labels:
        cells.append(nbformat.v4.new_code_cell(
            f'helpers.self_check(\n    "{label}",\n    lambda: True, "hint")',
            metadata={"tags": ["self-check"]}))
    return nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3",
                       "language": "python"},
        "language_info": {"name": "python"}})


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    """Build a book of two chapters and a teachers' page; return the page's HTML."""
    from sphinx.cmd.build import build_main

    src = tmp_path_factory.mktemp("book")
    (src / "notebooks").mkdir()
    (src / "grading").mkdir()
    (src / "book").mkdir()
    nbformat.write(chapter(["Exercise 1", "Exercise 2"]),
                   src / "notebooks" / "01_first.ipynb")
    nbformat.write(chapter(["Exercise 1"]), src / "notebooks" / "02_second.ipynb")
    (src / "grading" / "01_first.py").write_text(textwrap.dedent('''
        QUESTIONS = {
            "Exercise 1": {"points": 2, "tests": "pass"},
            "Exercise 2": {"points": 3, "tests": "pass"},
        }
    '''))
    (src / "book" / "timings.yml").write_text(textwrap.dedent("""
        chapters:
          01_first: {full_seconds: 200, full_device: CPU (2 cores),
                     quick_seconds: 14, quick_device: CPU (2 cores)}
    """))
    (src / "index.md").write_text(textwrap.dedent("""
        # A book

        ```{toctree}
        teachers
        notebooks/01_first
        notebooks/02_second
        ```
    """))
    (src / "teachers.md").write_text(textwrap.dedent("""
        # Teachers

        (running-times)=
        ```{lab-questions}
        ```

        ## Lab 01

        ```{lab-questions} 01
        ```

        ## Lab 02

        ```{lab-questions} 02
        ```

        ## Lab 07

        ```{lab-questions} 07
        ```
    """))
    (src / "conf.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / "book" / "_ext")!r})
        extensions = ["myst_nb", "running_times"]
        nb_execution_mode = "off"
        myst_enable_extensions = ["colon_fence"]
    """))
    out = src / "_build"
    status = build_main(["-b", "html", "-q", "-W", "--keep-going", str(src),
                         str(out)])
    assert status == 0
    return (out / "teachers.html").read_text()


def text_of(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_the_overview_lists_every_chapter_with_points_and_times(small_book):
    table = text_of(small_book.split('class="lab-questions', 1)[1].split(
        "</table>", 1)[0])
    assert "Lab 01 01-ex1 (2), 01-ex2 (3) 5 14 s 3 min" in table
    assert "Lab 02 not graded yet (no grading file) - not measured yet" in table


def test_a_chapter_lists_its_questions_or_says_it_is_not_graded(small_book):
    text = text_of(small_book)
    assert ("Running time of the whole notebook: quick mode 14 s on CPU (2 cores), "
            "full mode 3 min on CPU (2 cores); on a GPU: not measured.") in text
    assert "01-ex1 Exercise 1 2 01-ex2 Exercise 2 3 total 2 questions 5" in text
    assert ("Not graded yet: the chapter has no grading file "
            "( grading/02_second.py ): make student releases it") in text
    assert "Chapter 07 is not in the book yet" in text


def test_read_questions_reads_the_literal_without_running_it(tmp_path):
    path = tmp_path / "01_x.py"
    path.write_text('import os\nos.remove("x")\nQUESTIONS = {"Exercise 1": '
                    '{"points": 1, "tests": "pass"}}\n')
    assert lab_questions.read_questions(path) == {"Exercise 1": 1}


def test_the_page_has_a_section_for_every_chapter():
    page = (ROOT / "book" / "teachers.md").read_text()
    for path in CHAPTERS:
        lab = make_labs.lab_id(path)
        assert f"### Lab {lab}:" in page, f"book/teachers.md: no section for {lab}"
        assert f"```{{lab-questions}} {lab}\n```" in page


def test_the_built_page_shows_the_course_labs(built_site):
    html = built_site[0] if isinstance(built_site, tuple) else built_site
    text = text_of((html / "book" / "teachers.html").read_text())
    for path in CHAPTERS:
        lab = make_labs.lab_id(path)
        grading = make_labs.grading_path(path)
        if grading.exists():
            points = lab_questions.read_questions(grading)
            for label, value in points.items():
                qid = make_labs.question_id(lab, label)
                assert f"{qid} {label} {value}" in text, f"{qid} is not on the page"
        else:
            assert f"grading/{path.stem}.py" in text
