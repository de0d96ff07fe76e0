"""Write the student version of every chapter: exercise solutions become stubs.

    python tools/make_student.py [--output _build/student] [notebooks ...]

Reads notebooks/[0-9][0-9]_*.ipynb (or the notebooks given) and writes each to
the output folder, with helpers.py beside them. In each, every cell tagged
`solution` is replaced by a stub: the exercise's text as comments, the names of
the answer variables to define, and those assignments commented out
(`# name = ...`), so that the self-check cell after it, which is kept, fails
with its message until the student writes the answer. The answer variables are
the names that the solution cell assigns and its self-check uses.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOLUTION_TAGS = ("solution", "hide-input")
WIDTH = 88
NOTE = """\
**Student version.** The solution of each exercise is replaced by a cell for you
to complete; the cell after it checks your answer and says what is missing until
it is right."""


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
    for node in ast.walk(ast.parse(source)):
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
    for node in ast.walk(ast.parse(solution)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
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


def student_notebook(notebook):
    """Return a copy of a chapter with every solution cell replaced by a stub."""
    notebook = nbformat.from_dict(notebook)
    texts = exercise_texts(notebook)
    cells = notebook.cells
    for index, cell in enumerate(cells):
        tags = cell.metadata.get("tags", [])
        if "solution" not in tags:
            continue
        check = cells[index + 1] if index + 1 < len(cells) else None
        if check is None or "self-check" not in check.metadata.get("tags", []):
            raise ValueError(f"solution cell {index} is not followed by a self-check")
        label = exercise_label(check.source)
        number = re.sub(r"\D", "", label)
        cell.source = stub(label, texts.get(number, ""),
                           answer_names(cell.source, check.source))
        cell.outputs, cell.execution_count = [], None
        kept = [tag for tag in tags if tag not in SOLUTION_TAGS]
        if kept:
            cell.metadata["tags"] = kept
        else:
            cell.metadata.pop("tags")
        before = cells[index - 1] if index else None
        if before is not None and before.cell_type == "markdown":
            before.source = re.sub(r"\bA solution\b", "Your solution", before.source)
    cells.insert(1, nbformat.v4.new_markdown_cell(NOTE, id="student-version"))
    # A student's copy is not paired with a text file.
    notebook.metadata.pop("jupytext", None)
    return notebook


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapters to convert (default: all of notebooks/)")
    parser.add_argument("--output", type=Path, default=ROOT / "_build" / "student",
                        help="folder to write into (default: _build/student)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        parser.error(f"no chapter notebooks in {NOTEBOOKS}")
    args.output.mkdir(parents=True, exist_ok=True)
    if not args.notebooks:
        # A chapter renamed or removed since the last run must not linger.
        for old in args.output.glob("[0-9][0-9]_*.ipynb"):
            old.unlink()
    for path in paths:
        notebook = student_notebook(nbformat.read(path, as_version=4))
        nbformat.write(notebook, args.output / path.name)
        print(f"{args.output / path.name}")
    shutil.copy(NOTEBOOKS / "helpers.py", args.output / "helpers.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
