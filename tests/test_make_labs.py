"""tools/make_labs.py on small notebooks: nbgrader's source, the release, safe outputs.

No notebook is executed. Each test builds its chapters and grading files with
nbformat in a temporary folder. Only the first test runs nbgrader itself (about
8 s, its import); the others replace `nbgrader generate_assignment` with a copy
of the source that drops the solutions and hidden tests as nbgrader does, since
what they test happens before or after it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import make_labs  # noqa: E402

v4 = nbformat.v4
SOLUTION = 'answer = x.mean()\nprint("the mean is", answer)'
CHECK = ('helpers.self_check(\n    "Exercise 1",\n    lambda: answer == 2.0,\n'
         '    "answer should be the mean of x.",\n)')
HIDDEN = ('helpers.self_check("Exercise 1 (hidden tests)", lambda: isinstance('
          'answer, float), "answer should be a float.")')
GRADING = f'''
QUESTIONS = {{
    "Exercise 1": {{"points": 2, "tests": """
{HIDDEN}
"""}},
}}
'''


def solution_cell(**changes):
    prompts = {"code_prompt_show": "Show the solution",
               "code_prompt_hide": "Hide the solution"}
    cell = v4.new_code_cell(SOLUTION, id="sol-1",
                            metadata={"tags": ["solution", "hide-cell"],
                                      "mystnb": prompts})
    cell.outputs = [v4.new_output("stream", text="the mean is 2.0\n")]
    cell.execution_count = 7
    cell.update(changes)
    return cell


def chapter(*cells, **metadata):
    """Return a small chapter with one exercise; `cells` replace its solution."""
    body = list(cells) if cells else [solution_cell()]
    notebook = v4.new_notebook(
        cells=[v4.new_markdown_cell("# A chapter", id="title"),
               v4.new_code_cell("import helpers\nx = [1.0, 2.0, 3.0]", id="setup"),
               v4.new_markdown_cell("## Exercises\n\n1. Compute the mean of `x`\n"
                                    "   as `answer`.", id="exercises"),
               v4.new_markdown_cell("**Exercise 1.** A solution:", id="before"),
               *body,
               v4.new_code_cell(CHECK, id="check-1",
                                metadata={"tags": ["self-check"]})],
        metadata={"jupytext": {"formats": "ipynb,py:percent"},
                  "kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}, **metadata})
    return notebook


def fake_generate(course):
    """Stand-in for `nbgrader generate_assignment '*'`: release = source, cleared."""
    for source in sorted((course / "source").iterdir()):
        release = course / "release" / source.name
        release.mkdir(parents=True)
        for path in source.iterdir():
            if path.suffix != ".ipynb":
                release.joinpath(path.name).write_bytes(path.read_bytes())
                continue
            notebook = nbformat.read(path, as_version=4)
            for cell in notebook.cells:
                cell.source = re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION",
                                     make_labs.CODE_STUB, cell.source, flags=re.S)
                cell.source = re.sub(r"\n### BEGIN HIDDEN TESTS.*?### END HIDDEN "
                                     r"TESTS", "", cell.source, flags=re.S)
            nbformat.write(notebook, release / path.name)
    (course / "gradebook.db").write_text("")


@pytest.fixture
def src(tmp_path, monkeypatch):
    """A folder of chapters and one of grading files, standing in for the project's."""
    folder = tmp_path / "src"
    folder.mkdir()
    for module in make_labs.MODULES:
        (folder / module).write_text(f"# {module}\n")
    grading = tmp_path / "grading"
    grading.mkdir()
    monkeypatch.setattr(make_labs, "NOTEBOOKS", folder)
    monkeypatch.setattr(make_labs, "GRADING", grading)
    return folder


@pytest.fixture
def fake_nbgrader(monkeypatch):
    monkeypatch.setattr(make_labs, "generate_assignments", fake_generate)


def write(folder, name, notebook):
    path = folder / name
    if isinstance(notebook, (bytes, str)):
        path.write_bytes(notebook if isinstance(notebook, bytes) else notebook.encode())
    else:
        nbformat.write(notebook, path)
    return path


def grade(src, name, text=GRADING):
    """Write the grading file of chapter `name` (01_a.ipynb -> grading/01_a.py)."""
    path = make_labs.GRADING / name.replace(".ipynb", ".py")
    path.write_text(text)
    return path


def run(capsys, tmp_path, *args):
    """Run the tool into tmp_path/out and tmp_path/course; return status, out, err."""
    status = make_labs.main(["--output", str(tmp_path / "out"),
                             "--course", str(tmp_path / "course"),
                             *[str(arg) for arg in args]])
    out, err = capsys.readouterr()
    return status, out, err


