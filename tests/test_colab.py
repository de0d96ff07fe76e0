"""A chapter runs alone, as in Colab: its first cell fetches helpers.py, nothing else.

Colab is simulated in the session's one run of each chapter (conftest.ChapterRuns):
every chapter is copied alone into an empty folder, which is the kernel's working
directory, and run to the end in quick mode with nbclient. A local HTTP server on
127.0.0.1 (Python's http.server in a thread) stands in for the repository: it
serves a folder laid out like the raw repository,
<owner>/<repo>/<branch>/notebooks/helpers.py, with the owner, repository and
branch of _config.yml. In the copy under test, only the host part of HELPERS_URL
(https://raw.githubusercontent.com) is rewritten to point at that server; the
path it asks for is the chapter's own.
"""

from __future__ import annotations

import ast

import nbformat
import pytest
from conftest import CHAPTERS, RAW_HOST, helpers_url


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
def test_chapter_runs_alone_with_helpers_fetched(chapter_runs, path):
    run = chapter_runs[path.stem]
    assert run.raw_host_count == 1, "HELPERS_URL names another host"
    assert run.error is None, f"{path.name} failed in an empty folder: {run.error}"
    cwd, helpers_folder = run.probe
    assert cwd == helpers_folder == str(run.folder), "helpers.py came from elsewhere"
    assert (run.folder / "helpers.py").read_bytes() == (
        chapter_runs.served_helpers.read_bytes()), "helpers.py is not the served one"
    url = helpers_url(first_code_cell(path))
    assert run.requests == ["/" + url.removeprefix(RAW_HOST)], run.requests
