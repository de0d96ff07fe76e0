"""Build the book in quick mode, with warnings as errors, and check the site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from test_notebooks import toc_files


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """Build the whole book once in quick mode; return the html folder."""
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


def test_every_toc_entry_has_a_page(built_site):
    html, _ = built_site
    for name in toc_files():
        page = html / f"{name}.html"
        assert page.exists(), f"no page for {name}"
        assert page.stat().st_size > 5000, f"{page} looks empty"
    assert (html / "index.html").exists()


def test_chapter_pages_show_executed_outputs(built_site):
    html, _ = built_site
    for name in toc_files():
        if name.startswith("notebooks/"):
            text = (html / f"{name}.html").read_text()
            assert "Mode: quick" in text, f"{name}: the setup cell's output is missing"
            assert "data:image/png" in text or "_images/" in text, f"{name}: no figure"
            assert "colab.research.google.com" in text, f"{name}: no Colab button"


def test_results_page_shows_what_the_chapters_recorded(built_site):
    html, results_file = built_site
    results = json.loads(results_file.read_text())
    assert results["mode"] == "quick"
    page = (html / "book" / "results.html").read_text()
    assert "Mode of this build: quick" in page
    recorded = [key for key in results if "/" in key and not key.endswith("/device")]
    assert recorded, "no chapter recorded a result"
    for key in recorded:
        assert key.split("/", 1)[1] in page, f"{key} is missing from the results page"