def snapshot(folder):
    return {path.relative_to(folder): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def cells_by_id(path):
    return {cell.id: cell for cell in nbformat.read(path, as_version=4).cells}


def test_nbgrader_makes_the_release_from_the_source(src, tmp_path, capsys):
    write(src, "01_a.ipynb", chapter())
    grade(src, "01_a.ipynb")
    status, stdout, err = run(capsys, tmp_path)
    assert (status, err) == (0, "")
    assert stdout.split() == [str(tmp_path / "out" / "01" / "01.ipynb")]
    course, out = tmp_path / "course", tmp_path / "out"
    assert {"nbgrader_config.py", "gradebook.db", "source", "release"} <= {
        path.name for path in course.iterdir()}
    assert sorted(path.name for path in (out / "01").iterdir()) == [
        "01.ipynb", "ae_blocks.py", "helpers.py"]
    assert (out / "01" / "helpers.py").read_text() == "# helpers.py\n"
    # nbgrader's source: the solution and the hidden tests between its markers.
    source = cells_by_id(course / "source" / "01" / "01.ipynb")
    header = ("# Exercise 1. Compute the mean of `x` as `answer`.\n#\n"
              "# Define `answer`, then run the next cell to check your answer.\n"
              "# answer = ...")
    assert source["sol-1"].source == (f"{header}\n### BEGIN SOLUTION\n{SOLUTION}\n"
                                      f"### END SOLUTION")
    assert source["sol-1"].metadata == {"nbgrader": {
        "schema_version": 3, "grade": False, "solution": True, "locked": False,
        "grade_id": "01-ex1-answer"}}
    assert source["check-1"].source == (f"{CHECK}\n### BEGIN HIDDEN TESTS\n{HIDDEN}\n"
                                        f"### END HIDDEN TESTS")
    assert source["check-1"].metadata == {"tags": ["self-check"], "nbgrader": {
        "schema_version": 3, "grade": True, "solution": False, "locked": True,
        "grade_id": "01-ex1", "points": 2}}
    # The release, by nbgrader: a stub, the visible self-check, locked, no tests.
    release = nbformat.read(out / "01" / "01.ipynb", as_version=4)
    nbformat.validate(release)
    cells = {cell.id: cell for cell in release.cells}
    assert cells["sol-1"].source == f"{header}\n{make_labs.CODE_STUB}"
    assert (cells["sol-1"].outputs, cells["sol-1"].execution_count) == ([], None)
    assert cells["sol-1"].metadata["nbgrader"]["solution"] is True
    assert "tags" not in cells["sol-1"].metadata
    assert "mystnb" not in cells["sol-1"].metadata
    assert cells["check-1"].source == CHECK
    assert cells["check-1"].metadata["editable"] is False
    nbgrader = cells["check-1"].metadata["nbgrader"]
    assert (nbgrader["grade_id"], nbgrader["points"], nbgrader["locked"]) == (
        "01-ex1", 2, True)
    assert len(nbgrader["checksum"]) == 32
    assert cells["before"].source == "**Exercise 1.** Your solution:"
    assert release.cells[1].id == "student-version"
    assert "jupytext" not in release.metadata
    assert (out / "01" / "01.ipynb").read_bytes() == (
        course / "release" / "01" / "01.ipynb").read_bytes()


def test_a_chapter_without_grading_file_is_released_ungraded(
        src, tmp_path, capsys, fake_nbgrader):
    write(src, "01_a.ipynb", chapter())
    status, stdout, err = run(capsys, tmp_path)
    assert (status, err) == (0, "")
    assert "01_a.ipynb: released ungraded: no grading file" in stdout
    source = cells_by_id(tmp_path / "course" / "source" / "01" / "01.ipynb")
    assert source["check-1"].source == CHECK
    assert source["check-1"].metadata["nbgrader"] == {
        "schema_version": 3, "grade": False, "solution": False, "locked": True,
        "grade_id": "01-ex1"}


def test_stub_keeps_other_tags_and_metadata_and_drops_old_hide_input(
        src, tmp_path, capsys, fake_nbgrader):
    cell = solution_cell(metadata={
        "tags": ["solution", "hide-input", "remove-output"],
        "mystnb": {"code_prompt_show": "Show", "number_source_lines": True},
        "jupyter": {"source_hidden": True}})
    write(src, "01_a.ipynb", chapter(cell))
    grade(src, "01_a.ipynb")
    status, _, err = run(capsys, tmp_path)
    assert (status, err) == (0, "")
    stub = cells_by_id(tmp_path / "out" / "01" / "01.ipynb")["sol-1"]
    assert stub.metadata["tags"] == ["remove-output"]
    assert stub.metadata["mystnb"] == {"number_source_lines": True}
    assert "jupyter" not in stub.metadata


def test_a_notebook_of_format_4_4_gets_cell_ids(src, tmp_path, capsys, fake_nbgrader):
    notebook = chapter()
    notebook.nbformat_minor = 4
    for cell in notebook.cells:
        del cell["id"]
    write(src, "01_a.ipynb", json.dumps(notebook))
    status, _, err = run(capsys, tmp_path)
    assert (status, err) == (0, "")
    student = nbformat.read(tmp_path / "out" / "01" / "01.ipynb", as_version=4)
    nbformat.validate(student)
    assert student.nbformat_minor >= 5


def markdown_solution():
    cell = v4.new_markdown_cell("The mean is 2.", id="sol-md",
                                metadata={"tags": ["solution", "hide-cell"]})
    return chapter(cell)


def schema_error():
    notebook = chapter()
    notebook.cells[2]["outputs"] = []  # A markdown cell has no outputs.
    return json.dumps(notebook)


def not_followed_by_a_self_check():
    notebook = chapter()
    notebook.cells[-1].metadata = {}
    return notebook


def solution_at_the_end():
    notebook = chapter()
    notebook.cells.pop()
    return notebook


def duplicate_ids():
    notebook = chapter()
    notebook.cells[1].id = "title"
    return json.dumps(notebook)


def already_a_student_version():
    notebook = chapter()
    notebook.cells.insert(1, v4.new_markdown_cell("Student version.",
                                                  id="student-version"))
    return notebook


def duplicate_label():
    notebook = chapter()
    second = [v4.new_code_cell("answer = 2.0", id="sol-2",
                               metadata={"tags": ["solution", "hide-cell"]}),
              v4.new_code_cell(CHECK, id="check-2", metadata={"tags": ["self-check"]})]
    notebook.cells += second
    return notebook


def marker_in_the_chapter():
    notebook = chapter()
    notebook.cells[2].source += "\n\nnbgrader's `### BEGIN SOLUTION` marker."
    return notebook


def label_without_number():
    return chapter(solution_cell(), v4.new_code_cell(
        CHECK.replace('"Exercise 1"', '"Bonus"'), id="check-0",
        metadata={"tags": ["self-check"]}))


BAD_CHAPTERS = {
    # case: (notebook, what the message must say)
    "markdown solution": (markdown_solution, ["cell 4 (id sol-md)", "markdown",
                                              "expected the tag on the code cell"]),
    "invalid notebook": (schema_error, ["cell 2 (id exercises)",
                                        "not a valid notebook", "outputs"]),
    "corrupt JSON": (lambda: json.dumps(chapter())[:-200],
                     ["not a notebook: invalid JSON at line", "expected an .ipynb"]),
    "not UTF-8": (lambda: b'{"cells": "\xff"}', ["not UTF-8"]),
    "not a notebook": (lambda: "[1, 2]", ["expected a JSON object"]),
    "no self-check after": (not_followed_by_a_self_check,
                            ["cell 5 (id check-1)", "expected a code cell tagged "
                             "`self-check` after the solution of cell 4"]),
    "solution at the end": (solution_at_the_end,
                            ["cell 4 (id sol-1)", "ends the notebook"]),
    "empty solution": (lambda: chapter(solution_cell(source="# to do\n\n")),
                       ["cell 4 (id sol-1)", "solution cell is empty"]),
    "solution not Python": (lambda: chapter(solution_cell(source="answer = (")),
                            ["cell 4 (id sol-1)", "not valid Python (line 1"]),
    "self-check without call": (
        lambda: chapter(solution_cell(), v4.new_code_cell(
            "assert answer == 2", id="check-0", metadata={"tags": ["self-check"]})),
        ["cell 5 (id check-0)", "helpers.self_check('Exercise N', ...)"]),
    "label without a number": (label_without_number,
                               ["cell 5 (id check-0)", "labelled 'Bonus'",
                                "expected 'Exercise N'"]),
    "duplicate cell ids": (duplicate_ids, ["cell 1 (id title)", "cell 0 has the same "
                                           "id"]),
    "already a student version": (already_a_student_version,
                                  ["cell 1 (id student-version)", "already a student"]),
    "duplicate exercise label": (duplicate_label, ["cell 7 (id check-2)",
                                                   "'Exercise 1' like that of cell 5"]),
    "nbgrader's marker in the text": (marker_in_the_chapter,
                                      ["cell 2 (id exercises)", "'BEGIN SOLUTION'"]),
}


@pytest.mark.parametrize("case", BAD_CHAPTERS)
def test_a_bad_chapter_is_named_and_leaves_the_old_output_intact(
        case, src, tmp_path, capsys, fake_nbgrader):
    write(src, "01_good.ipynb", chapter())
    assert run(capsys, tmp_path)[0] == 0
    (tmp_path / "out" / "my_notes.txt").write_text("a student's own file")
    before = snapshot(tmp_path / "out"), snapshot(tmp_path / "course")
    make, expected = BAD_CHAPTERS[case]
    write(src, "02_bad.ipynb", make())
    status, stdout, err = run(capsys, tmp_path)
    assert (status, stdout) == (1, "")
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert errors and all("02_bad.ipynb" in line for line in errors), err
    for text in expected:
        assert text in err, err
    assert (snapshot(tmp_path / "out"), snapshot(tmp_path / "course")) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "course", "grading", "out", "src"]


