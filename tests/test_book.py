"""Check the book built in quick mode with warnings as errors (conftest.built_site).

Also: the build executes no chapter (conftest.chapter_runs ran them), and each
mode has its own execution cache (book/_ext/mode_cache.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import CHAPTERS, ROOT, build_cache
from test_notebooks import toc_files


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


def test_the_build_executed_no_chapter(built_site):
    html, _ = built_site
    log = html.parent.parent / "build.log"
    if not log.exists():
        pytest.skip("a build reused through AE_BOOK_TEST_SITE has no build.log")
    text = log.read_text()
    assert "Executing notebook" not in text, "the book build executed a chapter"
    assert text.count("Using cached notebook") == len(CHAPTERS), text[-3000:]
    cache = build_cache(html.parent.parent)
    # myst-nb adds a notebook to the cache's project only to execute it.
    assert not cache.list_project_records()
    assert len(cache.list_cache_records()) == len(CHAPTERS)


def test_each_mode_has_its_own_execution_cache(tmp_path):
    """Quick, full, then quick again: each build shows its own mode's outputs.

    Deleting the results file makes the next build run the chapters again, so
    that they record their results anew.
    """
    book = tmp_path / "book"
    book.mkdir()
    (book / "_config.yml").write_text(
        "title: Mode check\nonly_build_toc_files: true\n"
        "execute:\n  execute_notebooks: cache\n"
        f"sphinx:\n  local_extensions:\n    mode_cache: {ROOT / 'book' / '_ext'}\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    # A chapter in miniature: it prints the mode and records a result.
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Page"),
        nbformat.v4.new_code_cell(
            "import os, pathlib\n"
            "mode = os.environ.get('AE_BOOK_QUICK')\n"
            "pathlib.Path(os.environ['AE_BOOK_RESULTS']).write_text(mode)\n"
            "print('AE_BOOK_QUICK:', mode)")])
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                       "display_name": "Python 3"}
    nbformat.write(notebook, book / "page.ipynb")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    results = {"1": tmp_path / "quick.json", "0": tmp_path / "full.json"}

    def build(quick: str) -> tuple[str, str]:
        env = dict(os.environ, AE_BOOK_QUICK=quick,
                   AE_BOOK_RESULTS=str(results[quick]))
        process = subprocess.run(
            [str(jupyter_book), "build", str(book), "--builder", "html"],
            env=env, capture_output=True, text=True, timeout=600)
        assert process.returncode == 0, process.stdout[-3000:] + process.stderr
        page = (book / "_build" / "html" / "page.html").read_text()
        return process.stdout, page

    log, page = build("1")
    assert "Executing notebook" in log and "AE_BOOK_QUICK: 1" in page
    log, page = build("0")
    assert "Executing notebook" in log, "the full build took the quick outputs"
    assert "AE_BOOK_QUICK: 0" in page and "AE_BOOK_QUICK: 1" not in page
    log, page = build("1")
    assert "Executing notebook" not in log and "Using cached notebook" in log
    assert "AE_BOOK_QUICK: 1" in page
    caches = book / "_build" / ".jupyter_cache"
    assert sorted(p.name for p in caches.iterdir() if p.is_dir()) == ["full", "quick"]
    results["1"].unlink()
    log, page = build("1")
    assert "Executing notebook" in log, "the chapters did not run again"
    assert results["1"].read_text() == "1" and "AE_BOOK_QUICK: 1" in page


def test_mode_cache_folders():
    import mode_cache

    assert mode_cache.cache_folder("/b/.jupyter_cache", "full") == Path(
        "/b/.jupyter_cache/full")
    assert mode_cache.default_cache_base("/b/_build/html") == Path(
        "/b/_build/.jupyter_cache")
    with pytest.raises(ValueError, match="quick.*full"):
        mode_cache.cache_folder("/b", "fast")
