"""Sphinx extension: the `results-table` directive of the book's results page.

The table is filled in at the end of the build, after every chapter has run and
recorded its numbers, and the page is rebuilt on every build.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

import book_tables


class results_placeholder(nodes.General, nodes.Element):
    """Stands where the table goes until the chapters have run."""


class ResultsTable(SphinxDirective):
    """Insert the table of recorded results."""

    def run(self):
        pages = getattr(self.env, "results_table_pages", set())
        pages.add(self.env.docname)
        self.env.results_table_pages = pages
        return [results_placeholder()]


def mode() -> str:
    """Return the build's mode, as the chapters see it."""
    return "quick" if os.environ.get("AE_BOOK_QUICK", "").strip() == "1" else "full"


def results_file(srcdir: Path) -> Path:
    """Return the results file that the chapters of this build write."""
    if os.environ.get("AE_BOOK_RESULTS"):
        return Path(os.environ["AE_BOOK_RESULTS"])
    return srcdir / "_build" / "results" / f"{mode()}.json"


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _table(results: dict) -> nodes.table:
    rows = [(k.split("/", 1)[0], k.split("/", 1)[1], v) for k, v in sorted(
        results.items()) if "/" in k and not k.endswith("/device")]
    return book_tables.table(
        ("chapter", "quantity", "value", "device"),
        [(c, q, _format(v), str(results.get(f"{c}/device", ""))) for c, q, v in rows],
        widths=(2, 3, 2, 2), classes=["results-table"])


def fill_tables(app, doctree, docname):
    """Replace each placeholder with the table, or with a note if none is there."""
    path = results_file(Path(app.srcdir))
    for placeholder in doctree.findall(results_placeholder):
        results = {}
        if path.exists():
            try:
                results = json.loads(path.read_text())
            except json.JSONDecodeError as error:
                placeholder.replace_self(nodes.paragraph(
                    text=f"The results file {path} is not valid JSON ({error}): "
                    "delete it and build the book again (make book)."))
                continue
        intro = nodes.paragraph(
            text=f"Mode of this build: {mode()}. Results file: {path.name}."
        )
        if any("/" in key for key in results):
            placeholder.replace_self([intro, _table(results)])
        else:
            placeholder.replace_self(nodes.paragraph(
                text=f"No chapter has recorded results in {mode()} mode yet: "
                "build the book (make book) to run the chapters."
            ))


def always_outdated(app, env, added, changed, removed):
    """Rebuild the results page on every build, since the chapters may rerun."""
    return sorted(getattr(env, "results_table_pages", set()))


def setup(app):
    """Register the directive and the hooks."""
    app.add_node(results_placeholder)
    app.add_directive("results-table", ResultsTable)
    app.connect("doctree-resolved", fill_tables)
    app.connect("env-get-outdated", always_outdated)
    return {"version": "1.0", "parallel_read_safe": False,
            "parallel_write_safe": True, "env_version": 1}