BAD_GRADING = {
    # case: (grading file, what the message must say)
    "not Python": ("QUESTIONS = {", ["not valid Python (line 1"]),
    "raises": ("raise ValueError('oops')", ["importing it raised ValueError: oops"]),
    "no QUESTIONS": ("POINTS = 2", ["expected QUESTIONS = {'Exercise 1'"]),
    "missing question": ('QUESTIONS = {"Exercise 2": {"points": 1, "tests": "x"}}',
                         ["no entry for 'Exercise 1'", "'Exercise 2' is not an "
                          "exercise of"]),
    "bad label": ('QUESTIONS = {"Ex 1": {"points": 1, "tests": "x"}}',
                  ["the key 'Ex 1' is not an exercise's label"]),
    "no points": ('QUESTIONS = {"Exercise 1": {"tests": "x"}}',
                  ["expected a dict with the keys 'points' and 'tests'"]),
    "too many points": ('QUESTIONS = {"Exercise 1": {"points": 4, "tests": "x"}}',
                        ["'points' is 4; expected a whole number from 1 to 3"]),
    "points as text": ('QUESTIONS = {"Exercise 1": {"points": "2", "tests": "x"}}',
                       ["'points' is '2'"]),
    "empty tests": ('QUESTIONS = {"Exercise 1": {"points": 1, "tests": " "}}',
                    ["'tests' is empty"]),
    "tests not Python": ('QUESTIONS = {"Exercise 1": {"points": 1, "tests": "x = ("}}',
                         ["the hidden tests are not valid Python (line 1"]),
    "tests with markers": ('QUESTIONS = {"Exercise 1": {"points": 1, "tests": '
                           '"### END HIDDEN TESTS"}}', ["'END HIDDEN TESTS'"]),
}


