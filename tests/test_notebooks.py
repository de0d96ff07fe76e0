"""Checks of the chapter notebooks as files: pairing, outputs, structure, style.

Running them is nbval's job (pytest collects notebooks/*.ipynb with --nbval-lax).
"""

from __future__ import annotations

import ast
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
    assert any("helpers.claim(" in source for source in code), "the claim is checked"
    for source in code:
        assert "is_quick()" not in source, (
            "a chapter does not branch on the mode: helpers.per_mode picks sizes, "
            "helpers.claim asserts only in full mode")
        for line in source.splitlines():
            assert len(line) <= MAX_LINE, f"{path.name}: line too long: {line}"


def test_every_chapter_fetches_from_the_configured_repository_and_ref():
    """The chapters' COURSE_URL names _config.yml's repository and ref."""
    import course_ref

    assert course_ref.disagreements() == [], "run tools/course_ref.py --ref REF"


import course_results  # noqa: E402
import run_numbers  # noqa: E402


def _calls(tree, name: str) -> list:
    """The calls of helpers.<name> (or <name>) in a parsed cell."""
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and (
        getattr(node.func, "attr", None) == name or getattr(node.func, "id", None)
        == name)]


def _is_record_call(statement) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
            and bool(_calls(statement, "record")))


def cell_role(cell, first_code: bool = False) -> str:
    """Return the role of a code cell: 'setup', 'solution', 'self-check', 'record',
    'claim' or '' (an ordinary cell)."""
    tags = cell.metadata.get("tags", [])
    for role in ("solution", "self-check"):
        if role in tags:
            return role
    if first_code:
        return "setup"
    tree = ast.parse(cell.source)
    if tree.body and all(_is_record_call(statement) for statement in tree.body):
        return "record"
    if _calls(tree, "claim") or any(isinstance(node, ast.Assert)
                                    for node in ast.walk(tree)):
        return "claim"
    return ""


ROLE_TAGS = {"solution": {"solution", "hide-cell"}, "self-check": {"self-check"},
             "record": {"remove-cell"}, "claim": {"hide-input"},
             "setup": {"hide-input"}, "": set()}
VIEW_TAGS = {"hide-cell", "hide-input", "remove-cell", "hide-output",
             "remove-input", "remove-output"}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_cells_are_shown_as_their_role_needs(path):
    """Solutions hidden with their outputs, record cells removed, claims collapsed."""
    notebook = nbformat.read(path, as_version=4)
    first = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            assert "solution" not in cell.metadata.get("tags", []), (
                f"{path.name}, cell {index}: only a code cell can be a solution")
            continue
        role = cell_role(cell, first_code=index == first)
        if role != "record":
            assert not _calls(ast.parse(cell.source), "record"), (
                f"{path.name}, cell {index}: record() belongs in the chapter's "
                "hidden record cell, which holds nothing else")
        tags = set(cell.metadata.get("tags", []))
        expected = ROLE_TAGS[role]
        assert tags & (VIEW_TAGS | {"solution", "self-check"}) == expected, (
            f"{path.name}, cell {index} ({role or 'ordinary'} cell): tags "
            f"{sorted(tags)}, expected {sorted(expected)}")


def markdown_cells(path):
    notebook = nbformat.read(path, as_version=4)
    return [(index, cell.source) for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "markdown"]


@pytest.fixture(scope="module")
def reference_run():
    run = course_results.load_reference()
    if not run or not run["chapters"]:
        pytest.fail(f"{course_results.REFERENCE} is missing: run "
                    f"{course_results.REFERENCE_COMMAND}")
    return run


def reference_of(reference_run, path) -> dict:
    entry = reference_run["chapters"].get(path.stem)
    assert entry, (f"the reference run has no results of {path.stem}: run "
                   f"{course_results.REFERENCE_COMMAND} {path.relative_to(ROOT)}")
    return entry


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_quoted_numbers_are_the_reference_runs(path, reference_run):
    """A number quoted with a marker reads as the full-mode run printed it."""
    reference_results = reference_of(reference_run, path)["results"]
    for index, text in markdown_cells(path):
        stray = run_numbers.unmatched_markers(text)
        assert not stray, f"{path.name}, cell {index}: markers after no number {stray}"
        for number, key, spec in run_numbers.quoted_numbers(text):
            assert key in reference_results, (
                f"{path.name}, cell {index}: {key} is not in the reference run")
            expected = run_numbers.format_value(reference_results[key], spec)
            assert number == expected, (
                f"{path.name}, cell {index}: the text says {number} for {key}, "
                f"the reference run gives {expected}")


