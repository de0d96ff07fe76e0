"""Write the graded labs: an nbgrader course folder and the student release.

    python tools/make_labs.py [--output _build/student] [--course _build/labs]
                              [notebooks ...]

Reads notebooks/[0-9][0-9]_*.ipynb (or the notebooks given) and, for each, its
grading file grading/<notebook's stem>.py (CONVENTIONS.md, "Exercises and
grading"), and writes:

- the course folder (`--course`, default _build/labs), nbgrader's layout:
  nbgrader_config.py, and `source/NN/NN.ipynb` for chapter NN with helpers.py
  and ae_blocks.py beside it. In the source notebook each exercise is an
  nbgrader question: the solution cell is an answer cell, its solution between
  `### BEGIN SOLUTION` and `### END SOLUTION` under the exercise's text as
  comments and the names the answer must define; the self-check cell after it
  is the question's locked test cell, worth the grading file's points, with the
  grading file's hidden tests after the visible self-check, between
  `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`. Question ids are
  `NN-exK` (chapter NN, exercise K). Then `nbgrader generate_assignment` makes
  the release (`release/NN/`) and the gradebook (gradebook.db): nbgrader
  replaces each solution by a stub, drops the hidden tests, locks the test cells
  and computes the checksums with which it grades (tools/grade_labs.py).
- the student release (`--output`, default _build/student): `NN/NN.ipynb` with
  helpers.py and ae_blocks.py, a copy of the course's `release/NN/`, to hand out
  as it is. The notebooks need no nbgrader: they carry its metadata only, and
  run in Jupyter, Colab and offline like the chapters, each visible self-check
  saying what is missing until the answer is right.

A chapter without a grading file is released ungraded: its self-checks are
locked but worth no points, and this tool says so on stdout.

Every notebook read and written is checked against the notebook format, and the
grading files against the chapters' exercises. Everything is first written into
temporary folders beside the outputs, which replace them only when every
chapter succeeded: on any problem the previous outputs are left as they were,
each problem is printed on stderr with the notebook and the cell (its index,
counting from 0, and its id) or the grading file, and the exit status is 1.
Files in the output folders that this tool did not write (a student's own work)
are kept. Chapters given by name replace only themselves.
"""

from __future__ import annotations

import argparse
import ast
import copy
import fnmatch
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
GRADING = ROOT / "grading"
CHAPTER_PATTERN = "[0-9][0-9]_*.ipynb"
LAB_PATTERN = re.compile(r"^\d\d$")
# The course's modules, beside every lab notebook (the first cell of a chapter
# downloads them only when they are missing).
MODULES = ("helpers.py", "ae_blocks.py")
# Tags that hide a solution on the site: "hide-cell" now, "hide-input" before.
SOLUTION_TAGS = ("solution", "hide-cell", "hide-input")
# Cell metadata that labels the toggle of a hidden solution on the site.
PROMPT_KEYS = ("code_prompt_show", "code_prompt_hide")
# nbgrader's markers (matched anywhere in a line, in every cell).
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
           "BEGIN MARK SCHEME", "END MARK SCHEME")
# What nbgrader leaves in place of a solution (nbgrader_config.py below).
CODE_STUB = "# YOUR CODE HERE"
MIN_POINTS, MAX_POINTS = 1, 3
NOTE_ID = "student-version"
WIDTH = 88
NOTE = """\
**Student version.** The solution of each exercise is replaced by a cell for you
to complete; the cell after it checks your answer and says what is missing until
it is right."""
COURSE_ID = "autoencoders-hands-on"
NBGRADER_CONFIG = f'''\
"""nbgrader's configuration of the course's graded labs.

Written by tools/make_labs.py (`make student`); tools/grade_labs.py (`make grade`)
grades with it. With nbgrader's own commands, run them in this folder with
AE_BOOK_QUICK=1 set, so that the chapters train in quick mode:
    AE_BOOK_QUICK=1 TF_CPP_MIN_LOG_LEVEL=3 nbgrader autograde 01
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "{COURSE_ID}"
# A solution becomes this line; the exercise's text and the names to define stay
# above it, and no `raise NotImplementedError()`: the self-check then says what
# is missing.
c.ClearSolutions.code_stub = {{"python": "{CODE_STUB}"}}
# Seconds per cell when grading: quick mode trains a chapter's models in well
# under a minute; a student's endless loop is interrupted (that question's 0).
c.Execute.timeout = 300
# A test cell with any stderr output scores 0. The warnings of TensorFlow, Keras
# and Python that a correct answer can set off are not the student's failure:
# they are dropped. The hidden tests fail by raising.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (r"(?m)Warning|WARNING|^[IWEF]\\d{{4}} "
                           r"|^\\d{{4}}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d")
# Feedback shows the student's notebook with the grades, never the hidden tests.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests,
                                    CSSHTMLHeaderPreprocessor]
# Submissions: <student>_NN.ipynb, alone or in zip files (nbgrader zip_collect).
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[^/]+)_(?P<file_id>\\d\\d)\\.ipynb$")
'''