@pytest.mark.parametrize("case", BAD_GRADING)
def test_a_bad_grading_file_is_named(case, src, tmp_path, capsys, fake_nbgrader):
    write(src, "01_a.ipynb", chapter())
    text, expected = BAD_GRADING[case]
    grade(src, "01_a.ipynb", text)
    status, stdout, err = run(capsys, tmp_path)
    assert (status, stdout) == (1, "")
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert errors and all("01_a.py" in line for line in errors), err
    for text in expected:
        assert text in err, err
    assert not (tmp_path / "out").exists() and not (tmp_path / "course").exists()


def test_every_problem_of_every_chapter_is_reported(src, tmp_path, capsys):
    write(src, "01_a.ipynb", markdown_solution())
    write(src, "02_b.ipynb", chapter(solution_cell(source="")))
    write(src, "03_c.ipynb", chapter())
    grade(src, "03_c.ipynb", "QUESTIONS = {}")
    status, _, err = run(capsys, tmp_path)
    assert status == 1
    assert "01_a.ipynb, cell 4 (id sol-md)" in err
    assert "02_b.ipynb, cell 4 (id sol-1): the solution cell is empty" in err
    assert "03_c.py: expected QUESTIONS" in err
    assert not (tmp_path / "out").exists()


def test_a_new_run_replaces_the_labs_and_keeps_other_files(
        src, tmp_path, capsys, fake_nbgrader):
    write(src, "01_a.ipynb", chapter())
    write(src, "02_b.ipynb", chapter())
    out = tmp_path / "out"
    assert run(capsys, tmp_path)[0] == 0
    (out / "my_notes.txt").write_text("mine")
    (out / "01" / "my_answers.ipynb").write_text("mine too")
    (src / "02_b.ipynb").rename(src / "03_c.ipynb")
    assert run(capsys, tmp_path)[0] == 0
    assert sorted(path.name for path in out.iterdir()) == ["01", "03", "my_notes.txt"]
    assert sorted(path.name for path in (tmp_path / "course" / "source").iterdir()) \
        == ["01", "03"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "course", "grading", "out", "src"]
    # A lab's folder keeps the student's own files, even when its chapter is gone.
    assert (out / "01" / "my_answers.ipynb").read_text() == "mine too"
    (out / "03" / "my_answers.ipynb").write_text("mine too")
    (src / "03_c.ipynb").rename(src / "04_d.ipynb")
    assert run(capsys, tmp_path)[0] == 0
    assert sorted(path.name for path in out.iterdir()) == [
        "01", "03", "04", "my_notes.txt"]
    assert (out / "03" / "my_answers.ipynb").read_text() == "mine too"
    # Chapters given by name replace only themselves; the others stay released.
    other = tmp_path / "other"
    other.mkdir()
    write(other, "09_z.ipynb", chapter())
    assert run(capsys, tmp_path, other / "09_z.ipynb")[0] == 0
    assert sorted(path.name for path in out.iterdir()) == [
        "01", "03", "04", "09", "my_notes.txt"]
    assert sorted(path.name for path in (tmp_path / "course" / "source").iterdir()) \
        == ["01", "04", "09"]


