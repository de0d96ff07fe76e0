"""Check the book built in quick mode with warnings as errors (conftest.built_site).

Also: the build executes no chapter (conftest.chapter_runs ran them), and, in a
miniature book, each mode has its own execution cache and each page's numbers
and claims come from that page's own execution (book/_ext).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import CHAPTERS, NOTEBOOKS, ROOT, build_cache
from test_notebooks import toc_files


def test_every_toc_entry_has_a_page(built_site):
    for name in toc_files():
        page = built_site / f"{name}.html"
        assert page.exists(), f"no page for {name}"
        assert page.stat().st_size > 5000, f"{page} looks empty"
    assert (built_site / "index.html").exists()


def test_chapter_pages_show_executed_outputs(built_site):
    for name in toc_files():
        if name.startswith("notebooks/"):
            text = (built_site / f"{name}.html").read_text()
            assert "Mode: quick" in text, f"{name}: the setup cell's output is missing"
            assert "data:image/png" in text or "_images/" in text, f"{name}: no figure"
            assert "colab.research.google.com" in text, f"{name}: no Colab button"


def test_results_page_lists_every_claim_the_chapters_checked(built_site,
                                                             chapter_runs):
    import html as html_module

    page = html_module.unescape((built_site / "book" / "results.html").read_text())
    assert "Mode of this build: quick" in page
    for path in CHAPTERS:
        run = chapter_runs[path.stem]
        assert run.claims, f"{path.name} checked no claim"
        for claim in run.claims:
            assert claim["statement"] in page, claim["statement"]
        for key in run.results:
            assert key in page, f"{key} is missing from the results page"


def test_the_build_executed_no_chapter(built_site):
    log = built_site.parent.parent / "build.log"
    if not log.exists():
        pytest.skip("a build reused through AE_BOOK_TEST_SITE has no build.log")
    text = log.read_text()
    assert "Executing notebook" not in text, "the book build executed a chapter"
    assert text.count("Using cached notebook") == len(CHAPTERS), text[-3000:]
    cache = build_cache(built_site.parent.parent)
    # myst-nb adds a notebook to the cache's project only to execute it.
    assert not cache.list_project_records()
    assert len(cache.list_cache_records()) == len(CHAPTERS)


MINI_CHAPTER = f"""\
import os, sys
sys.path.insert(0, {str(NOTEBOOKS)!r})
import helpers
number = helpers.per_mode(full=0.75, quick=0.25)
print("AE_BOOK_QUICK:", os.environ.get("AE_BOOK_QUICK"))
helpers.claim("The number is positive.", measured=("number", number),
              reference=("zero", 0.0), holds=number > 0, fmt=".2f")
"""


def test_each_page_shows_its_own_modes_outputs_numbers_and_claims(tmp_path):
    """Quick, full, then quick again, in a miniature book with the course's
    extensions: each build shows its own mode's outputs, and the quoted number
    and the results page come from the page's own execution."""
    book = tmp_path / "book"
    (book / "notebooks").mkdir(parents=True)
    (book / "_config.yml").write_text(
        "title: Mode check\nonly_build_toc_files: true\n"
        "execute:\n  execute_notebooks: cache\n"
        "sphinx:\n  local_extensions:\n"
        + "".join(f"    {name}: {ROOT / 'book' / '_ext'}\n"
                  for name in ("mode_cache", "run_numbers", "results_table")))
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: results\nchapters:\n"
        "  - file: notebooks/01_mini\n")
    (book / "results.md").write_text("# Results\n\n```{results-table}\n```\n")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Mini\n\nThe number is "
                                      "0.75<!-- mini/number:.2f -->."),
        nbformat.v4.new_code_cell(MINI_CHAPTER),
        nbformat.v4.new_code_cell('helpers.record("mini/number", number)')])
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                       "display_name": "Python 3"}
    nbformat.write(notebook, book / "notebooks" / "01_mini.ipynb")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"

    def build(quick: str):
        process = subprocess.run(
            [str(jupyter_book), "build", str(book), "--builder", "html", "-W"],
            env=dict(os.environ, AE_BOOK_QUICK=quick), capture_output=True,
            text=True, timeout=600)
        assert process.returncode == 0, process.stdout[-3000:] + process.stderr
        html = book / "_build" / "html"
        return (process.stdout, (html / "notebooks" / "01_mini.html").read_text(),
                (html / "results.html").read_text())

    log, page, results = build("1")
    assert "Executing notebook" in log and "AE_BOOK_QUICK: 1" in page
    assert "The number is <span class=\"run-number\">0.25</span>" in page
    assert "Mode of this build: quick" in results and "number: 0.25" in results
    log, page, results = build("0")
    assert "Executing notebook" in log, "the full build took the quick outputs"
    assert "AE_BOOK_QUICK: 0" in page and "AE_BOOK_QUICK: 1" not in page
    assert "<span class=\"run-number\">0.75</span>" in page
    assert "Mode of this build: full" in results and "number: 0.75" in results
    log, page, results = build("1")
    assert "Executing notebook" not in log and "Using cached notebook" in log
    assert "AE_BOOK_QUICK: 1" in page and "run-number\">0.25<" in page
    assert "number: 0.25" in results and "number: 0.75" not in results
    caches = book / "_build" / ".jupyter_cache"
    assert sorted(p.name for p in caches.iterdir() if p.is_dir()) == ["full", "quick"]


def test_mode_cache_folders():
    import mode_cache

    assert mode_cache.cache_folder("/b/.jupyter_cache", "full") == Path(
        "/b/.jupyter_cache/full")
    assert mode_cache.default_cache_base("/b/_build/html") == Path(
        "/b/_build/.jupyter_cache")
    with pytest.raises(ValueError, match="quick.*full"):
        mode_cache.cache_folder("/b", "fast")
