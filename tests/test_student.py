"""The student notebooks of `make student`: no solution left, every self-check works.

Each chapter runs once, in quick mode and in one kernel (conftest.ChapterRuns):
at each exercise the kernel first runs the student's stub and the self-check,
which must fail with ExerciseNotSolved as it does for a student; then a plausible
wrong answer (tests/wrong_answers/<chapter>.py) and the self-check, which must
fail the same way; then the reference solution and the self-check, which must
pass.
"""

from __future__ import annotations

import re
import sys

import nbformat
import pytest
from conftest import CHAPTERS, ROOT, WRONG_ANSWERS, tags, wrong_answers, wrong_source

sys.path.insert(0, str(ROOT / "tools"))
import make_student  # noqa: E402

# The tags that hide a solution on the site; a student's own cell carries none.
HIDING_TAGS = {"solution", "hide-cell", "hide-input"}


def meaningful_lines(source: str) -> set[str]:
    """Return the lines of a cell that would give a solution away."""
    return {line.strip() for line in source.splitlines()
            if re.search(r"\w{2}", line)}


def exercise_labels(path) -> list[str]:
    """Return the labels of a chapter's exercises, from its self-check cells."""
    notebook = nbformat.read(path, as_version=4)
    return [make_student.exercise_label(cell.source) for cell in notebook.cells
            if "self-check" in tags(cell)]


@pytest.fixture(scope="module")
def student_folder(chapter_runs):
    """The student notebooks, written as `make student` does (no chapter runs)."""
    return chapter_runs.student_folder()


def test_student_folder_has_every_chapter_and_both_modules(student_folder):
    names = sorted(path.name for path in student_folder.iterdir())
    assert names == sorted([path.name for path in CHAPTERS] + ["helpers.py",
                                                               "ae_blocks.py"])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_student_notebook_has_no_solution_left(student_folder, path):
    reference = nbformat.read(path, as_version=4)
    student = nbformat.read(student_folder / path.name, as_version=4)
    nbformat.validate(student)
    solutions = [c for c in reference.cells if "solution" in tags(c)]
    stubs = [c for c in student.cells if "self-check" in tags(c)]
    assert len(stubs) == len(solutions) > 0
    solution_lines = set().union(*(meaningful_lines(c.source) for c in solutions))
    # A solution may repeat a line of the chapter (a learning-rate schedule, say);
    # that line stays in the chapter, but no stub may hold any solution line.
    chapter_lines = set().union(*(meaningful_lines(c.source) for c in reference.cells
                                  if "solution" not in tags(c)))
    stub_ids = {c.id for c in solutions}
    for cell in student.cells:
        assert "solution" not in tags(cell)
        if cell.id in stub_ids:
            # The student's own cell is shown, code and outputs.
            hidden = HIDING_TAGS & set(tags(cell))
            assert not hidden, f"{path.name}: a student's cell is tagged {hidden}"
        given_away = solution_lines - (set() if cell.id in stub_ids else chapter_lines)
        left = meaningful_lines(cell.source) & given_away
        assert not left, f"{path.name}: solution code left in a student cell: {left}"
    assert "jupytext" not in student.metadata, "a student's copy is not paired"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_wrong_answer(path):
    labels = exercise_labels(path)
    answers = wrong_answers(path.stem)
    where = WRONG_ANSWERS / f"{path.stem}.py"
    missing = [label for label in labels if label not in answers]
    assert not missing, f"{where} has no wrong answer for {missing}"
    unknown = sorted(set(answers) - set(labels))
    assert not unknown, f"{where}: no exercise is labelled {unknown}"
    notebook = nbformat.read(path, as_version=4)
    solutions = {make_student.exercise_label(notebook.cells[index + 1].source):
                 cell.source for index, cell in enumerate(notebook.cells)
                 if "solution" in tags(cell)}
    for label, answer in answers.items():
        code = wrong_source(answer, solutions[label], f"{where}: {label}")
        assert code.strip() != solutions[label].strip(), (
            f"{where}: {label}'s wrong answer is the solution")
        compile(code, f"{where}: {label}", "exec")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_self_checks_reject_the_stub_and_a_wrong_answer_and_pass_the_solution(
        chapter_runs, path):
    run = chapter_runs[path.stem]
    assert run.error is None, f"{path.name} failed: {run.error}"
    labels = exercise_labels(path)
    assert labels and list(run.exercises) == labels
    problems = []
    for label, trials in run.exercises.items():
        for trial in ("stub", "wrong answer"):
            result, message = trials[trial]
            if result != "ExerciseNotSolved":
                problems.append(f"{label}, {trial}: the self-check gave {result} "
                                f"{message!r}, not ExerciseNotSolved")
            elif not message.startswith(f"{label}: "):
                problems.append(f"{label}, {trial}: the message does not start "
                                f"with the label: {message!r}")
            elif trial == "wrong answer" and "not answered yet" in message:
                # Rejected for a missing name, the wrong answer tested nothing.
                problems.append(f"{label}: the wrong answer does not define the "
                                f"exercise's names: {message!r}")
        if trials.get("solution") != ("passed", ""):
            problems.append(f"{label}: the solution's self-check did not pass")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