def _decimals(number: str) -> int:
    return len(number.rstrip("%").split(".")[1]) if "." in number else 0


def _significant_digits(number: str) -> int:
    return len(re.sub(r"\D", "", number).lstrip("0"))


# Numbers with at least two decimals or four significant digits are specific
# enough that an unmarked one equal to a value its chapter recorded is a quoted
# result; settings such as a learning rate of 0.001 have a single digit.
CANDIDATE = re.compile(r"(?<![\w.$])-?\d[\d,]*\.\d{2,}%?(?![\w.])|"
                       r"(?<![\w.$,])\d{1,3}(?:,\d{3})+(?![\w.,])")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_results_are_not_quoted_without_a_marker(path, reference_run):
    """An unmarked number that equals a recorded result must carry its marker."""
    own = reference_of(reference_run, path)["results"]
    values = [value for value in own.values()
              if isinstance(value, (int, float)) and not isinstance(value, bool)]
    for index, text in markdown_cells(path):
        text = run_numbers.QUOTED.sub("", text)
        text = re.sub(r"\$[^$]*\$|`[^`]*`", "", text)  # formulas and code
        for number in CANDIDATE.findall(text):
            if _significant_digits(number) < 2:
                continue
            plain = float(number.rstrip("%").replace(",", ""))
            scale = 100 if number.endswith("%") else 1
            digits = _decimals(number)
            hits = [v for v in values if round(v * scale, digits) == plain]
            assert not hits, (
                f"{path.name}, cell {index}: {number} equals a recorded result; "
                "quote it with its marker (see README, 'Numbers in the prose')")


def stated_claims(path) -> list[str]:
    """The statements of the helpers.claim calls in a chapter, in order."""
    notebook = nbformat.read(path, as_version=4)
    statements = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for call in _calls(ast.parse(cell.source), "claim"):
                statements.append(" ".join(ast.literal_eval(call.args[0]).split()))
    return statements


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_the_reference_run_checked_the_claims_the_chapter_states(path, reference_run):
    """Each claim in the chapter was checked, as it now reads, by the reference run,
    and the run found what the course says (holds, or does not hold)."""
    claims = reference_of(reference_run, path)["claims"]
    assert [claim["statement"] for claim in claims] == stated_claims(path), (
        f"{path.name}'s claims changed since the reference run: run "
        f"{course_results.REFERENCE_COMMAND} {path.relative_to(ROOT)}")
    for claim in claims:
        verdict = "holds" if claim["holds"] else "does not hold"
        assert verdict == claim["course_says"], claim["statement"]


def figure_functions() -> set[str]:
    """The functions of helpers.py that draw a figure (they call plt.show)."""
    tree = ast.parse((NOTEBOOKS / "helpers.py").read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)
            and _draws_with_pyplot(node)}


def _draws_with_pyplot(tree) -> bool:
    return any(isinstance(call.func, ast.Attribute)
               and getattr(call.func.value, "id", None) == "plt"
               for call in _calls(tree, "show"))


FIGURE_FUNCTIONS = figure_functions()
MIN_ALT = 30


def draws_figure(cell) -> bool:
    """Whether a code cell shows a figure: plt.show() or a helpers figure function."""
    tree = ast.parse(cell.source)
    return _draws_with_pyplot(tree) or any(_calls(tree, name)
                                           for name in FIGURE_FUNCTIONS)


def test_the_figure_functions_of_helpers_are_known():
    assert {"show_images", "show_reconstructions", "show_features",
            "plot_history"} <= FIGURE_FUNCTIONS


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_figure_has_alt_text(path):
    """Each cell that draws a figure gives the site's <img> an alt text (myst-nb
    reads it from the cell's metadata mystnb.image.alt) saying what it shows."""
    notebook = nbformat.read(path, as_version=4)
    missing = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or not draws_figure(cell):
            continue
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        if not isinstance(alt, str) or len(alt.strip()) < MIN_ALT:
            missing.append(f"cell {index} ({cell.source.splitlines()[0]!r})")
    assert not missing, (
        f"{path.name}: figures without an alt text of {MIN_ALT}+ characters in "
        'metadata mystnb.image.alt (in the .py: # %% mystnb={"image": {"alt": '
        '"..."}}): ' + "; ".join(missing))
