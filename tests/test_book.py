"""Check the book built in quick mode with warnings as errors (conftest.built_site)."""

from __future__ import annotations

import json

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
