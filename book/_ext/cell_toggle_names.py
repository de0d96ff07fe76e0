"""Sphinx extension: a hidden cell's toggle is named by the words it shows.

myst-nb names the <summary> of every hidden cell "Toggle hidden content", while
the reader sees "Show the solution" or "Hide the solution" there: whoever says
what is on the screen, as voice control users do, reaches nothing (WCAG 2.5.3,
Label in Name). Without that aria-label, the summary's name is the title it
shows.
"""

from __future__ import annotations

LABELLED = '<summary aria-label="Toggle hidden content">'


def name_toggles_by_their_titles(app, pagename, templatename, context, doctree):
    """Drop myst-nb's fixed aria-label from the summaries of hidden cells."""
    body = context.get("body")
    if body and LABELLED in body:
        context["body"] = body.replace(LABELLED, "<summary>")


def setup(app):
    """Register the hook."""
    app.connect("html-page-context", name_toggles_by_their_titles)
    return {"version": "1.0", "parallel_read_safe": True,
            "parallel_write_safe": True}
