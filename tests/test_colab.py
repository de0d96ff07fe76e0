"""A chapter runs alone, as in Colab: its first cell fetches helpers.py, nothing else.

Colab is simulated. Chapter 1 (the cheapest) is copied alone into an empty
temporary folder, which is the kernel's working directory, and run to the end in
quick mode with nbclient. A local HTTP server on 127.0.0.1 (Python's http.server
in a thread) stands in for the repository: it serves a folder laid out like the
raw repository, <owner>/<repo>/<branch>/notebooks/helpers.py, with the owner,
repository and branch of _config.yml. In the copy under test, only the host part
of HELPERS_URL (https://raw.githubusercontent.com) is rewritten to point at that
server; the path it asks for is the chapter's own.
"""

from __future__ import annotations

import ast
import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import nbformat
import pytest
import yaml
from conftest import NOTEBOOKS, ROOT

CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
RAW_HOST = "https://raw.githubusercontent.com/"


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


@pytest.fixture
def raw_repository(tmp_path):
    """Serve helpers.py as the raw repository does; return (base URL, requests)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    owner_repo = config["url"].removeprefix("https://github.com/").strip("/")
    folder = tmp_path / "raw" / owner_repo / config["branch"] / "notebooks"
    folder.mkdir(parents=True)
    shutil.copy(NOTEBOOKS / "helpers.py", folder / "helpers.py")
    requests = []

    class Recording(SimpleHTTPRequestHandler):
        def log_message(self, format, *args):
            requests.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(
        Recording, directory=str(tmp_path / "raw")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", requests
    server.shutdown()
    server.server_close()


def test_chapter_runs_alone_with_helpers_fetched(raw_repository, tmp_path,
                                                 monkeypatch):
    from nbclient import NotebookClient

    base_url, requests = raw_repository
    chapter = CHAPTERS[0]
    notebook = nbformat.read(chapter, as_version=4)
    bootstrap = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert bootstrap.source.count(RAW_HOST) == 1, "HELPERS_URL names another host"
    bootstrap.source = bootstrap.source.replace(RAW_HOST, base_url)
    content = tmp_path / "content"
    content.mkdir()
    monkeypatch.setenv("AE_BOOK_QUICK", "1")
    monkeypatch.setenv("AE_BOOK_RESULTS", str(tmp_path / "results.json"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    client = NotebookClient(notebook, timeout=1800, kernel_name="python3",
                            resources={"metadata": {"path": str(content)}})
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        # After the chapter, ask the same kernel where it found helpers.py.
        probe = nbformat.v4.new_code_cell(
            "import os, helpers\n"
            "print(os.getcwd(), os.path.dirname(os.path.abspath(helpers.__file__)))")
        notebook.cells.append(probe)
        client.execute_cell(probe, len(notebook.cells) - 1)
    cwd, helpers_folder = probe.outputs[0]["text"].split()
    assert cwd == helpers_folder == str(content), "helpers.py came from elsewhere"
    assert (content / "helpers.py").read_bytes() == (
        NOTEBOOKS / "helpers.py").read_bytes()
    url = ast.literal_eval(bootstrap.source.split("HELPERS_URL = ", 1)[1].split(
        "\nif", 1)[0].strip())
    assert requests == ["/" + url.removeprefix(base_url)], requests
