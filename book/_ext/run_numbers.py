"""Sphinx extension: numbers quoted in the prose come from the page's own run.

A chapter's markdown quotes a number from its run followed by an HTML comment
that names the recorded result and a format spec, e.g.
``a test MSE of 0.0122<!-- fashion_ae/test_mse:.4f -->``. Jupyter and Colab do
not show the comment, so the notebook reads as plain text there; the committed
number is the full-mode reference run's (book/reference_results.json), which
tests/test_notebooks.py checks. On the website this extension replaces the
number with the value that this page's own execution recorded, so the page
cannot disagree with the outputs above it.

It also labels the toggles of tagged cells: a solution is hidden, outputs
included, behind "Show the solution"; a cell that checks a claim is shown
collapsed as "The claim, checked".
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.util import logging

import course_results

MARKER = re.compile(r"<!--\s*([a-z0-9_]+/[a-z0-9_]+)(?::([^\s>]*))?\s*-->")
# A number right before a marker: an optional sign, digits with optional
# thousands commas, an optional decimal part and an optional percent sign.
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?%?$")
QUOTED = re.compile(r"(-?\d[\d,]*(?:\.\d+)?%?)" + MARKER.pattern)
PROMPTS = {
    "solution": ("Show the solution", "Hide the solution"),
    "hide-input": ("The claim, checked", "Hide the check"),
}

PROMPT_SETUP = ("The set-up for Colab", "Hide the set-up")

logger = logging.getLogger(__name__)


def format_value(value, spec: str) -> str:
    """Format a recorded value as the prose prints it."""
    if isinstance(value, str):
        raise ValueError(f"a quoted number cannot come from the text {value!r}")
    return format(value, spec or "")


def quoted_numbers(text: str) -> list[tuple[str, str, str]]:
    """Return (number as written, key, format spec) for each marker in `text`."""
    return [(number, key, spec or "") for number, key, spec in QUOTED.findall(text)]


def unmatched_markers(text: str) -> list[str]:
    """Return the markers in `text` that do not follow a number directly."""
    quoted = {m.start(2) for m in QUOTED.finditer(text)}
    return [m.group(0) for m in MARKER.finditer(text) if m.start(1) not in quoted]


def substitute_numbers(app, doctree):
    """Replace each quoted number with the value this page's run recorded."""
    raws = [raw for raw in doctree.findall(nodes.raw)
            if "html" in raw.get("format", "") and MARKER.fullmatch(
                raw.astext().strip())]
    if not raws:
        return
    results, _ = course_results.run_of(app.env, app.env.docname)
    for raw in raws:
        key, spec = MARKER.fullmatch(raw.astext().strip()).groups()
        parent, where = raw.parent, f"{app.env.docname}: {raw.astext().strip()}"
        index = parent.index(raw)
        previous = parent[index - 1] if index else None
        match = (NUMBER.search(previous.astext())
                 if isinstance(previous, nodes.Text) else None)
        if match is None:
            logger.warning(f"{where} does not follow a number", location=raw)
            continue
        if key not in results:
            logger.warning(f"{where}: the chapter did not record {key} in this "
                           "page's run", location=raw)
            continue
        text = previous.astext()
        number = nodes.inline(text=format_value(results[key], spec or ""),
                              classes=["run-number"])
        parent.replace(previous, nodes.Text(text[: match.start()]))
        parent.replace(raw, number)


def label_toggles(app, doctree):
    """Give the set-up cell, solutions and claim checks their own toggle labels."""
    cells = [node for node in doctree.findall(nodes.container)
             if node.get("nb_element") == "cell_code"]
    for position, node in enumerate(cells):
        if not node.get("hide_mode"):
            continue
        if position == 0:  # The cell that fetches the course's modules in Colab.
            node["prompt_show"], node["prompt_hide"] = PROMPT_SETUP
            continue
        tags = node.get("cell_metadata", {}).get("tags", [])
        for tag, (show, hide) in PROMPTS.items():
            if tag in tags:
                node["prompt_show"], node["prompt_hide"] = show, hide
                break


def setup(app):
    """Register the hooks."""
    app.connect("doctree-read", substitute_numbers)
    app.connect("doctree-read", label_toggles)
    return {"version": "2.0", "parallel_read_safe": True,
            "parallel_write_safe": True}
