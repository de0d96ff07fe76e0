"""Sphinx extension: the graded labs' questions, points and running times.

The directive `lab-questions` renders, for the teachers' page (book/teachers.md):

- with no argument, one row per chapter of the book: its questions, its points
  and its running time on a CPU in quick and full mode;
- with a chapter's number (`{lab-questions} 02`), that chapter's running times
  and a table of its questions: id (`NN-exK`, as in nbgrader's gradebook and the
  scores table of `make grade`), exercise and points.

The questions and points are read at build time from the grading files
(grading/NN_<chapter>.py, their QUESTIONS literal, never executed), and the
exercises from the chapter's self-check cells, so the page cannot drift from
what `make student` releases; a chapter without a grading file says so. The
times come from book/timings.yml through running_times.py.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

import book_tables
import running_times

GRADING = "grading"
LABEL = re.compile(r"""self_check\(\s*(['"])(Exercise (\d+))\1""")
logger = logging.getLogger(__name__)


def grading_file(srcdir, stem: str) -> Path:
    return Path(srcdir) / GRADING / f"{stem}.py"


def read_questions(path: Path) -> dict[str, int]:
    """Return {exercise label: points} of a grading file's QUESTIONS literal."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "QUESTIONS"):
            questions = ast.literal_eval(node.value)
            return {label: question["points"] for label, question in questions.items()}
    raise ValueError(f"{path} defines no QUESTIONS")


def exercise_labels(notebook: Path) -> list[str]:
    """Return the labels of a chapter's exercises, from its self-check cells."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    labels = []
    for cell in cells:
        if "self-check" in cell.get("metadata", {}).get("tags", []):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) \
                else cell["source"]
            match = LABEL.search(source)
            if match:
                labels.append(match.group(2))
    return labels


def question_id(lab: str, label: str) -> str:
    return f"{lab}-ex{label.split()[-1]}"


class LabQuestions(SphinxDirective):
    """The questions and points of one chapter's lab, or of every chapter."""

    optional_arguments = 1

    def chapters(self) -> dict[str, str]:
        """Return the book's chapters: two-digit number -> docname."""
        return {running_times.CHAPTER.match(name).group(1)[:2]: name
                for name in sorted(self.env.found_docs)
                if running_times.CHAPTER.match(name)}

    def questions(self, docname: str):
        """Return (lab, [(id, label, points)] or None, grading file's path)."""
        stem = running_times.CHAPTER.match(docname).group(1)
        lab = stem[:2]
        path = grading_file(self.env.srcdir, stem)
        notebook = Path(self.env.srcdir) / f"{docname}.ipynb"
        self.env.note_dependency(str(notebook))
        if not path.exists():
            return lab, None, path
        self.env.note_dependency(str(path))
        try:
            points = read_questions(path)
        except (SyntaxError, ValueError, KeyError, TypeError) as error:
            logger.warning(f"{path}: cannot read its questions: {error}",
                           location=self.get_location())
            return lab, None, path
        labels = exercise_labels(notebook) if notebook.exists() else list(points)
        return lab, [(question_id(lab, label), label, points.get(label))
                     for label in labels], path

    def reference(self, docname: str, text: str | None = None) -> nodes.Node:
        ref = addnodes.pending_xref("", refdomain="std", reftype="doc",
                                    reftarget=f"/{docname}",
                                    refexplicit=text is not None, refwarn=True,
                                    refdoc=self.env.docname)
        ref += nodes.inline(text=text or docname)
        return ref

    def run(self):
        self.env.note_dependency(str(Path(self.env.srcdir) / running_times.TIMINGS))
        pages = getattr(self.env, "lab_questions_pages", set())
        self.env.lab_questions_pages = pages | {self.env.docname}
        times = running_times.load(self.env.srcdir)
        chapters = self.chapters()
        if not self.arguments:
            return [self.overview(chapters, times)]
        lab = self.arguments[0].strip()
        if lab not in chapters:
            paragraph = nodes.paragraph(
                text=f"Chapter {lab} is not in the book yet: its lab, questions "
                     f"and running times will appear here when it is.")
            return [paragraph]
        return self.chapter(chapters[lab], times)

    def overview(self, chapters, times) -> nodes.Node:
        rows = []
        for lab, docname in chapters.items():
            _, questions, path = self.questions(docname)
            entry = times.get(running_times.CHAPTER.match(docname).group(1)) or {}
            if questions is None:
                listed, total = "not graded yet (no grading file)", "-"
            else:
                listed = ", ".join(f"{qid} ({points})" for qid, _, points in questions)
                total = str(sum(points or 0 for _, _, points in questions))
            rows.append([[self.reference(docname, f"Lab {lab}")], listed, total,
                         running_times.duration(entry.get("quick_seconds")),
                         running_times.duration(entry.get("full_seconds"))])
        return book_tables.table(
            ("lab", "questions (points)", "points", "quick mode", "full mode"), rows,
            widths=(2, 6, 1, 2, 2), classes=["lab-questions"])

    def chapter(self, docname, times) -> list[nodes.Node]:
        lab, questions, path = self.questions(docname)
        entry = times.get(running_times.CHAPTER.match(docname).group(1)) or {}
        result = []
        timing = nodes.paragraph()
        timing += nodes.Text(
            f"Running time of the whole notebook: quick mode "
            f"{running_times.measured(entry, 'quick')}, full mode "
            f"{running_times.measured(entry, 'full')}; on a GPU: not measured. ")
        result.append(timing)
        grading = f"{GRADING}/{path.name}"
        if questions is None:
            paragraph = nodes.paragraph()
            paragraph += nodes.Text("Not graded yet: the chapter has no grading "
                                    "file (")
            paragraph += nodes.literal(text=grading)
            paragraph += nodes.Text("): ")
            paragraph += nodes.literal(text="make student")
            paragraph += nodes.Text(" releases it with its self-checks, worth no "
                                    "points.")
            result.append(paragraph)
            return result
        rows = [[[nodes.literal(text=qid)], label,
                 "missing" if points is None else str(points)]
                for qid, label, points in questions]
        total = sum(points or 0 for _, _, points in questions)
        rows.append(["total", f"{len(questions)} questions", str(total)])
        result.append(book_tables.table(("question", "exercise", "points"), rows,
                                        widths=(2, 3, 1), classes=["lab-questions"]))
        return result


def always_outdated(app, env, added, changed, removed):
    """Reread the directive's pages on every build: grading files may be new."""
    return sorted(getattr(env, "lab_questions_pages", set()))


def setup(app):
    app.add_directive("lab-questions", LabQuestions)
    app.connect("env-get-outdated", always_outdated)
    return {"version": "1.0", "parallel_read_safe": False,
            "parallel_write_safe": True}