def test_a_release_of_make_student_is_replaced(src, tmp_path, capsys, fake_nbgrader):
    """The flat folder of the former tools/make_student.py becomes the new layout."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("01_a.ipynb", "helpers.py", "my_notes.txt"):
        (out / name).write_text("old")
    write(src, "01_a.ipynb", chapter())
    assert run(capsys, tmp_path)[0] == 0
    assert sorted(path.name for path in out.iterdir()) == ["01", "my_notes.txt"]


@pytest.mark.parametrize("where", ["src", "tmp", "foreign", "course"])
def test_an_output_folder_that_is_not_ours_is_refused(
        where, src, tmp_path, capsys, fake_nbgrader):
    write(src, "01_a.ipynb", chapter())
    out = {"src": src, "tmp": tmp_path, "foreign": tmp_path / "foreign",
           "course": tmp_path / "course"}[where]
    out.mkdir(exist_ok=True)
    (out / "thesis.tex").write_text("keep me")
    before = snapshot(tmp_path)
    args = (["--output", str(out), "--course", str(tmp_path / "c")]
            if where != "course" else [])
    status = make_labs.main(args or ["--output", str(tmp_path / "out"),
                                     "--course", str(out)])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err
    assert "expected a folder of its own" in err or "expected a new folder" in err
    assert snapshot(tmp_path) == before


def test_the_course_is_kept_apart_from_the_release(src, tmp_path, capsys):
    write(src, "01_a.ipynb", chapter())
    status = make_labs.main(["--output", str(tmp_path / "out"),
                             "--course", str(tmp_path / "out" / "course")])
    assert status == 1
    assert "the course holds the hidden tests" in capsys.readouterr().err


def test_two_chapters_with_one_number_are_refused(src, tmp_path, capsys):
    paths = [write(src, "01_a.ipynb", chapter()), write(src, "01_b.ipynb", chapter())]
    status, _, err = run(capsys, tmp_path, *paths)
    assert status == 1 and "would both be lab 01" in err


def test_a_missing_notebook_is_named(src, tmp_path, capsys):
    status, _, err = run(capsys, tmp_path, src / "07_none.ipynb")
    assert status == 1
    assert "07_none.ipynb: cannot read it: No such file or directory" in err


def test_a_failing_nbgrader_is_reported(src, tmp_path, capsys, monkeypatch):
    write(src, "01_a.ipynb", chapter())

    class Failed:
        returncode, stdout = 1, ""
        stderr = "Traceback ...\nnbgrader.coursedir.SomeError: it broke"

    monkeypatch.setattr(make_labs.subprocess, "run", lambda *a, **k: Failed)
    status, _, err = run(capsys, tmp_path)
    assert status == 1
    assert "nbgrader generate_assignment failed:" in err and "it broke" in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "course").exists()


def test_exercise_label_reads_the_first_argument():
    assert make_labs.exercise_label(CHECK) == "Exercise 1"
    with pytest.raises(ValueError, match="helpers.self_check"):
        make_labs.exercise_label("assert answer == 2")


def test_the_command_exits_with_1_and_no_traceback(tmp_path):
    bad = write(tmp_path, "01_a.ipynb", markdown_solution())
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_labs.py"),
         "--output", str(tmp_path / "out"), "--course", str(tmp_path / "course"),
         str(bad)],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "01_a.ipynb, cell 4 (id sol-md)" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
