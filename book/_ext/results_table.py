"""Sphinx extension: the `results-table` directive of the book's results page.

The page lists what the chapters checked: one table per chapter, in book order,
with each claim as the chapter states it (helpers.claim), the figure measured,
the reference it is held against, and whether it holds. Every figure comes from
the chapters' own executions in this build (course_results). In quick mode the
committed full-mode reference run is shown beside the build's own figures.
Below each table, collapsed, every number the chapter recorded.

The tables are filled in once every page has been read, and the page is
rebuilt on every build.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

import book_tables
import course_results
from course_results import format_value

STATIC = Path(__file__).resolve().parents[1] / "_static"
CSS = "results.css"
SEPARATOR = " · "

logger = logging.getLogger(__name__)


def _figure(label_and_value, claim: dict) -> str:
    label, value = label_and_value
    if value is None:
        return label
    return f"{label}: {format_value(value, claim['fmt'])}{claim['unit']}"


def _verdict(claim: dict) -> str:
    text = "yes" if claim["holds"] else "no"
    if not claim["holds"] and claim["course_says"] == "does not hold":
        text += " (as the course reports)"
    return text


def claim_rows(claims: list, reference_claims: list | None) -> list:
    """The rows (claim, measured, reference, holds?) of one chapter's table.

    `reference_claims` are the reference run's claims of the chapter in a quick
    build, else None; they are matched to this build's by their statement.
    """
    by_statement = {c["statement"]: c for c in reference_claims or []}
    rows = []
    for claim in claims:
        cells = [_figure(claim["measured"], claim), _figure(claim["reference"], claim),
                 _verdict(claim)]
        if reference_claims is not None:
            other = by_statement.get(claim["statement"])
            others = (["not in the reference run"] * 3 if other is None else
                      [_figure(other["measured"], other),
                       _figure(other["reference"], other), _verdict(other)])
            cells = [f"quick: {own}{SEPARATOR}full-mode reference: {ref}"
                     for own, ref in zip(cells, others)]
        rows.append([claim["statement"], *cells])
    return rows


def numbers_block(results: dict, reference: dict | None) -> list:
    """Every number a chapter recorded, in a collapsed <details> block."""
    header = (("quantity", "this build", "full-mode reference")
              if reference is not None else ("quantity", "value"))
    rows = []
    for key in sorted(set(results) | set(reference or {})):
        row = [key, format_value(results.get(key))]
        if reference is not None:
            row.append(format_value(reference.get(key)))
        rows.append(row)
    return [nodes.raw("", '<details class="results-all">\n<summary>Every number '
                      "the chapter recorded</summary>", format="html"),
            book_tables.table(header, rows, widths=(3, 2, 2)[:len(header)],
                              classes=["results-table", "all-results"]),
            nodes.raw("", "</details>", format="html")]


def reference_summary(entries: list) -> str:
    """When, where and with what the reference run ran, in one sentence."""
    def values(name):
        return ", ".join(sorted({str(entry.get(name, "unknown")) for entry in entries}))

    dates = sorted({str(entry.get("date", "unknown"))[:10] for entry in entries})
    when = dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"
    return (f"The full-mode reference run (book/reference_results.json) ran on "
            f"{when} on {values('device')} ({values('cpu')}), commit "
            f"{values('commit')}, with TensorFlow {values('tensorflow')}, Keras "
            f"{values('keras')} and Python {values('python')}.")


def render(env, reference: dict | None) -> list:
    """The page's nodes: mode and device once, then a table per chapter."""
    runs = {name: course_results.run_of(env, name)
            for name in course_results.chapters(env)}
    recorded = [claim for _, claims in runs.values() for claim in claims]
    modes = sorted({claim["mode"] for claim in recorded})
    devices = sorted({claim["device"] for claim in recorded})
    page = [nodes.paragraph(
        text=f"Mode of this build: {', '.join(modes) or 'unknown'}. Device: "
        f"{', '.join(devices) or 'unknown'}.", classes=["results-header"])]
    quick = modes == ["quick"]
    chapters_ref = (reference or {}).get("chapters", {}) if quick else {}
    if quick:
        page.append(nodes.paragraph(text=(
            "This is a quick build: its models are barely trained, so most claims "
            "are not expected to hold in its own figures. Each figure is shown "
            "beside the committed full-mode reference run's. "
            + reference_summary(list(chapters_ref.values()))) if chapters_ref else
            "This is a quick build, and no full-mode reference run is committed "
            f"yet ({course_results.REFERENCE_COMMAND}), so only its own figures "
            "are shown."))
    for number, (docname, (results, claims)) in enumerate(runs.items(), start=1):
        title = env.titles[docname].astext() if docname in env.titles else docname
        page.append(nodes.rubric(text=f"{number}. {title}",
                                 classes=["results-chapter"]))
        entry = chapters_ref.get(Path(docname).name) if quick else None
        data = [value for key, value in results.items() if key.endswith("/data")]
        if data:
            page.append(nodes.paragraph(text="Data of this build: " + "; ".join(data)
                                        + "."))
        if claims:
            page.append(book_tables.table(
                ("claim", "measured (this build)", "reference", "holds?"),
                claim_rows(claims, None if not quick else
                           (entry or {}).get("claims", [])),
                widths=(5, 3, 3, 2), classes=["results-table", "claims-table"]))
        else:
            page.append(nodes.paragraph(text="This chapter states no claim."))
        page.extend(numbers_block(results, None if not quick else
                                  (entry or {}).get("results", {})))
    return page


class results_placeholder(nodes.General, nodes.Element):
    """Stands where the tables go until every chapter has been read."""


class ResultsTable(SphinxDirective):
    """Insert the claims and the recorded results."""

    def run(self):
        pages = getattr(self.env, "results_table_pages", set())
        pages.add(self.env.docname)
        self.env.results_table_pages = pages
        return [results_placeholder()]


def fill_tables(app, doctree, docname):
    """Replace each placeholder with the tables, or with a note saying why not."""
    for placeholder in list(doctree.findall(results_placeholder)):
        try:
            reference = course_results.load_reference()
        except ValueError as error:
            logger.warning(str(error), location=placeholder)
            placeholder.replace_self(nodes.paragraph(text=str(error)))
            continue
        placeholder.replace_self(render(app.env, reference))


def add_static_path(app, config):
    """Ship book/_static/results.css with the site."""
    if str(STATIC) not in config.html_static_path:
        config.html_static_path.append(str(STATIC))


def always_outdated(app, env, added, changed, removed):
    """Rebuild the results page on every build, since the chapters may rerun."""
    return sorted(getattr(env, "results_table_pages", set()))


def setup(app):
    """Register the directive, the style sheet and the hooks."""
    app.add_node(results_placeholder)
    app.add_directive("results-table", ResultsTable)
    app.add_css_file(CSS)
    app.connect("config-inited", add_static_path)
    app.connect("doctree-resolved", fill_tables)
    app.connect("env-get-outdated", always_outdated)
    return {"version": "3.0", "parallel_read_safe": False,
            "parallel_write_safe": True, "env_version": 3}
