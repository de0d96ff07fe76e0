"""Sphinx extension: list every script of a page once.

Sphinx 7 adds an inline script twice when an extension registers it after the
builder has started (sphinx-thebe and sphinx-togglebutton do), once under the
name None and once under ''. The second `const THEBE_JS_URL` is then a
SyntaxError in the browser's console on every page. This drops the repeats.
"""

from __future__ import annotations


def drop_repeated_scripts(app, pagename, templatename, context, doctree):
    """Keep the first of the page's scripts that have the same name and attributes."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = (getattr(script, "filename", script) or "", getattr(
            script, "priority", 0), repr(sorted(getattr(script, "attributes",
                                                        {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    """Register the hook."""
    app.connect("html-page-context", drop_repeated_scripts)
    return {"version": "1.0", "parallel_read_safe": True,
            "parallel_write_safe": True}
