"""Write the student version of every chapter: exercise solutions become stubs.

    python tools/make_student.py [--output _build/student] [notebooks ...]

Reads notebooks/[0-9][0-9]_*.ipynb (or the notebooks given) and writes each to
the output folder, with helpers.py and ae_blocks.py beside them. In each, every
cell tagged `solution` is replaced by a stub: the exercise's text as comments,
the names of the answer variables to define, and those assignments commented out
(`# name = ...`), so that the self-check cell after it, which is kept, fails
with its message until the student writes the answer. The answer variables are
the names that the solution cell assigns and its self-check uses.

Every notebook read and written is checked against the notebook format. All
files are first written into a temporary folder beside the output, which
replaces the output folder only when every chapter succeeded: on any problem,
the previous student notebooks are left as they were, each problem is printed
on stderr with the notebook and the cell (its index, counting from 0, and its
id), and the exit status is 1. Files in the output folder that this tool did
not write (a student's own work) are kept.
"""

from __future__ import annotations

import argparse
import ast
import copy
import fnmatch
import json
import os
import re
import shutil
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CHAPTER_PATTERN = "[0-9][0-9]_*.ipynb"
# The modules every chapter imports, copied beside the student notebooks.
MODULES = ("helpers.py", "ae_blocks.py")
# Tags that hide a solution on the site: "hide-cell" now, "hide-input" before.
SOLUTION_TAGS = ("solution", "hide-cell", "hide-input")
# Cell metadata that labels the toggle of a hidden solution on the site.
PROMPT_KEYS = ("code_prompt_show", "code_prompt_hide")
NOTE_ID = "student-version"
WIDTH = 88
NOTE = """\
**Student version.** The solution of each exercise is replaced by a cell for you
to complete; the cell after it checks your answer and says what is missing until
it is right."""


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


def stub(label: str, text: str, names: list[str]) -> str:
    """Return the source of the cell that replaces a solution."""
    lines = textwrap.wrap(f"{label}. {text}" if text else f"{label}: see above.",
                          WIDTH - 2)
    lines.append("")
    if names:
        listed = ", ".join(f"`{name}`" for name in names)
        lines += textwrap.wrap(f"Write your solution here. It must define {listed}; "
                               "then run the next cell to check it.", WIDTH - 2)
    else:
        lines.append("Write your solution here, then run the next cell to check it.")
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
        exercise_label(check.source)
    except ValueError:
        problems.append(f"{there}: the self-check must call "
                        f"helpers.self_check('Exercise N', ...) with the exercise's "
                        f"label as its first argument")
    return problems


def clean_stub_metadata(cell) -> None:
    """Drop from a stub what hid the solution on the site and in Jupyter."""
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


def student_notebook(notebook, name: str = "notebook"):
    """Return a copy of a chapter with every solution cell replaced by a stub.

    Raises NotebookProblem, listing every problem found, if a solution or its
    self-check is malformed.
    """
    notebook = nbformat.from_dict(copy.deepcopy(notebook))
    cells = notebook.cells
    problems = [f"{where(name, index, cell)}: this is already a student version "
                f"(it has the cell {NOTE_ID!r}); expected a chapter with its solutions"
                for index, cell in enumerate(cells) if cell.get("id") == NOTE_ID]
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
        number = re.sub(r"\D", "", label)
        cell.source = stub(label, texts.get(number, ""),
                           answer_names(cell.source, check.source))
        cell.outputs, cell.execution_count = [], None
        clean_stub_metadata(cell)
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


def output_problems(output: Path, paths: list[Path]) -> list[str]:
    """Return why `output` cannot be replaced by a student folder."""
    if output.exists() and not output.is_dir():
        return [f"{output} exists and is not a folder; expected a folder for the "
                f"student notebooks"]
    sources = {NOTEBOOKS.resolve()} | {path.resolve().parent for path in paths}
    for folder in sorted(sources):
        if output == folder or output in folder.parents:
            return [f"the output folder {output} holds the chapters ({folder}); "
                    f"expected a folder of its own, such as _build/student"]
    if output in ROOT.parents:
        return [f"the output folder {output} holds the project; expected a folder "
                f"of its own, such as _build/student"]
    if output.is_dir() and any(output.iterdir()):
        ours = (output / "helpers.py").exists() or any(output.glob(CHAPTER_PATTERN))
        if not ours:
            return [f"{output} is not empty and holds no student notebooks nor "
                    f"helpers.py; expected a new folder or one this tool wrote"]
    return []


def new_folder_mode(output: Path) -> int:
    """Return the permissions the output folder has, or that a new folder gets."""
    if output.is_dir():
        return output.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


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


def write_student_folder(paths: list[Path], output: Path, replace_all: bool):
    """Write the student version of `paths` into `output`; return the names."""
    output = output.resolve()
    problems = output_problems(output, paths)
    names: dict[str, Path] = {}
    for path in paths:
        if path.name in names:
            problems.append(f"{display_name(path)} and {display_name(names[path.name])}"
                            f" would both be written to {path.name}; expected "
                            f"notebooks with different names")
        names[path.name] = path
    if problems:
        raise NotebookProblem(problems)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{output.name}.new-",
                                      dir=output.parent))
    except OSError as error:
        raise NotebookProblem(f"cannot write next to {output}: "
                              f"{error.strerror or error}")
    try:
        for path in paths:
            name = display_name(path)
            try:
                notebook = student_notebook(load(path, name), name)
                what = "the student version would not be a valid notebook"
                invalid = validation_problems(notebook, name, what)
                if invalid:
                    raise NotebookProblem(invalid)
                nbformat.write(notebook, stage / path.name)
                # Read back what was written, as Jupyter will.
                load(stage / path.name, f"{name} (student version)")
            except NotebookProblem as problem:
                problems += problem.messages
        if problems:
            raise NotebookProblem(problems)
        # The chapters import both modules; offline there is nothing to fetch.
        for module in MODULES:
            shutil.copy(NOTEBOOKS / module, stage / module)
        os.chmod(stage, new_folder_mode(output))
        written = set(names) | set(MODULES)
        keep = []
        if output.is_dir():
            keep = [entry.name for entry in output.iterdir()
                    if entry.name not in written
                    and not (replace_all and entry.is_file()
                             and fnmatch.fnmatch(entry.name, CHAPTER_PATTERN))]
        swap_in(stage, output, keep)
    except OSError as error:
        raise NotebookProblem(f"cannot write the student folder {output}: "
                              f"{error.strerror or error} ({error.filename})")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return list(names)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapters to convert (default: all of notebooks/)")
    parser.add_argument("--output", type=Path, default=ROOT / "_build" / "student",
                        help="folder to write into (default: _build/student)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob(CHAPTER_PATTERN))
    if not paths:
        parser.error(f"no chapter notebooks in {NOTEBOOKS}")
    try:
        # With no notebooks given, a chapter renamed or removed since the last run
        # must not linger in the output.
        names = write_student_folder(paths, args.output, replace_all=not args.notebooks)
    except NotebookProblem as problem:
        for message in problem.messages:
            print(f"make_student: error: {message}", file=sys.stderr)
        print(f"make_student: nothing written; {args.output} is as it was.",
              file=sys.stderr)
        return 1
    for name in names:
        print(args.output / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
