"""tools/grade_labs.py (`make grade`): from the release to a table of scores.

One chapter, the fastest (chapter 1), goes once through the real command with
nbgrader: a folder holding a submission with every solution but one answer that
raises, and the untouched release (the stubs) inside a zip file. The first must
get every question's points but the raising one's, the second 0 everywhere;
both get a feedback page that shows no hidden test. The other tests check the
command's errors without running a notebook.
"""

from __future__ import annotations

import copy
import csv
import html
import re
import subprocess
import sys
import zipfile

import nbformat
import pytest
from conftest import NOTEBOOKS, ROOT, tags

sys.path.insert(0, str(ROOT / "tools"))
import grade_labs  # noqa: E402
import make_labs  # noqa: E402

CHAPTER = NOTEBOOKS / "01_linear_autoencoder_pca.ipynb"
LAB = "01"
RAISING = "01-ex2"  # The question whose answer raises in alice's notebook.


def release_with_answers(release, chapter, raising: str):
    """Return the release with each answer cell holding the chapter's solution,
    but the answer of question `raising`, which raises."""
    solutions = {cell.id: cell.source for cell in chapter.cells
                 if "solution" in tags(cell)}
    notebook = copy.deepcopy(release)
    for cell in notebook.cells:
        metadata = cell.metadata.get("nbgrader", {})
        if metadata.get("solution"):
            cell.source = (solutions[cell.id]
                           if metadata["grade_id"] != f"{raising}-answer"
                           else 'raise RuntimeError("I ran out of time")')
    return notebook


