"""Sphinx extension: how long each chapter takes to run, from book/timings.yml.

Every chapter page gets a note under its introduction (measured times in full
and quick mode, and what to change for a faster run), and the directive
`running-times` renders the table of all chapters (book/setup.md). The numbers
are measured with benchmarks/chapter_times.py --update-timings, which writes
book/timings.yml; a chapter without numbers says "not measured yet". No number
is ever made up here.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

import book_tables

TIMINGS = "book/timings.yml"
CHAPTER = re.compile(r"^notebooks/(\d\d_\w+)$")
DEFAULT_FASTER = ("run it in quick mode (`AE_BOOK_QUICK=1`), or on a GPU (in Colab, "
                  "a GPU runtime)")


def load(srcdir) -> dict:
    """Return the chapters' entries of book/timings.yml, by notebook name."""
    path = Path(srcdir) / TIMINGS
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return data.get("chapters") or {}


def duration(seconds) -> str:
    """Return a measured duration for a reader: '40 s', '3 min', '1.5 h'."""
    if seconds is None:
        return "not measured yet"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def inline(text: str) -> list[nodes.Node]:
    """Return text with `code` spans as literal nodes."""
    parts = text.split("`")
    return [nodes.literal(text=part) if odd else nodes.Text(part)
            for odd, part in ((i % 2, p) for i, p in enumerate(parts)) if part]


def measured(entry: dict, mode: str) -> str:
    """Return '3 min on CPU (2 cores)', or 'not measured yet'."""
    seconds, device = entry.get(f"{mode}_seconds"), entry.get(f"{mode}_device")
    return f"{duration(seconds)} on {device}" if seconds and device else duration(
        seconds)


def chapter_note(entry: dict, docname: str) -> nodes.Element:
    """Return the note that a chapter page shows under its introduction."""
    note = nodes.admonition(classes=["note", "running-time"])
    note += nodes.title(text="Running time")
    body = nodes.paragraph()
    body += nodes.Text(f"Full mode: {measured(entry, 'full')}. Quick mode: "
                       f"{measured(entry, 'quick')}. For a faster run, ")
    body += inline(entry.get("faster") or DEFAULT_FASTER)
    body += nodes.Text(". All chapters: ")
    ref = addnodes.pending_xref("", refdomain="std", reftype="ref",
                                reftarget="running-times", refexplicit=True,
                                refwarn=True, refdoc=docname)
    ref += nodes.inline(text="Running times")
    body += ref
    body += nodes.Text(".")
    note += body
    return note


def add_chapter_note(app, doctree):
    """Insert the running-time note in a chapter page, before its first section."""
    match = CHAPTER.match(app.env.docname)
    if not match:
        return
    app.env.note_dependency(str(Path(app.srcdir) / TIMINGS))
    entry = load(app.srcdir).get(match.group(1)) or {}
    top = next(iter(doctree.findall(nodes.section)), None)
    if top is None:
        return
    note = chapter_note(entry, app.env.docname)
    sections = [i for i, child in enumerate(top.children)
                if isinstance(child, nodes.section)]
    top.insert(sections[0] if sections else len(top.children), note)


class RunningTimes(SphinxDirective):
    """The table of every chapter's measured running times."""

    def run(self):
        self.env.note_dependency(str(Path(self.env.srcdir) / TIMINGS))
        pages = getattr(self.env, "running_times_pages", set())
        self.env.running_times_pages = pages | {self.env.docname}
        chapters = sorted(
            name for name in self.env.found_docs if CHAPTER.match(name))
        entries = load(self.env.srcdir)
        rows = []
        for docname in chapters:
            entry = entries.get(CHAPTER.match(docname).group(1)) or {}
            ref = addnodes.pending_xref("", refdomain="std", reftype="doc",
                                        reftarget=f"/{docname}", refexplicit=False,
                                        refwarn=True, refdoc=self.env.docname)
            ref += nodes.inline(text=docname)
            rows.append([[ref], measured(entry, "full"), measured(entry, "quick"),
                         inline(entry.get("faster") or DEFAULT_FASTER)])
        return [book_tables.table(
            ("chapter", "full mode", "quick mode", "for a faster run"), rows,
            widths=(3, 2, 2, 4), classes=["running-times"])]


def always_outdated(app, env, added, changed, removed):
    """Reread the table's page on every build: chapters may have been added."""
    return sorted(getattr(env, "running_times_pages", set()))


def setup(app):
    """Register the directive and the chapter notes, and the labs' directive."""
    app.add_directive("running-times", RunningTimes)
    # The teachers' page shows each lab's running times beside its questions.
    app.setup_extension("lab_questions")
    app.connect("doctree-read", add_chapter_note)
    app.connect("env-get-outdated", always_outdated)
    return {"version": "1.0", "parallel_read_safe": False,
            "parallel_write_safe": True}
