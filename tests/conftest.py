"""Shared fixtures: the repository's paths and a clean environment for helpers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(NOTEBOOKS))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def helpers(monkeypatch, tmp_path):
    """The helpers module, with results written to a temporary file."""
    import helpers as module

    monkeypatch.setenv("AE_BOOK_RESULTS", str(tmp_path / "results.json"))
    monkeypatch.delenv("AE_BOOK_QUICK", raising=False)
    module.DATA_SOURCES.clear()
    return module


@pytest.fixture
def no_plots(monkeypatch):
    """Close figures instead of showing them, and count them."""
    import matplotlib.pyplot as plt

    shown = []

    def fake_show():
        shown.append(plt.gcf())
        plt.close("all")

    monkeypatch.setattr(plt, "show", fake_show)
    return shown


def notebook_definitions(stem: str) -> dict:
    """Run a chapter's imports and its cells tagged `definition`; return the names.

    A chapter shows the full code of the building blocks it introduces (a layer,
    a loss). Tagging those cells `definition` lets the unit tests check that
    very code, without running the chapter.
    """
    import jupytext

    notebook = jupytext.read(NOTEBOOKS / f"{stem}.ipynb")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    imports = [line for line in code[1].source.splitlines()
               if line.startswith(("import ", "from "))]
    namespace: dict = {}
    exec("\n".join(imports), namespace)
    cells = [c for c in code if "definition" in c.metadata.get("tags", [])]
    if not cells:
        raise ValueError(f"{stem} has no cell tagged 'definition'")
    for cell in cells:
        exec(cell.source, namespace)
    return namespace


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """Build the whole book once in quick mode; return (html folder, results file).

    The book tests and the site tests share this one build, since it executes
    every chapter. AE_BOOK_TEST_SITE=<folder> reuses a build made with
    `jupyter-book build . --path-output <folder>` (results in <folder>/results.json).
    """
    import subprocess

    if os.environ.get("AE_BOOK_TEST_SITE"):
        output = Path(os.environ["AE_BOOK_TEST_SITE"])
        return output / "_build" / "html", output / "results.json"
    output = tmp_path_factory.mktemp("book")
    env = dict(os.environ, AE_BOOK_QUICK="1",
               AE_BOOK_RESULTS=str(output / "results.json"))
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    process = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(output),
         "--builder", "html", "-W", "-n", "--keep-going"],
        env=env, capture_output=True, text=True, timeout=3600,
    )
    log = process.stdout[-6000:] + process.stderr[-6000:]
    assert process.returncode == 0, f"the book build failed:\n{log}"
    return output / "_build" / "html", output / "results.json"