class NotebookProblem(Exception):
    """Bad input that the tool explains without a traceback, one line a problem."""

    def __init__(self, messages):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


def tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def where(name: str, index: int, cell) -> str:
    """Name a cell in a message: notebook, index and id."""
    cell_id = cell.get("id") if isinstance(cell, dict) else None
    return f"{name}, cell {index} " + (f"(id {cell_id})" if cell_id else "(no id)")


def shorten(text: str, limit: int = 240) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def validation_problems(notebook, name: str, what: str) -> list[str]:
    """Return what makes a notebook invalid, each naming the cell concerned."""
    problems = []
    cells = notebook.get("cells")
    version = (notebook.get("nbformat"), notebook.get("nbformat_minor"))
    # nbformat.validate fails with a TypeError, not a ValidationError, on these.
    if version[0] not in (3, 4):
        return [f"{name}: {what}: notebook format {version[0]!r}; expected 4 (or 3)"]
    if type(version[1]) is not int:
        found = (f"is {version[1]!r}" if "nbformat_minor" in notebook
                 else "is missing")
        return [f"{name}: {what}: 'nbformat_minor' {found}; expected an integer"]
    if version[0] == 4 and not isinstance(cells, list):
        return [f"{name}: {what}: 'cells' is {shorten(repr(cells), 40)}; expected a "
                f"list of cells"]
    if version[0] == 4:
        problems = [f"{name}, cell {index}: {what}: {shorten(repr(cell), 40)}; "
                    f"expected a JSON object" for index, cell in enumerate(cells)
                    if not isinstance(cell, dict)]
    if problems:
        return problems
    if version >= (4, 5):
        # nbformat.validate would silently repair these; a stub is matched to its
        # solution by the cell id, so they are errors here.
        seen: dict[str, int] = {}
        for index, cell in enumerate(cells):
            cell_id = cell.get("id")
            if "id" not in cell:
                problems.append(f"{where(name, index, cell)}: {what}: the cell has no "
                                f"id; expected one in every cell of a notebook of "
                                f"format 4.5 or later")
            elif isinstance(cell_id, str) and cell_id in seen:
                problems.append(f"{where(name, index, cell)}: {what}: cell "
                                f"{seen[cell_id]} has the same id; expected unique "
                                f"cell ids")
            elif isinstance(cell_id, str):
                seen[cell_id] = index
    if problems:
        return problems
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(copy.deepcopy(notebook))
    except nbformat.ValidationError as error:
        path = list(getattr(error, "absolute_path", []))
        message = shorten(getattr(error, "message", error))
        if (len(path) >= 2 and path[0] == "cells" and isinstance(path[1], int)
                and isinstance(cells, list) and path[1] < len(cells)):
            rest = ".".join(map(str, path[2:]))
            at = f" (in the cell's {rest})" if rest else ""
            return [f"{where(name, path[1], cells[path[1]])}: {what}: {message}{at}"]
        at = f" (at {'.'.join(map(str, path))})" if path else ""
        return [f"{name}: {what}: {message}{at}"]
    except (TypeError, KeyError, AttributeError, AssertionError) as error:
        # Any other shape nbformat cannot even walk through.
        return [f"{name}: {what}: {type(error).__name__}: {shorten(error)}"]
    return []