def read_scores(path):
    with path.open(newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def visible_text(page: str) -> str:
    """Return an HTML page's text, without its tags."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.fixture(scope="module")
def graded(chapter_runs, tmp_path_factory):
    """Grade two submissions of lab 01 with the real command, once."""
    release = nbformat.read(chapter_runs.student_folder() / LAB / f"{LAB}.ipynb",
                            as_version=4)
    chapter = nbformat.read(CHAPTER, as_version=4)
    folder = tmp_path_factory.mktemp("grading")
    submissions = folder / "submissions"
    (submissions / "week 1").mkdir(parents=True)
    nbformat.write(release_with_answers(release, chapter, RAISING),
                   submissions / "alice_01.ipynb")
    # The stubs, as a learning platform would zip them, in a sub-folder.
    stubs = folder / "bob_01.ipynb"
    nbformat.write(release, stubs)
    with zipfile.ZipFile(submissions / "week 1" / "bob.zip", "w") as archive:
        archive.write(stubs, "bob_01.ipynb")
    (submissions / "readme.txt").write_text("not a submission")
    output = folder / "grades"
    process = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "grade_labs.py"), "--lab", LAB,
         str(submissions), "--course", str(chapter_runs.course_folder()),
         "--output", str(output)],
        capture_output=True, text=True, timeout=1800)
    return process, output


def test_grading_gives_each_question_its_points_or_0(graded, chapter_runs):
    process, output = graded
    assert process.returncode == 0, process.stdout + process.stderr
    questions = grade_labs.questions_of(chapter_runs.course_folder(), LAB)
    points = dict(questions)
    assert list(points) == ["01-ex1", "01-ex2", "01-ex3", "01-ex4"]
    scores = read_scores(output / "scores.csv")
    assert sorted(scores) == ["alice", "bob"]
    expected = {"alice": {qid: 0.0 if qid == RAISING else value
                          for qid, value in points.items()},
                "bob": {qid: 0.0 for qid in points}}
    for student, row in scores.items():
        got = {qid: float(row[qid]) for qid in points}
        assert got == expected[student], f"{student}: {got}"
        assert float(row["total"]) == sum(expected[student].values())
        assert float(row["out of"]) == sum(points.values())
        assert row["note"] == ""
    assert "readme.txt" in process.stderr, "skipped files are named"
    for student in scores:
        assert f"{student} " in process.stdout


def test_feedback_shows_the_failures_but_no_hidden_test(graded):
    _, output = graded
    pages = sorted(path.name for path in (output / "feedback").iterdir())
    assert pages == ["alice.html", "bob.html"]
    # The hidden tests' own lines: not those they share with the visible checks.
    chapter = nbformat.read(CHAPTER, as_version=4)
    visible_checks = {line.strip() for cell in chapter.cells
                      for line in cell.source.splitlines()}
    hidden = [line.strip() for question in make_labs.load_grading(
        make_labs.grading_path(CHAPTER)).values()
        for line in question["tests"].splitlines()
        if len(line.strip()) > 12 and line.strip() not in visible_checks]
    assert hidden
    for page in pages:
        text = (output / "feedback" / page).read_text()
        assert "HIDDEN TESTS" not in text
        visible = visible_text(text)
        shown = [line for line in hidden if line in visible]
        assert not shown, f"{page} shows hidden tests: {shown}"
    alice = visible_text((output / "feedback" / "alice.html").read_text())
    assert "I ran out of time" in alice
    bob = visible_text((output / "feedback" / "bob.html").read_text())
    assert "Exercise 1: not answered yet" in bob


def test_grading_runs_the_chapters_in_quick_mode_quietly(graded):
    _, output = graded
    graded_notebook = nbformat.read(
        output / "nbgrader" / "autograded" / "alice" / LAB / f"{LAB}.ipynb",
        as_version=4)
    text = "".join(output.get("text", "") for cell in graded_notebook.cells
                   if cell.cell_type == "code" for output in cell.outputs)
    assert "Mode: quick (AE_BOOK_QUICK=1)" in text
    # The hidden tests ran, and passed where the solution was given.
    assert "Exercise 1 (hidden tests): correct." in text


def fake_course(tmp_path, graded_cells=True):
    """A course folder with lab 01's source and release, and no real gradebook."""
    course = tmp_path / "course"
    for step in ("source", "release"):
        (course / step / LAB).mkdir(parents=True)
    check = nbformat.v4.new_code_cell("helpers.self_check('Exercise 1', ...)")
    check.metadata["nbgrader"] = make_labs.nbgrader_metadata(
        "01-ex1", grade=graded_cells, locked=True, points=2 if graded_cells else None)
    notebook = nbformat.v4.new_notebook(cells=[check])
    for step in ("source", "release"):
        nbformat.write(notebook, course / step / LAB / f"{LAB}.ipynb")
    (course / "nbgrader_config.py").write_text(make_labs.NBGRADER_CONFIG)
    (course / "gradebook.db").write_text("")
    return course


def run(capsys, *args):
    status = grade_labs.main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("typed, lab", [("1", "01"), ("01", "01"), ("10", "10")])
def test_a_lab_is_named_by_its_number(typed, lab):
    assert grade_labs.lab_name(typed) == lab


def test_a_missing_folder_and_course_are_named(tmp_path, capsys):
    status, _, err = run(capsys, tmp_path / "nothing", "--lab", "1", "--course",
                         tmp_path / "no-course", "--output", tmp_path / "out")
    assert status == 1 and "Traceback" not in err
    assert "nothing: no such folder" in err
    assert "no-course is not a course folder" in err and "make student" in err
    assert not (tmp_path / "out").exists()


def test_a_lab_that_was_not_released_is_named(tmp_path, capsys):
    course = fake_course(tmp_path)
    (tmp_path / "subs").mkdir()
    status, _, err = run(capsys, tmp_path / "subs", "--lab", "3", "--course", course,
                         "--output", tmp_path / "out")
    assert status == 1
    assert "has no lab 03" in err and "its labs: 01" in err


def test_an_ungraded_lab_names_its_grading_file(tmp_path, capsys):
    course = fake_course(tmp_path, graded_cells=False)
    (tmp_path / "subs").mkdir()
    status, _, err = run(capsys, tmp_path / "subs", "--lab", "1", "--course", course,
                         "--output", tmp_path / "out")
    assert status == 1
    assert "lab 01 has no graded question" in err
    assert "grading/01_linear_autoencoder_pca.py" in err


@pytest.mark.parametrize("where", ["submissions", "foreign"])
def test_an_output_folder_that_is_not_ours_is_refused(where, tmp_path, capsys):
    course = fake_course(tmp_path)
    submissions = tmp_path / "subs"
    submissions.mkdir()
    (submissions / "alice_01.ipynb").write_text("{}")
    output = submissions if where == "submissions" else tmp_path / "thesis"
    output.mkdir(exist_ok=True)
    (output / "thesis.tex").write_text("keep me")
    status, _, err = run(capsys, submissions, "--lab", "1", "--course", course,
                         "--output", output)
    assert status == 1
    assert "expected a folder of its own" in err or "expected a new folder" in err
    assert (output / "thesis.tex").read_text() == "keep me"
