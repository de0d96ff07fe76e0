"""tools/make_student.py on small notebooks: stubs, checks and a safe output folder.

Fast: no notebook is executed. Each test builds its chapters with nbformat in a
temporary folder.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import make_student  # noqa: E402

v4 = nbformat.v4
SOLUTION = 'answer = x.mean()\nprint("the mean is", answer)'
CHECK = ('helpers.self_check(\n    "Exercise 1",\n    lambda: answer == 2.0,\n'
         '    "answer should be the mean of x.",\n)')


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
        metadata={"jupytext": {"formats": "ipynb,py:percent"}, **metadata})
    return notebook


@pytest.fixture
def src(tmp_path, monkeypatch):
    """A folder of chapters, standing in for notebooks/ (with its helpers.py)."""
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "helpers.py").write_text("# helpers\n")
    (folder / "ae_blocks.py").write_text("# blocks\n")
    monkeypatch.setattr(make_student, "NOTEBOOKS", folder)
    return folder


def write(folder, name, notebook):
    path = folder / name
    if isinstance(notebook, (bytes, str)):
        path.write_bytes(notebook if isinstance(notebook, bytes) else notebook.encode())
    else:
        nbformat.write(notebook, path)
    return path


def run(capsys, *args):
    """Run the tool; return its exit status, stdout and stderr."""
    status = make_student.main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return status, out, err


def snapshot(folder):
    return {path.relative_to(folder): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_stub_replaces_the_solution_and_the_output_validates(src, tmp_path, capsys):
    write(src, "01_a.ipynb", chapter())
    out = tmp_path / "out"
    status, stdout, err = run(capsys, "--output", out)
    assert (status, err) == (0, "")
    assert stdout.split() == [str(out / "01_a.ipynb")]
    assert sorted(path.name for path in out.iterdir()) == [
        "01_a.ipynb", "ae_blocks.py", "helpers.py"]
    student = nbformat.read(out / "01_a.ipynb", as_version=4)
    nbformat.validate(student)
    cells = {cell.id: cell for cell in student.cells}
    stub = cells["sol-1"]
    assert "x.mean()" not in stub.source and "print(" not in stub.source
    assert all(line.startswith("#") for line in stub.source.splitlines())
    assert stub.source.startswith("# Exercise 1. Compute the mean of `x` as `answer`.")
    assert stub.source.endswith("# answer = ...")
    assert stub.metadata == {}
    assert (stub.outputs, stub.execution_count) == ([], None)
    assert cells["check-1"].source == CHECK
    assert cells["check-1"].metadata == {"tags": ["self-check"]}
    assert cells["before"].source == "**Exercise 1.** Your solution:"
    assert student.cells[1].id == "student-version"
    assert "jupytext" not in student.metadata
    assert (out / "helpers.py").read_text() == "# helpers\n"
    assert (out / "ae_blocks.py").read_text() == "# blocks\n"


def test_stub_keeps_other_tags_and_metadata_and_drops_old_hide_input(
        src, tmp_path, capsys):
    cell = solution_cell(metadata={
        "tags": ["solution", "hide-input", "remove-output"],
        "mystnb": {"code_prompt_show": "Show", "number_source_lines": True},
        "jupyter": {"source_hidden": True}})
    write(src, "01_a.ipynb", chapter(cell))
    status, _, err = run(capsys, "--output", tmp_path / "out")
    assert (status, err) == (0, "")
    student = nbformat.read(tmp_path / "out" / "01_a.ipynb", as_version=4)
    stub = next(cell for cell in student.cells if cell.id == "sol-1")
    assert stub.metadata == {"tags": ["remove-output"],
                             "mystnb": {"number_source_lines": True}}


def test_a_notebook_of_format_4_4_gets_cell_ids(src, tmp_path, capsys):
    notebook = chapter()
    notebook.nbformat_minor = 4
    for cell in notebook.cells:
        del cell["id"]
    write(src, "01_a.ipynb", json.dumps(notebook))
    status, _, err = run(capsys, "--output", tmp_path / "out")
    assert (status, err) == (0, "")
    student = nbformat.read(tmp_path / "out" / "01_a.ipynb", as_version=4)
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
    "duplicate cell ids": (duplicate_ids, ["cell 1 (id title)", "cell 0 has the same "
                                           "id"]),
    "already a student version": (already_a_student_version,
                                  ["cell 1 (id student-version)", "already a student"]),
    "duplicate exercise label": (duplicate_label, ["cell 7 (id check-2)",
                                                   "'Exercise 1' like that of cell 5"]),
}


@pytest.mark.parametrize("case", BAD_CHAPTERS)
def test_a_bad_chapter_is_named_and_leaves_the_old_output_intact(
        case, src, tmp_path, capsys):
    write(src, "01_good.ipynb", chapter())
    out = tmp_path / "out"
    assert run(capsys, "--output", out)[0] == 0
    (out / "my_notes.txt").write_text("a student's own file")
    before = snapshot(out)
    make, expected = BAD_CHAPTERS[case]
    write(src, "02_bad.ipynb", make())
    status, stdout, err = run(capsys, "--output", out)
    assert (status, stdout) == (1, "")
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert errors and all("02_bad.ipynb" in line for line in errors), err
    for text in expected:
        assert text in err, err
    assert snapshot(out) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out", "src"]


def test_every_problem_of_every_chapter_is_reported(src, tmp_path, capsys):
    write(src, "01_a.ipynb", markdown_solution())
    write(src, "02_b.ipynb", chapter(solution_cell(source="")))
    status, _, err = run(capsys, "--output", tmp_path / "out")
    assert status == 1
    assert "01_a.ipynb, cell 4 (id sol-md)" in err
    assert "02_b.ipynb, cell 4 (id sol-1): the solution cell is empty" in err
    assert not (tmp_path / "out").exists()


def test_a_new_run_replaces_the_chapters_and_keeps_other_files(src, tmp_path, capsys):
    write(src, "01_a.ipynb", chapter())
    write(src, "02_b.ipynb", chapter())
    out = tmp_path / "out"
    assert run(capsys, "--output", out)[0] == 0
    (out / "my_notes.txt").write_text("mine")
    (src / "02_b.ipynb").rename(src / "03_c.ipynb")
    assert run(capsys, "--output", out)[0] == 0
    names = sorted(path.name for path in out.iterdir())
    assert names == ["01_a.ipynb", "03_c.ipynb", "ae_blocks.py", "helpers.py",
                     "my_notes.txt"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out", "src"]
    # Chapters given by name replace only themselves.
    other = tmp_path / "other"
    other.mkdir()
    write(other, "09_z.ipynb", chapter())
    assert run(capsys, "--output", out, other / "09_z.ipynb")[0] == 0
    assert len(list(out.glob("*.ipynb"))) == 3


@pytest.mark.parametrize("where", ["src", "tmp", "foreign"])
def test_an_output_folder_that_is_not_ours_is_refused(where, src, tmp_path, capsys):
    write(src, "01_a.ipynb", chapter())
    out = {"src": src, "tmp": tmp_path, "foreign": tmp_path / "foreign"}[where]
    out.mkdir(exist_ok=True)
    (out / "thesis.tex").write_text("keep me")
    before = snapshot(tmp_path)
    status, _, err = run(capsys, "--output", out)
    assert status == 1 and "Traceback" not in err
    assert "expected a folder of its own" in err or "expected a new folder" in err
    assert snapshot(tmp_path) == before


def test_two_chapters_with_one_name_are_refused(src, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    paths = [write(src, "01_a.ipynb", chapter()), write(other, "01_a.ipynb", chapter())]
    status, _, err = run(capsys, "--output", tmp_path / "out", *paths)
    assert status == 1 and "would both be written to 01_a.ipynb" in err


def test_a_missing_notebook_is_named(src, tmp_path, capsys):
    status, _, err = run(capsys, "--output", tmp_path / "out", src / "07_none.ipynb")
    assert status == 1
    assert "07_none.ipynb: cannot read it: No such file or directory" in err


def test_exercise_label_reads_the_first_argument():
    assert make_student.exercise_label(CHECK) == "Exercise 1"
    with pytest.raises(ValueError, match="helpers.self_check"):
        make_student.exercise_label("assert answer == 2")


def test_the_command_exits_with_1_and_no_traceback(tmp_path):
    bad = write(tmp_path, "01_a.ipynb", markdown_solution())
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_student.py"),
         "--output", str(tmp_path / "out"), str(bad)],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "01_a.ipynb, cell 4 (id sol-md)" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