def load(path: Path, name: str):
    """Read and validate a notebook; return it in format 4.5 or later."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise NotebookProblem(f"{name}: cannot read it: {error.strerror or error}")
    try:
        text = data.decode("utf-8")
        content = json.loads(text)
    except UnicodeDecodeError as error:
        raise NotebookProblem(f"{name}: not a notebook: byte {error.start} is not "
                              f"UTF-8 text; expected an .ipynb file (JSON)")
    except json.JSONDecodeError as error:
        raise NotebookProblem(f"{name}: not a notebook: invalid JSON at line "
                              f"{error.lineno}, column {error.colno} ({error.msg}); "
                              f"expected an .ipynb file (is it truncated?)")
    if not isinstance(content, dict) or type(content.get("nbformat")) is not int:
        raise NotebookProblem(f"{name}: not a notebook: expected a JSON object with "
                              f"an integer 'nbformat' field")
    problems = validation_problems(nbformat.from_dict(content), name,
                                   "not a valid notebook")
    if problems:
        raise NotebookProblem(problems)
    # Joins each source into one string, and converts format 3.
    notebook = nbformat.reads(text, as_version=4)
    if notebook.nbformat_minor < 5:
        # Cell ids came with format 4.5; the student-version note has one.
        notebook = nbformat.v4.upgrade(notebook, from_version=4,
                                       from_minor=notebook.nbformat_minor)
    return notebook


def python_source(source: str) -> str:
    """Return a cell's source with IPython line magics and shell lines as `pass`."""
    return "\n".join(re.sub(r"^(\s*)[%!].*", r"\1pass", line)
                     for line in source.splitlines())


def exercise_texts(notebook) -> dict[str, str]:
    """Return the numbered items under "## Exercises", by number, on one line."""
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    if "## Exercises" not in markdown:
        return {}
    items: dict[str, list[str]] = {}
    current = None
    for line in markdown.split("## Exercises", 1)[1].splitlines():
        start = re.match(r"^(\d+)\.\s+(.*)", line)
        if start:
            current = start.group(1)
            items[current] = [start.group(2)]
        elif current and line.startswith((" ", "\t")) and line.strip():
            items[current].append(line.strip())
        else:
            current = None
    return {number: " ".join(lines) for number, lines in items.items()}


def self_check_call(source: str):
    """Return the `helpers.self_check(...)` call of a self-check cell, or None."""
    for node in ast.walk(ast.parse(python_source(source))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "self_check"):
            return node
    return None


def exercise_label(source: str) -> str:
    """Return the first argument of a self-check cell's call ("Exercise 2")."""
    call = self_check_call(source)
    if call is None or not call.args or not isinstance(call.args[0], ast.Constant):
        raise ValueError("a self-check cell must call helpers.self_check('...', ...)")
    return str(call.args[0].value)


def exercise_number(label: str) -> int | None:
    """Return K of the label "Exercise K", or None."""
    match = re.fullmatch(r"Exercise ([1-9]\d*)", label)
    return int(match.group(1)) if match else None


def lab_id(path: Path) -> str:
    """Return a chapter's lab id: its two-digit number ("01")."""
    return path.name[:2]


def question_id(lab: str, label: str) -> str:
    """Return the stable id of an exercise's question: "01-ex2"."""
    return f"{lab}-ex{exercise_number(label)}"


def answer_names(solution: str, check: str) -> list[str]:
    """Return the names the solution defines and the self-check reads, in order."""
    defined = set()
    for node in ast.walk(ast.parse(python_source(solution))):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
    call = self_check_call(check)
    used = [node.id for arg in (call.args[1:2] if call else [])
            for node in ast.walk(arg) if isinstance(node, ast.Name)]
    return list(dict.fromkeys(name for name in used if name in defined))


