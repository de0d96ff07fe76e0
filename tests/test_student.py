"""The labs of `make student`: no solution left, every self-check and hidden test works.

Each chapter runs once, in quick mode and in one kernel (conftest.ChapterRuns):
at each exercise the kernel first runs the student's stub from the release, the
self-check, which must fail with ExerciseNotSolved as it does for a student, and
the question's hidden tests (grading/<chapter>.py), which must fail the same
way; then a plausible wrong answer (tests/wrong_answers/<chapter>.py), the
self-check and the hidden tests, which must all fail; then the reference
solution, the self-check and the hidden tests, which must pass and write nothing
to stderr (nbgrader gives a test cell that does 0). So in nbgrader's terms the
solutions get full points, the stubs and every wrong answer 0 on their question.
"""

from __future__ import annotations

import ast
import re
import sys

import nbformat
import pytest
from conftest import (CHAPTERS, MODULES, NOTEBOOKS, ROOT, WRONG_ANSWERS, tags,
                      wrong_answers, wrong_source)

sys.path.insert(0, str(ROOT / "tools"))
import make_labs  # noqa: E402

# The tags that hide a solution on the site; a student's own cell carries none.
HIDING_TAGS = {"solution", "hide-cell", "hide-input"}


def meaningful_lines(source: str) -> set[str]:
    """Return the lines of a cell that would give a solution away."""
    return {line.strip() for line in source.splitlines()
            if re.search(r"\w{2}", line)}


def exercise_labels(path) -> list[str]:
    """Return the labels of a chapter's exercises, from its self-check cells."""
    notebook = nbformat.read(path, as_version=4)
    return [make_labs.exercise_label(cell.source) for cell in notebook.cells
            if "self-check" in tags(cell)]


