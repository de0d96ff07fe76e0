"""A chapter runs alone, as in Colab: its first cell fetches the course's modules.

Colab is simulated in the session's one run of each chapter (conftest.ChapterRuns):
every chapter is copied alone into an empty folder, which is the kernel's working
directory, and run to the end in quick mode with nbclient. A local HTTP server on
127.0.0.1 stands in for the repository: it serves helpers.py and ae_blocks.py in
a folder laid out like the raw repository, <owner>/<repo>/<ref>/notebooks/, with
the owner, repository and ref that _config.yml names. In the copy under test,
only the host part of COURSE_URL is rewritten to point at that server; the path
it asks for is the chapter's own.
"""

from __future__ import annotations

import ast

import nbformat
import pytest
from conftest import CHAPTERS, MODULES, RAW_HOST, course_url


def first_code_cell(path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return next(cell.source for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_bootstrap_installs_nothing(path):
    source = first_code_cell(path)
    assert "pip" not in source, f"{path.name}: the first cell installs packages"
    assert not any(line.lstrip().startswith(("!", "%")) for line in source.splitlines())
    imported = {alias.name for node in ast.walk(ast.parse(source))
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    assert imported <= {"os", "urllib.request"}, imported
    assert source == first_code_cell(CHAPTERS[0]), (
        f"{path.name}: the first cell is not chapter 1's Colab set-up cell"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_alone_with_its_modules_fetched(chapter_runs, path):
    run = chapter_runs[path.stem]
    assert run.raw_host_count == 1, "COURSE_URL names another host"
    assert run.error is None, f"{path.name} failed in an empty folder: {run.error}"
    assert run.probe == (str(run.folder),) * 3, (
        f"the kernel's folder, then where helpers and ae_blocks came from: {run.probe}")
    for module in MODULES:
        assert (run.folder / module).read_bytes() == (
            chapter_runs.served / module).read_bytes(), \
            f"{module} is not the served one"
    base = course_url(first_code_cell(path)).removeprefix(RAW_HOST)
    assert sorted(run.requests) == sorted(f"/{base}{module}" for module in MODULES)


def test_no_tensorflow_log_lines_reach_the_outputs_after_setup(chapter_runs):
    """The Colab cell quietens TensorFlow's C++ log (e.g. `E0000 ... NodeDef
    mentions ...`). TensorFlow 2.21 still prints a few start-up lines, before its
    log is set up, in the cell that imports it; Colab's 2.20 prints none, which
    `make colab` checks on Colab's versions (tools/run_chapters.py --no-log-lines)."""
    import nbformat
    import run_chapters

    for path in CHAPTERS:
        cells = chapter_runs[path.stem].notebook.cells
        setup = [i for i, cell in enumerate(cells) if cell.cell_type == "code"][1]
        later = nbformat.v4.new_notebook(cells=cells[setup + 1:])
        assert run_chapters.log_lines(later) == [], path.name