def stub_header(label: str, text: str, names: list[str]) -> str:
    """Return the comments above a solution: the exercise, and what to define.

    They stay in the student's cell, above nbgrader's stub.
    """
    lines = textwrap.wrap(f"{label}. {text}" if text else f"{label}: see above.",
                          WIDTH - 2)
    lines.append("")
    if names:
        quoted = [f"`{name}`" for name in names]
        listed = (quoted[0] if len(quoted) == 1
                  else ", ".join(quoted[:-1]) + f" and {quoted[-1]}")
        lines += textwrap.wrap(f"Define {listed}, then run the next cell to check "
                               "your answer.", WIDTH - 2)
    else:
        lines.append("Write your answer, then run the next cell to check it.")
    comments = [f"# {line}".rstrip() for line in lines]
    return "\n".join(comments + [f"# {name} = ..." for name in names])


def syntax_problem(source: str) -> str | None:
    """Return why a cell is not Python, or None."""
    try:
        ast.parse(python_source(source))
    except SyntaxError as error:
        return f"line {error.lineno}: {error.msg}"
    return None


def solution_problems(cells, index: int, name: str) -> list[str]:
    """Return what is wrong with the solution cell at `index` and its self-check."""
    cell = cells[index]
    here = where(name, index, cell)
    if cell.cell_type != "code":
        return [f"{here}: a {cell.cell_type} cell is tagged `solution`; expected the "
                f"tag on the code cell that answers the exercise"]
    problems = []
    error = syntax_problem(cell.source)
    if error:
        problems.append(f"{here}: the solution is not valid Python ({error})")
    elif not ast.parse(python_source(cell.source)).body:
        problems.append(f"{here}: the solution cell is empty; expected the code "
                        f"that answers the exercise")
    check = cells[index + 1] if index + 1 < len(cells) else None
    if check is None:
        return problems + [f"{here}: the solution cell ends the notebook; expected a "
                           f"code cell tagged `self-check` right after it"]
    there = where(name, index + 1, check)
    if check.cell_type != "code" or "self-check" not in tags(check):
        found = f"a {check.cell_type} cell tagged {tags(check)}"
        return problems + [f"{there}: expected a code cell tagged `self-check` after "
                           f"the solution of cell {index}, found {found}"]
    error = syntax_problem(check.source)
    if error:
        return problems + [f"{there}: the self-check is not valid Python ({error})"]
    try:
        label = exercise_label(check.source)
    except ValueError:
        return problems + [f"{there}: the self-check must call "
                           f"helpers.self_check('Exercise N', ...) with the "
                           f"exercise's label as its first argument"]
    if exercise_number(label) is None:
        problems.append(f"{there}: the self-check is labelled {label!r}; expected "
                        f"'Exercise N', which gives the question its id")
    return problems


def marker_problems(cells, name: str) -> list[str]:
    """Return the cells that hold one of nbgrader's markers (they would break it)."""
    problems = []
    for index, cell in enumerate(cells):
        found = [marker for marker in MARKERS if marker in cell.source]
        if found:
            problems.append(f"{where(name, index, cell)}: holds nbgrader's marker "
                            f"{found[0]!r}; expected no such text in a chapter "
                            f"(nbgrader matches it anywhere)")
    return problems


def clean_stub_metadata(cell) -> None:
    """Drop from an answer cell what hid the solution on the site and in Jupyter."""
    metadata = cell.metadata
    kept = [tag for tag in metadata.get("tags", []) if tag not in SOLUTION_TAGS]
    if kept:
        metadata["tags"] = kept
    else:
        metadata.pop("tags", None)
    mystnb = metadata.get("mystnb")
    if isinstance(mystnb, dict):
        for key in PROMPT_KEYS:
            mystnb.pop(key, None)
        if not mystnb:
            metadata.pop("mystnb")
    jupyter = metadata.get("jupyter")
    if isinstance(jupyter, dict):
        jupyter.pop("source_hidden", None)
        jupyter.pop("outputs_hidden", None)
        if not jupyter:
            metadata.pop("jupyter")


def nbgrader_metadata(grade_id: str, *, solution=False, grade=False, locked=False,
                      points=None) -> dict:
    """Return a cell's `nbgrader` metadata (schema 3, grader_study.md's table)."""
    metadata = {"schema_version": 3, "grade": grade, "solution": solution,
                "locked": locked, "grade_id": grade_id}
    if grade:
        metadata["points"] = points
    return metadata


# ------------------------------------------------------------------ grading files


