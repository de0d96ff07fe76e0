"""Checks of the chapter notebooks as files: pairing, outputs, structure, style.

Running them is nbval's job (pytest collects notebooks/*.ipynb with --nbval-lax).
"""

from __future__ import annotations

import re

import jupytext
import nbformat
import pytest
import yaml
from conftest import NOTEBOOKS, ROOT

CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
MAX_LINE = 88


def toc_files() -> list[str]:
    """Return every file named in _toc.yml, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def test_there_are_chapters():
    assert CHAPTERS, "no chapter notebooks found in notebooks/"


def test_every_chapter_is_in_the_toc_and_every_toc_entry_exists():
    files = toc_files()
    for chapter in CHAPTERS:
        assert f"notebooks/{chapter.stem}" in files, f"{chapter.name} is not in the toc"
    for name in files:
        matches = [p for p in ROOT.glob(name + ".*") if p.suffix in (".md", ".ipynb")]
        assert len(matches) == 1, f"{name}: expected one .md or .ipynb, got {matches}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_has_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert not cell.outputs, f"cell {index} of {path.name} has outputs"
            assert cell.execution_count is None, f"cell {index} has an execution count"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_and_text_file_are_in_sync(path):
    text_file = path.with_suffix(".py")
    assert text_file.exists(), f"{path.name} has no paired {text_file.name}"
    from_ipynb = jupytext.read(path)
    from_text = jupytext.read(text_file)
    pairs = list(zip(from_ipynb.cells, from_text.cells))
    assert len(from_ipynb.cells) == len(from_text.cells), (
        f"{path.name} and {text_file.name} differ in their number of cells: "
        "run `make sync`"
    )
    for index, (a, b) in enumerate(pairs):
        assert (a.cell_type, a.source.strip()) == (b.cell_type, b.source.strip()), (
            f"cell {index} differs between {path.name} and {text_file.name}: "
            "run `make sync`"
        )
        assert a.metadata.get("tags", []) == b.metadata.get("tags", [])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_structure_and_style(path):
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), (
        "a chapter opens with its title"
    )
    code = [cell.source for cell in cells if cell.cell_type == "code"]
    assert "helpers.setup(" in code[1], "the second code cell is the setup cell"
    assert "helpers.py" in code[0], "the first code cell fetches helpers.py"
    markdown = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    assert "## Summary" in markdown and "## Exercises" in markdown
    exercises = markdown.split("## Exercises", 1)[1]
    assert len(re.findall(r"^\d+\. ", exercises, flags=re.M)) >= 3, "3+ exercises"
    tags = [cell.metadata.get("tags", []) for cell in cells]
    solutions = [i for i, cell_tags in enumerate(tags) if "solution" in cell_tags]
    assert len(solutions) >= 3, "every exercise has a solution cell"
    for index in solutions:
        after = cells[index + 1] if index + 1 < len(cells) else None
        assert after is not None and "self-check" in tags[index + 1], (
            f"solution cell {index} is not followed by a cell tagged self-check"
        )
        assert "helpers.self_check(" in after.source
    assert any("helpers.record(" in source for source in code)
    assert any("assert " in source for source in code), "the claim is checked"
    for source in code:
        assert "is_quick()" not in source or "assert" in source, (
            "notebooks branch on the mode only to choose their assertions"
        )
        for line in source.splitlines():
            assert len(line) <= MAX_LINE, f"{path.name}: line too long: {line}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_colab_cell_fetches_helpers_from_the_configured_repository(path):
    import ast

    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    owner_repo = config["url"].removeprefix("https://github.com/").strip("/")
    expected = (f"https://raw.githubusercontent.com/{owner_repo}/{config['branch']}/"
                "notebooks/helpers.py")
    first_code = next(c for c in nbformat.read(path, as_version=4).cells
                      if c.cell_type == "code")
    urls = [ast.literal_eval(node.value)
            for node in ast.walk(ast.parse(first_code.source))
            if isinstance(node, ast.Assign) and node.targets[0].id == "HELPERS_URL"]
    assert urls == [expected], f"{path.name} fetches {urls}, not {expected}"