def release_of(folder, path):
    lab = make_labs.lab_id(path)
    return nbformat.read(folder / lab / f"{lab}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def student_folder(chapter_runs):
    """The student release, written as `make student` does (no chapter runs)."""
    return chapter_runs.student_folder()


@pytest.fixture(scope="module")
def course_folder(chapter_runs):
    return chapter_runs.course_folder()


def test_student_folder_has_every_chapter_with_its_modules(student_folder):
    labs = sorted(make_labs.lab_id(path) for path in CHAPTERS)
    assert sorted(path.name for path in student_folder.iterdir()) == labs
    for lab in labs:
        names = sorted(path.name for path in (student_folder / lab).iterdir())
        assert names == sorted([f"{lab}.ipynb", *MODULES])
        for module in MODULES:
            assert (student_folder / lab / module).read_bytes() == (
                NOTEBOOKS / module).read_bytes(), f"{lab}/{module} is stale"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_student_notebook_has_no_solution_nor_hidden_test_left(
        student_folder, path):
    reference = nbformat.read(path, as_version=4)
    student = release_of(student_folder, path)
    nbformat.validate(student)
    solutions = [c for c in reference.cells if "solution" in tags(c)]
    checks = [c for c in student.cells if "self-check" in tags(c)]
    assert len(checks) == len(solutions) > 0
    solution_lines = set().union(*(meaningful_lines(c.source) for c in solutions))
    # A solution may repeat a line of the chapter (a learning-rate schedule, say);
    # that line stays in the chapter, but no stub may hold any solution line.
    chapter_lines = set().union(*(meaningful_lines(c.source) for c in reference.cells
                                  if "solution" not in tags(c)))
    stub_ids = {c.id for c in solutions}
    grading = make_labs.grading_path(path)
    hidden_lines = set()
    if grading.exists():
        hidden_lines = set().union(*(
            meaningful_lines(question["tests"])
            for question in make_labs.load_grading(grading).values()))
        hidden_lines -= chapter_lines
    for cell in student.cells:
        assert "solution" not in tags(cell)
        if cell.id in stub_ids:
            # The student's own cell is shown, code and outputs.
            hidden = HIDING_TAGS & set(tags(cell))
            assert not hidden, f"{path.name}: a student's cell is tagged {hidden}"
            assert cell.metadata["nbgrader"]["solution"] is True
        given_away = solution_lines - (set() if cell.id in stub_ids else chapter_lines)
        left = meaningful_lines(cell.source) & given_away
        assert not left, f"{path.name}: solution code left in a student cell: {left}"
        left = meaningful_lines(cell.source) & hidden_lines
        assert not left, f"{path.name}: hidden tests left in the release: {left}"
        for marker in make_labs.MARKERS:
            assert marker not in cell.source, f"{path.name}: {marker} left"
    assert "jupytext" not in student.metadata, "a student's copy is not paired"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_student_notebook_needs_no_grader(student_folder, path):
    """In Colab or offline, nothing of nbgrader runs: its metadata is inert."""
    student = release_of(student_folder, path)
    for cell in student.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(make_labs.python_source(cell.source))
        imported = {alias.name.split(".")[0]
                    for node in ast.walk(tree)
                    if isinstance(node, (ast.Import, ast.ImportFrom))
                    for alias in (node.names if isinstance(node, ast.Import)
                                  else [ast.alias(node.module or "")])}
        assert not imported & {"nbgrader", "otter"}, f"{path.name}: {cell.id}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_has_a_grading_file(path):
    grading = make_labs.grading_path(path)
    assert grading.exists(), (
        f"{path.name} has no grading file: write {make_labs.display_name(grading)} "
        f"(CONVENTIONS.md, 'Exercises and grading'): points and hidden tests for "
        f"each of its exercises {exercise_labels(path)}")
    questions = make_labs.chapter_questions(path, exercise_labels(path))
    assert sorted(questions) == sorted(exercise_labels(path))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_question_has_its_id_and_points_in_the_course(course_folder, path):
    lab = make_labs.lab_id(path)
    source = nbformat.read(course_folder / "source" / lab / f"{lab}.ipynb",
                           as_version=4)
    graded = {cell.metadata["nbgrader"]["grade_id"]:
              cell.metadata["nbgrader"].get("points") for cell in source.cells
              if cell.metadata.get("nbgrader", {}).get("grade")}
    grading = make_labs.grading_path(path)
    if not grading.exists():
        assert graded == {}, "a chapter without a grading file is not graded"
        pytest.skip(f"no {make_labs.display_name(grading)} yet")
    expected = {f"{lab}-ex{make_labs.exercise_number(label)}": question["points"]
                for label, question in make_labs.load_grading(grading).items()}
    assert graded == expected


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
    solutions = {make_labs.exercise_label(notebook.cells[index + 1].source):
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


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_hidden_tests_reject_the_stub_and_a_wrong_answer_and_pass_the_solution(
        chapter_runs, path):
    grading = make_labs.grading_path(path)
    if not grading.exists():
        pytest.skip(f"no {make_labs.display_name(grading)} yet (see "
                    f"test_every_chapter_has_a_grading_file)")
    run = chapter_runs[path.stem]
    assert run.error is None, f"{path.name} failed: {run.error}"
    labels = exercise_labels(path)
    assert list(run.hidden_tests) == labels
    problems = []
    for label, trials in run.hidden_tests.items():
        for trial in ("stub", "wrong answer"):
            result, message = trials.get(trial, ("not run", ""))
            # Failing through helpers.self_check, the feedback shows its message
            # only; any other exception would show the hidden tests' code.
            if result != "ExerciseNotSolved":
                problems.append(f"{label}, {trial}: the hidden tests gave {result} "
                                f"{message!r}, not ExerciseNotSolved")
            elif not message.startswith(f"{label} "):
                problems.append(f"{label}, {trial}: the hidden tests' message does "
                                f"not start with the label: {message!r}")
        result, message = trials.get("solution", ("not run", ""))
        if result != "passed":
            problems.append(f"{label}: the solution's hidden tests gave {result} "
                            f"{message!r}")
    assert not problems, f"{make_labs.display_name(grading)}:\n" + "\n".join(problems)