def grading_path(path: Path) -> Path:
    """Return the grading file of a chapter: grading/<stem>.py."""
    return GRADING / f"{path.stem}.py"


def load_grading(path: Path, name: str | None = None) -> dict:
    """Return a grading file's QUESTIONS, checked for shape (not against a chapter)."""
    name = name or display_name(path)
    spec = importlib.util.spec_from_file_location(f"grading_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        raise NotebookProblem(f"{name}: not valid Python (line {error.lineno}: "
                              f"{error.msg})")
    except Exception as error:  # The file is ours, but say which one broke.
        raise NotebookProblem(f"{name}: importing it raised {type(error).__name__}: "
                              f"{shorten(error)}")
    questions = getattr(module, "QUESTIONS", None)
    if not isinstance(questions, dict) or not questions:
        raise NotebookProblem(f"{name}: expected QUESTIONS = {{'Exercise 1': "
                              f"{{'points': 2, 'tests': '''...'''}}, ...}}")
    problems = []
    for label, question in questions.items():
        at = f"{name}: {label!r}"
        if not isinstance(label, str) or exercise_number(label) is None:
            problems.append(f"{name}: the key {label!r} is not an exercise's label; "
                            f"expected 'Exercise N'")
            continue
        if not isinstance(question, dict) or set(question) != {"points", "tests"}:
            found = sorted(question) if isinstance(question, dict) else type(
                question).__name__
            problems.append(f"{at}: expected a dict with the keys 'points' and "
                            f"'tests', found {found}")
            continue
        points, tests = question["points"], question["tests"]
        if type(points) is not int or not MIN_POINTS <= points <= MAX_POINTS:
            problems.append(f"{at}: 'points' is {points!r}; expected a whole number "
                            f"from {MIN_POINTS} to {MAX_POINTS}")
        if not isinstance(tests, str) or not tests.strip():
            problems.append(f"{at}: 'tests' is empty; expected the hidden tests' "
                            f"code")
            continue
        error = syntax_problem(tests)
        if error:
            problems.append(f"{at}: the hidden tests are not valid Python ({error})")
        found = [marker for marker in MARKERS if marker in tests]
        if found:
            problems.append(f"{at}: the hidden tests hold nbgrader's marker "
                            f"{found[0]!r}; the tool adds the markers itself")
    if problems:
        raise NotebookProblem(problems)
    return questions


def chapter_questions(path: Path, labels: list[str]) -> dict | None:
    """Return a chapter's questions, checked against its exercises, or None.

    None when the chapter has no grading file (it is released ungraded).
    """
    grading = grading_path(path)
    if not grading.exists():
        return None
    name = display_name(grading)
    questions = load_grading(grading, name)
    problems = [f"{name}: no entry for {label!r}; expected one for every exercise "
                f"of {display_name(path)}"
                for label in labels if label not in questions]
    problems += [f"{name}: {label!r} is not an exercise of {display_name(path)} "
                 f"(its exercises: {', '.join(labels) or 'none'})"
                 for label in questions if label not in labels]
    if problems:
        raise NotebookProblem(problems)
    return questions


# --------------------------------------------------------------- source notebooks


def source_notebook(notebook, name: str = "notebook", lab: str = "01",
                    questions: dict | None = None):
    """Return nbgrader's source version of a chapter (solutions and hidden tests).

    `questions` is the chapter's grading file's QUESTIONS, or None for a chapter
    released ungraded. Raises NotebookProblem, listing every problem found, if a
    solution or its self-check is malformed.
    """
    notebook = nbformat.from_dict(copy.deepcopy(notebook))
    cells = notebook.cells
    problems = [f"{where(name, index, cell)}: this is already a student version "
                f"(it has the cell {NOTE_ID!r}); expected a chapter with its solutions"
                for index, cell in enumerate(cells) if cell.get("id") == NOTE_ID]
    problems += marker_problems(cells, name)
    solutions = [index for index, cell in enumerate(cells) if "solution" in tags(cell)]
    for index in solutions:
        problems += solution_problems(cells, index, name)
    if problems:
        raise NotebookProblem(problems)
    labels: dict[str, int] = {}
    for index in solutions:
        label = exercise_label(cells[index + 1].source)
        if label in labels:
            problems.append(f"{where(name, index + 1, cells[index + 1])}: the "
                            f"self-check is labelled {label!r} like that of cell "
                            f"{labels[label] + 1}; expected one label per exercise")
        labels.setdefault(label, index)
    if problems:
        raise NotebookProblem(problems)
    texts = exercise_texts(notebook)
    for index in solutions:
        cell, check = cells[index], cells[index + 1]
        label = exercise_label(check.source)
        qid = question_id(lab, label)
        header = stub_header(label, texts.get(str(exercise_number(label)), ""),
                             answer_names(cell.source, check.source))
        cell.source = "\n".join([header, BEGIN_SOLUTION, cell.source.strip("\n"),
                                 END_SOLUTION])
        cell.outputs, cell.execution_count = [], None
        clean_stub_metadata(cell)
        cell.metadata["nbgrader"] = nbgrader_metadata(f"{qid}-answer", solution=True)
        if questions is None:
            check.metadata["nbgrader"] = nbgrader_metadata(qid, locked=True)
        else:
            question = questions[label]
            check.source = "\n".join([check.source.rstrip("\n"), BEGIN_HIDDEN,
                                      question["tests"].strip("\n"), END_HIDDEN])
            check.metadata["nbgrader"] = nbgrader_metadata(
                qid, grade=True, locked=True, points=question["points"])
        check.outputs, check.execution_count = [], None
        before = cells[index - 1] if index else None
        if before is not None and before.cell_type == "markdown":
            before.source = re.sub(r"\bA solution\b", "Your solution", before.source)
    cells.insert(1, nbformat.v4.new_markdown_cell(NOTE, id=NOTE_ID))
    # A student's copy is not paired with a text file.
    notebook.metadata.pop("jupytext", None)
    return notebook


def display_name(path: Path) -> str:
    """Return a path as a reader recognises it: relative to the project if inside."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------ output folders


def is_lab_folder(path: Path) -> bool:
    """Whether `path` is a lab of a release: NN/ holding NN.ipynb."""
    return (path.is_dir() and LAB_PATTERN.match(path.name) is not None
            and (path / f"{path.name}.ipynb").exists())


def looks_like_release(folder: Path) -> bool:
    """Whether a folder was written by this tool (or by make_student.py before)."""
    return (any(is_lab_folder(entry) for entry in folder.iterdir())
            or any(folder.glob(CHAPTER_PATTERN)) or (folder / "helpers.py").exists())


def looks_like_course(folder: Path) -> bool:
    return (folder / "nbgrader_config.py").exists() or (folder / "source").is_dir()


def output_problems(output: Path, paths: list[Path], what: str, ours) -> list[str]:
    """Return why `output` cannot be replaced by a folder of this tool."""
    if output.exists() and not output.is_dir():
        return [f"{output} exists and is not a folder; expected a folder for the "
                f"{what}"]
    sources = ({NOTEBOOKS.resolve(), GRADING.resolve()}
               | {path.resolve().parent for path in paths})
    for folder in sorted(sources):
        if output == folder or output in folder.parents:
            return [f"the output folder {output} holds the chapters ({folder}); "
                    f"expected a folder of its own, such as _build/student"]
    if output in ROOT.parents:
        return [f"the output folder {output} holds the project; expected a folder "
                f"of its own, such as _build/student"]
    if output.is_dir() and any(output.iterdir()) and not ours(output):
        return [f"{output} is not empty and holds no {what} of this tool; expected "
                f"a new folder or one this tool wrote"]
    return []


def new_folder_mode(output: Path) -> int:
    """Return the permissions the output folder has, or that a new folder gets."""
    if output.is_dir():
        return output.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def kept_entries(output: Path, stage: Path, removable, descend) -> list[str]:
    """Return the paths in `output` (relative) that the new folder must keep.

    Kept: every entry the stage does not have, unless `removable(entry)`; and,
    inside a folder that both have and that `descend(entry)` accepts, the
    entries that the stage does not have (a student's notes in a lab's folder).
    """
    keep = []
    if not output.is_dir():
        return keep
    for entry in sorted(output.iterdir()):
        staged = stage / entry.name
        if not staged.exists():
            if not removable(entry):
                keep.append(entry.name)
        elif entry.is_dir() and staged.is_dir() and descend(entry):
            keep += [f"{entry.name}/{inner.name}" for inner in sorted(entry.iterdir())
                     if not (staged / inner.name).exists()]
    return keep


def swap_in(stage: Path, output: Path, keep: list[str]) -> None:
    """Make `stage` the output folder, moving the entries `keep` of the old one."""
    if not output.exists():
        os.rename(stage, output)
        return
    moved: list[str] = []
    backup = None
    try:
        for entry in keep:
            os.rename(output / entry, stage / entry)
            moved.append(entry)
        backup = Path(tempfile.mkdtemp(prefix=f".{output.name}.old-",
                                       dir=output.parent))
        # Renaming a folder onto an empty one replaces it.
        os.rename(output, backup)
        os.rename(stage, output)
    except OSError:
        if backup is not None and backup.exists() and not output.exists():
            os.rename(backup, output)
        for entry in moved:
            os.rename(stage / entry, output / entry)
        if backup is not None and backup.exists():
            backup.rmdir()
        raise
    shutil.rmtree(backup, ignore_errors=True)


# ----------------------------------------------------------------------- nbgrader


def nbgrader_environment() -> dict:
    """The environment nbgrader runs in: this Python's scripts first on PATH.

    nbgrader runs `alembic` by name when it creates a gradebook.
    """
    scripts = str(Path(sys.executable).parent)
    return dict(os.environ, PATH=os.pathsep.join([scripts, os.environ.get("PATH", "")]))


def generate_assignments(course: Path) -> None:
    """Run `nbgrader generate_assignment` on every lab of a course folder, at once."""
    try:
        process = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", "*",
             "--force", "--log-level=WARN"],
            cwd=course, env=nbgrader_environment(), capture_output=True, text=True,
            timeout=900)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NotebookProblem(f"nbgrader generate_assignment could not run: {error}")
    if process.returncode != 0:
        log = "\n".join((process.stderr or process.stdout).strip().splitlines()[-15:])
        if "No module named nbgrader" in log:
            raise NotebookProblem("nbgrader is not installed in this Python; install "
                                  "requirements.txt (make venv)")
        raise NotebookProblem(f"nbgrader generate_assignment failed:\n{log}")


def write_course(paths: list[Path], stage: Path, keep_from: Path | None,
                 problems: list[str]) -> list[str]:
    """Write the course's nbgrader_config.py and source notebooks into `stage`.

    Returns what the tool printed about ungraded chapters. Labs of `keep_from`
    (the old course folder) that are not among `paths` are copied along.
    """
    notes = []
    (stage / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    source = stage / "source"
    source.mkdir()
    for path in paths:
        name = display_name(path)
        lab = lab_id(path)
        try:
            chapter = load(path, name)
            # The chapter first: its problems are reported before its grading's.
            source_notebook(chapter, name, lab, None)
            labels = [exercise_label(chapter.cells[index + 1].source)
                      for index, cell in enumerate(chapter.cells)
                      if "solution" in tags(cell)]
            questions = chapter_questions(path, labels)
            notebook = source_notebook(chapter, name, lab, questions)
            what = "the lab's source would not be a valid notebook"
            invalid = validation_problems(notebook, name, what)
            if invalid:
                raise NotebookProblem(invalid)
            folder = source / lab
            folder.mkdir()
            nbformat.write(notebook, folder / f"{lab}.ipynb")
            for module in MODULES:
                shutil.copy(NOTEBOOKS / module, folder / module)
            if questions is None:
                notes.append(f"{name}: released ungraded: no grading file "
                             f"({display_name(grading_path(path))})")
        except NotebookProblem as problem:
            problems += problem.messages
    if keep_from is not None and (keep_from / "source").is_dir():
        for old in sorted((keep_from / "source").iterdir()):
            if is_lab_folder(old) and not (source / old.name).exists():
                shutil.copytree(old, source / old.name)
    return notes


def write_labs(paths: list[Path], output: Path, course: Path, replace_all: bool):
    """Write the course folder and the student release; return the lab ids and notes."""
    output, course = output.resolve(), course.resolve()
    problems = output_problems(output, paths, "student notebooks", looks_like_release)
    problems += output_problems(course, paths, "course folder", looks_like_course)
    if output == course or output in course.parents or course in output.parents:
        problems.append(f"the student folder {output} and the course folder {course} "
                        f"must be apart: the course holds the hidden tests")
    labs: dict[str, Path] = {}
    for path in paths:
        lab = lab_id(path)
        if not LAB_PATTERN.match(lab):
            problems.append(f"{display_name(path)}: expected a chapter's name to "
                            f"start with its two-digit number")
        elif lab in labs:
            problems.append(f"{display_name(path)} and {display_name(labs[lab])} "
                            f"would both be lab {lab}; expected one chapter per "
                            f"number")
        labs[lab] = path
    if problems:
        raise NotebookProblem(problems)
    stages = []
    try:
        for folder in (course, output):
            folder.parent.mkdir(parents=True, exist_ok=True)
            stages.append(Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-",
                                                dir=folder.parent)))
    except OSError as error:
        for stage in stages:
            shutil.rmtree(stage, ignore_errors=True)
        raise NotebookProblem(f"cannot write next to {folder}: "
                              f"{error.strerror or error}")
    course_stage, student_stage = stages
    try:
        notes = write_course(paths, course_stage, None if replace_all else course,
                             problems)
        if problems:
            raise NotebookProblem(problems)
        generate_assignments(course_stage)
        written = sorted(entry.name for entry in (course_stage / "release").iterdir())
        for lab in written:
            release = course_stage / "release" / lab
            name = f"{lab}/{lab}.ipynb (student version)"
            released = load(release / f"{lab}.ipynb", name)
            invalid = validation_problems(released, name, "not a valid notebook")
            if invalid:
                raise NotebookProblem(invalid)
            shutil.copytree(release, student_stage / lab)
        for stage, folder in zip(stages, (course, output)):
            os.chmod(stage, new_folder_mode(folder))

        def removable(entry: Path) -> bool:
            # A lab that is no more, unless a student keeps files in it, or a
            # student notebook of make_student.py (the former layout).
            ours = {f"{entry.name}.ipynb", *MODULES}
            return replace_all and (
                (is_lab_folder(entry) and all(inner.name in ours
                                              for inner in entry.iterdir()))
                or entry.name in MODULES
                or (entry.is_file() and fnmatch.fnmatch(entry.name, CHAPTER_PATTERN)))

        swap_in(course_stage, course, kept_entries(
            course, course_stage, removable=lambda entry: False,
            descend=lambda entry: False))
        swap_in(student_stage, output, kept_entries(
            output, student_stage, removable, descend=is_lab_folder))
    except OSError as error:
        raise NotebookProblem(f"cannot write the labs into {output} and {course}: "
                              f"{error.strerror or error} ({error.filename})")
    finally:
        for stage in stages:
            shutil.rmtree(stage, ignore_errors=True)
    return written, notes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapters to release (default: all of notebooks/)")
    parser.add_argument("--output", type=Path, default=ROOT / "_build" / "student",
                        help="folder of the student release (default: _build/student)")
    parser.add_argument("--course", type=Path, default=ROOT / "_build" / "labs",
                        help="nbgrader course folder, with the hidden tests "
                             "(default: _build/labs)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob(CHAPTER_PATTERN))
    if not paths:
        parser.error(f"no chapter notebooks in {NOTEBOOKS}")
    try:
        # With no notebooks given, a chapter renamed or removed since the last run
        # must not linger in the output.
        labs, notes = write_labs(paths, args.output, args.course,
                                 replace_all=not args.notebooks)
    except NotebookProblem as problem:
        for message in problem.messages:
            print(f"make_labs: error: {message}", file=sys.stderr)
        print(f"make_labs: nothing written; {args.output} and {args.course} are as "
              f"they were.", file=sys.stderr)
        return 1
    for note in notes:
        print(f"make_labs: {note}")
    for lab in labs:
        print(args.output / lab / f"{lab}.ipynb")
    return 0


if __name__ == "__main__":
    sys.exit(main())
