"""The student notebooks of `make student`: no solution left, every self-check works.

One kernel per chapter, in quick mode: the chapter runs top to bottom once, and
at each exercise the kernel first runs the stub and the self-check (which must
fail with ExerciseNotSolved, as it does for a student), then the reference
solution and the self-check again (which must pass).
"""

from __future__ import annotations

import copy
import re
import sys

import nbformat
import pytest
from conftest import NOTEBOOKS, ROOT

sys.path.insert(0, str(ROOT / "tools"))
import make_student  # noqa: E402

CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def meaningful_lines(source: str) -> set[str]:
    """Return the lines of a cell that would give a solution away."""
    return {line.strip() for line in source.splitlines()
            if re.search(r"\w{2}", line)}


@pytest.fixture(scope="module")
def student_folder(tmp_path_factory):
    """Run the generator as `make student` does, into a temporary folder."""
    output = tmp_path_factory.mktemp("student")
    assert make_student.main(["--output", str(output)]) == 0
    return output


def test_student_folder_has_every_chapter_and_helpers(student_folder):
    names = sorted(path.name for path in student_folder.iterdir())
    assert names == sorted([path.name for path in CHAPTERS] + ["helpers.py"])


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
        assert "solution" not in tags(cell) and "hide-input" not in tags(cell)
        given_away = solution_lines - (set() if cell.id in stub_ids else chapter_lines)
        left = meaningful_lines(cell.source) & given_away
        assert not left, f"{path.name}: solution code left in a student cell: {left}"
    assert "jupytext" not in student.metadata, "a student's copy is not paired"


def run_chapter_with_stubs(path, student_path, tmp_path, monkeypatch):
    """Run the chapter in one kernel; return, per exercise, what its checks did."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("AE_BOOK_QUICK", "1")
    monkeypatch.setenv("AE_BOOK_RESULTS", str(tmp_path / "results.json"))
    reference = nbformat.read(path, as_version=4)
    student = nbformat.read(student_path, as_version=4)
    stubs = {c.id: c for c in student.cells}
    # The client keeps its own copy, where it stores each cell it runs.
    client = NotebookClient(copy.deepcopy(reference), timeout=1800,
                            kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    outcomes = []
    with client.setup_kernel():
        for index, cell in enumerate(reference.cells):
            if "solution" in tags(cell):
                check = reference.cells[index + 1]
                label = make_student.exercise_label(check.source)
                client.execute_cell(stubs[cell.id], index)
                try:
                    client.execute_cell(copy.deepcopy(check), index + 1)
                    outcomes.append((label, "stub", "passed", ""))
                except CellExecutionError as error:
                    outcomes.append((label, "stub", error.ename, error.evalue))
            if cell.cell_type == "code":
                # Raises CellExecutionError, and fails the test, on any error.
                client.execute_cell(cell, index)
                if "self-check" in tags(cell):
                    outcomes.append((label, "solution", "passed", ""))
    return outcomes


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_self_checks_pass_with_the_solution_and_fail_with_the_stub(
        student_folder, path, tmp_path, monkeypatch):
    outcomes = run_chapter_with_stubs(path, student_folder / path.name, tmp_path,
                                      monkeypatch)
    labels = {label for label, *_ in outcomes}
    assert labels and len(outcomes) == 2 * len(labels)
    for label, cell, result, message in outcomes:
        if cell == "solution":
            assert result == "passed"
        else:
            assert result == "ExerciseNotSolved", (
                f"{path.name}, {label}: the stub's self-check gave {result} "
                f"{message!r}, not ExerciseNotSolved"
            )
            assert message.startswith(f"{label}: "), message
