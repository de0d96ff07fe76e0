"""Shared fixtures: the repository's paths, helpers, and one run of every chapter.

`make test` executes each chapter twice in quick mode: once under nbval (the
course's promise that every notebook runs as it is), and once here, in the
session fixture `chapter_runs`, which serves every other test that needs a run:

- the student and grading checks (tests/test_student.py): at each exercise,
  the student's stub from the lab release (tools/make_labs.py), then a plausible
  wrong answer (tests/wrong_answers/), each followed by the self-check and then
  by the question's hidden tests (grading/), which must both fail; then the
  solution, the self-check and the hidden tests, which must pass;
- the Colab check (tests/test_colab.py): each chapter runs alone in an empty
  folder, its first cell fetching helpers.py from a local stand-in for the
  repository;
- the book (fixture `built_site`): the executed chapters go into the quick
  build's execution cache, so that the build executes nothing.
"""

from __future__ import annotations

import ast
import copy
import functools
import importlib.util
import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
WRONG_ANSWERS = Path(__file__).resolve().parent / "wrong_answers"
RAW_HOST = "https://raw.githubusercontent.com/"
MODULES = ("helpers.py", "ae_blocks.py")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def helpers(monkeypatch):
    """The helpers module, in full mode, with nothing recorded yet."""
    import helpers as module

    monkeypatch.delenv("AE_BOOK_QUICK", raising=False)
    module.DATA_SOURCES.clear()
    module.RECORDED.clear()
    return module


@pytest.fixture
def no_plots(monkeypatch):
    """Close figures instead of showing them, and count them."""
    import matplotlib.pyplot as plt

    shown = []

    def fake_show():
        shown.append(plt.gcf())
        plt.close("all")

    monkeypatch.setattr(plt, "show", fake_show)
    return shown


# ------------------------------------------------------- one run of every chapter


# Around the stub and the wrong answer of an exercise, the kernel saves and then
# restores the random states that unseeded code draws from (Keras' initialisers
# draw their seeds from Python's `random`), so that the solution and the rest of
# the chapter compute what they compute in a run without them.
SAVE_RANDOM_STATE = """\
import random as _test_random, numpy as _test_numpy
_test_state = (_test_random.getstate(), _test_numpy.random.get_state())"""
RESTORE_RANDOM_STATE = """\
_test_random.setstate(_test_state[0])
_test_numpy.random.set_state(_test_state[1])
del _test_random, _test_numpy, _test_state"""


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _is_edits(answer) -> bool:
    return (isinstance(answer, tuple) and len(answer) > 0 and all(
        isinstance(edit, tuple) and len(edit) == 2
        and all(isinstance(text, str) for text in edit) for edit in answer))


def wrong_answers(stem: str) -> dict:
    """Return tests/wrong_answers/<stem>.py's WRONG_ANSWERS: label -> answer.

    An answer is either code, or a tuple of (old, new) edits of the solution.
    """
    path = WRONG_ANSWERS / f"{stem}.py"
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location(f"wrong_answers_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    answers = getattr(module, "WRONG_ANSWERS", None)
    if not isinstance(answers, dict) or not all(
            isinstance(k, str) and (isinstance(v, str) or _is_edits(v))
            for k, v in answers.items()):
        raise ValueError(f"{path} must define WRONG_ANSWERS = {{'Exercise 1': "
                         "'''code''' or ((old, new), ...), ...}}: code, or edits "
                         "of the solution")
    return answers


def wrong_source(answer, solution: str, where: str) -> str:
    """Return a wrong answer's code: as written, or the solution with its edits."""
    if isinstance(answer, str):
        return answer
    source = solution
    for old, new in answer:
        if source.count(old) != 1:
            raise ValueError(f"{where}: the edit must find {old!r} exactly once in "
                             f"the solution, found it {source.count(old)} times")
        source = source.replace(old, new)
    return source


def course_url(bootstrap_source: str) -> str:
    """Return the value of COURSE_URL in a chapter's first code cell."""
    for node in ast.walk(ast.parse(bootstrap_source)):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == \
                "COURSE_URL":
            return ast.literal_eval(node.value)
    raise ValueError("the first code cell defines no COURSE_URL")


@dataclass
class ChapterRun:
    """What one quick-mode run of a chapter did (see ChapterRuns.run)."""

    path: Path
    # The chapter's own cells, sources unchanged, with the outputs of this run.
    notebook: object = None
    # Per exercise label: {"stub" | "wrong answer" | "solution": (result, message)},
    # where result is "passed", the exception's name, or "cell raised <name>".
    exercises: dict = field(default_factory=dict)
    # The same for the question's hidden tests, run after the self-check (only
    # for a chapter with a grading file). A result is "passed", the exception's
    # name, or "stderr" when the tests, or the self-check after the solution,
    # wrote to stderr (which makes nbgrader give the question 0).
    hidden_tests: dict = field(default_factory=dict)
    hidden_seconds: float = 0.0  # the time the hidden tests took in this run
    error: str | None = None
    seconds: float = 0.0
    folder: Path | None = None  # the empty folder it ran in, as in Colab
    raw_host_count: int = 0  # occurrences of RAW_HOST in the first code cell
    probe: tuple = ()  # (kernel's cwd, folders helpers and ae_blocks came from)
    requests: list = field(default_factory=list)  # paths asked of the server
    results: dict = field(default_factory=dict)  # what the chapter recorded
    claims: list = field(default_factory=list)  # the claims it stated


class ChapterRuns:
    """Runs each chapter once, on first request, and keeps what the run did."""

    def __init__(self, folder: Path, base_url: str, requests: list, served: Path):
        self.folder = folder
        self.base_url = base_url
        self.served = served  # the folder that the local server serves the modules from
        self._requests = requests
        self._runs: dict[str, ChapterRun] = {}
        self._labs: tuple[Path, Path] | None = None
        self.hidden_seconds = 0.0  # the time the hidden tests took, in all runs
        self.labs_seconds = 0.0  # the time the release took

    def labs(self) -> tuple[Path, Path]:
        """Write the labs as `make student` does, once: (release, course folder)."""
        if self._labs is None:
            import make_labs

            student, course = self.folder / "student", self.folder / "labs"
            start = time.perf_counter()
            assert make_labs.main(["--output", str(student),
                                   "--course", str(course)]) == 0
            self.labs_seconds = time.perf_counter() - start
            self._labs = (student, course)
        return self._labs

    def student_folder(self) -> Path:
        """The student release of `make student`: NN/NN.ipynb, helpers, ae_blocks."""
        return self.labs()[0]

    def course_folder(self) -> Path:
        """The nbgrader course folder of `make student`, with the hidden tests."""
        return self.labs()[1]

    def __getitem__(self, stem: str) -> ChapterRun:
        if stem not in self._runs:
            self._runs[stem] = self.run(NOTEBOOKS / f"{stem}.ipynb")
        return self._runs[stem]

    def kernel_environment(self) -> dict:
        env = dict(os.environ, AE_BOOK_QUICK="1")
        # As in Colab: the modules can only come from the chapter's own folder,
        # and only the chapter itself quietens TensorFlow's log.
        env.pop("PYTHONPATH", None)
        env.pop("TF_CPP_MIN_LOG_LEVEL", None)
        # Figures go inline, as in Jupyter, whatever the test process uses.
        env.pop("MPLBACKEND", None)
        for name in ("NO_PROXY", "no_proxy"):
            env[name] = ",".join(filter(None, [env.get(name), "127.0.0.1"]))
        return env

    def run(self, path: Path) -> ChapterRun:
        """Run a chapter in quick mode in one kernel, in an empty folder.

        The first code cell fetches helpers.py from the local server (only the
        host of HELPERS_URL is rewritten). At each solution cell the kernel runs
        the student's stub (from the release), then the chapter's wrong answer,
        each followed by a copy of the self-check cell and then by the question's
        hidden tests (from the course's source notebook), with the random states
        restored after them; then the chapter goes on with the solution and the
        self-check itself, after which the hidden tests run once more, between a
        save and a restore of the random states. The chapter's cells keep their
        outputs; the extra cells leave none in it.
        """
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError

        import make_labs

        reference = nbformat.read(path, as_version=4)
        lab = make_labs.lab_id(path)
        student = nbformat.read(self.student_folder() / lab / f"{lab}.ipynb",
                                as_version=4)
        stubs = {cell.get("id"): cell for cell in student.cells}
        hidden = hidden_tests(self.course_folder() / "source" / lab / f"{lab}.ipynb")
        wrong = wrong_answers(path.stem)
        notebook = copy.deepcopy(reference)
        bootstrap = next(c for c in notebook.cells if c.cell_type == "code")
        run = ChapterRun(path=path, raw_host_count=bootstrap.source.count(RAW_HOST),
                         folder=self.folder / "colab" / path.stem)
        bootstrap.source = bootstrap.source.replace(RAW_HOST, self.base_url)
        run.folder.mkdir(parents=True)
        client = NotebookClient(notebook, timeout=1800, kernel_name="python3",
                                record_timing=False,
                                resources={"metadata": {"path": str(run.folder)}})
        first_request = len(self._requests)
        hidden_before = self.hidden_seconds
        label = None
        start = time.perf_counter()
        with client.setup_kernel(env=self.kernel_environment()):
            info = client.wait_for_reply(client.kc.kernel_info())
            language_info = info["content"].get("language_info")
            index = 0
            try:
                for index, cell in enumerate(notebook.cells):
                    if "solution" in tags(cell):
                        check = notebook.cells[index + 1]
                        label = make_labs.exercise_label(check.source)
                        stub = stubs.get(cell.get("id"))
                        trials = run.exercises.setdefault(label, {})
                        tests = hidden.get(check.get("id"))
                        execute_extra(
                            client, nbformat.v4.new_code_cell(SAVE_RANDOM_STATE), index)
                        for trial, source in (
                                ("stub", stub.source if stub else None),
                                ("wrong answer", None if label not in wrong
                                 else wrong_source(wrong[label], cell.source,
                                                   f"{path.stem}, {label}"))):
                            trials[trial] = self.trial(client, source, check, index)
                            if tests is not None and source is not None:
                                run.hidden_tests.setdefault(label, {})[trial] = \
                                    self.hidden_trial(client, tests, index + 1)
                        execute_extra(
                            client, nbformat.v4.new_code_cell(RESTORE_RANDOM_STATE),
                            index)
                    if cell.cell_type == "code":
                        client.execute_cell(cell, index)
                        if "self-check" in tags(cell) and label is not None:
                            run.exercises[label]["solution"] = ("passed", "")
                            tests = hidden.get(cell.get("id"))
                            if tests is not None:
                                run.hidden_tests.setdefault(label, {})["solution"] = (
                                    self.hidden_after_solution(client, tests, cell,
                                                               index))
            except CellExecutionError as error:
                run.error = f"cell {index}: {error.ename}: {error.evalue}"
            run.seconds = time.perf_counter() - start
            # After the chapter, ask the same kernel where it found the modules.
            probe = nbformat.v4.new_code_cell(
                "import os, helpers, ae_blocks\n"
                "print(os.getcwd(), *(os.path.dirname(os.path.abspath(m.__file__))\n"
                "                     for m in (helpers, ae_blocks)))")
            notebook.cells.append(probe)
            try:
                client.execute_cell(probe, len(notebook.cells) - 1)
                run.probe = tuple(probe.outputs[0]["text"].split())
            except (CellExecutionError, IndexError, KeyError) as error:
                run.probe = ("probe failed", repr(error))
            notebook.cells.pop()
        run.requests = self._requests[first_request:]
        run.hidden_seconds = self.hidden_seconds - hidden_before
        run.notebook = executed_copy(reference, notebook, language_info)
        run.results, run.claims = course_helpers().recorded_in(run.notebook)
        return run

    def hidden_trial(self, client, tests, index) -> tuple[str, str]:
        """Run a question's hidden tests; return what they did, as nbgrader sees it."""
        import nbformat
        from nbclient.exceptions import CellExecutionError

        cell = nbformat.v4.new_code_cell(tests)
        start = time.perf_counter()
        try:
            execute_extra(client, cell, index)
        except CellExecutionError as error:
            return (error.ename, error.evalue)
        finally:
            self.hidden_seconds += time.perf_counter() - start
        stderr = stderr_text(cell)
        return ("stderr", stderr) if stderr else ("passed", "")

    def hidden_after_solution(self, client, tests, check, index) -> tuple[str, str]:
        """Run the hidden tests after the solution's self-check, random states kept.

        nbgrader runs the self-check and the hidden tests as one cell, which
        scores 0 if either writes to stderr.
        """
        import nbformat

        execute_extra(client, nbformat.v4.new_code_cell(SAVE_RANDOM_STATE), index)
        result = self.hidden_trial(client, tests, index)
        execute_extra(client, nbformat.v4.new_code_cell(RESTORE_RANDOM_STATE), index)
        stderr = stderr_text(check)
        if result[0] == "passed" and stderr:
            return ("stderr", f"the self-check wrote to stderr: {stderr}")
        return result

    @staticmethod
    def trial(client, source, check, index) -> tuple[str, str]:
        """Run an answer, then a copy of the self-check; return what the check did."""
        import nbformat
        from nbclient.exceptions import CellExecutionError

        if source is None:
            return ("missing", "")
        try:
            execute_extra(client, nbformat.v4.new_code_cell(source), index)
        except CellExecutionError as error:
            return (f"cell raised {error.ename}", error.evalue)
        try:
            execute_extra(client, copy.deepcopy(check), index + 1)
        except CellExecutionError as error:
            return (error.ename, error.evalue)
        return ("passed", "")


def execute_extra(client, cell, index) -> None:
    """Execute a cell that is not the chapter's, at the chapter's cell `index`.

    nbclient stores an executed cell in the notebook at its index; the chapter's
    own cell is put back, so that the chapter runs and keeps its cells.
    """
    original = client.nb.cells[index]
    try:
        client.execute_cell(cell, index)
    finally:
        client.nb.cells[index] = original


def stderr_text(cell) -> str:
    """Return what an executed cell wrote to stderr."""
    return "".join(output.get("text", "") for output in cell.get("outputs", [])
                   if output.get("output_type") == "stream"
                   and output.get("name") == "stderr")


def hidden_tests(source_notebook: Path) -> dict:
    """Return the hidden tests of a lab's source notebook, by test cell id.

    A chapter without a grading file has none: its test cells are not graded.
    """
    import nbformat

    import make_labs

    notebook = nbformat.read(source_notebook, as_version=4)
    tests = {}
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            hidden = cell.source.split(make_labs.BEGIN_HIDDEN, 1)[1]
            tests[cell.get("id")] = hidden.split(make_labs.END_HIDDEN, 1)[0].strip("\n")
    return tests


def executed_copy(reference, executed, language_info):
    """Return the chapter as it is, with the outputs of its own executed cells.

    Execution counts are numbered as in a run of the chapter alone, since the
    stubs and wrong answers ran in between.
    """
    notebook = copy.deepcopy(reference)
    if language_info:
        notebook.metadata["language_info"] = language_info
    count = 0
    for cell, ran in zip(notebook.cells, executed.cells):
        if cell.cell_type != "code" or ran.execution_count is None:
            continue
        count += 1
        cell.outputs = copy.deepcopy(ran.outputs)
        cell.execution_count = count
        for output in cell.outputs:
            if output.get("output_type") == "execute_result":
                output["execution_count"] = count
    return notebook


def course_helpers():
    """The helpers module, imported from notebooks/ (for its readers of results)."""
    import helpers

    return helpers


@pytest.fixture(scope="session")
def raw_repository(tmp_path_factory):
    """Serve the modules as the raw repository does; yield (base URL, requests, folder).

    The folder is laid out like the raw repository,
    <owner>/<repo>/<ref>/notebooks/{helpers,ae_blocks}.py, with the owner,
    repository and ref that _config.yml names.
    """
    import course_ref

    owner_repo, ref = course_ref.read_config()
    root = tmp_path_factory.mktemp("raw")
    folder = root / owner_repo / ref / "notebooks"
    folder.mkdir(parents=True)
    for module in MODULES:
        shutil.copy(NOTEBOOKS / module, folder / module)
    requests: list[str] = []

    class Recording(SimpleHTTPRequestHandler):
        def log_message(self, format, *args):
            requests.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(
        Recording, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", requests, folder
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def chapter_runs(tmp_path_factory, raw_repository) -> ChapterRuns:
    """Each chapter run once in quick mode (on first use); see ChapterRuns.run."""
    base_url, requests, served = raw_repository
    runs = ChapterRuns(tmp_path_factory.mktemp("chapters"), base_url, requests,
                       served)
    SESSION_RUNS.append(runs)
    return runs


SESSION_RUNS: list[ChapterRuns] = []


def pytest_terminal_summary(terminalreporter):
    """Say what the graded labs cost this session: the release and hidden tests."""
    for runs in SESSION_RUNS:
        if runs.labs_seconds or runs.hidden_seconds:
            terminalreporter.write_line(
                f"graded labs: release (tools/make_labs.py) {runs.labs_seconds:.1f} s; "
                f"hidden tests in {len(runs._runs)} chapter runs "
                f"{runs.hidden_seconds:.1f} s")


def build_cache(output: Path):
    """Return the jupyter-cache of a quick build into <output>/_build."""
    from jupyter_cache import get_cache

    import mode_cache

    base = mode_cache.default_cache_base(output / "_build" / "html")
    return get_cache(str(mode_cache.cache_folder(base, "quick")))


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, chapter_runs):
    """Build the whole book once in quick mode; return its html folder.

    The chapters are not executed again: their runs (chapter_runs) are put into
    the build's execution cache first, where myst-nb finds them. The build's
    output goes to <output>/build.log. AE_BOOK_TEST_SITE=<folder> reuses a build
    made with `jupyter-book build . --path-output <folder>`.
    """
    import subprocess

    from jupyter_cache.base import CacheBundleIn

    if os.environ.get("AE_BOOK_TEST_SITE"):
        output = Path(os.environ["AE_BOOK_TEST_SITE"])
        return output / "_build" / "html"
    output = tmp_path_factory.mktemp("book")
    cache = build_cache(output)
    for path in CHAPTERS:
        run = chapter_runs[path.stem]
        assert run.error is None, f"{path.name} failed, no book is built: {run.error}"
        cache.cache_notebook_bundle(
            CacheBundleIn(run.notebook, str(path),
                          data={"execution_seconds": run.seconds}),
            check_validity=True, overwrite=True)
    env = dict(os.environ, AE_BOOK_QUICK="1")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    process = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(output),
         "--builder", "html", "-W", "-n", "--keep-going"],
        env=env, capture_output=True, text=True, timeout=3600,
    )
    (output / "build.log").write_text(process.stdout + process.stderr)
    # Warnings and errors go to stderr, progress to stdout.
    log = process.stderr[-6000:] + process.stdout[-2000:]
    assert process.returncode == 0, f"the book build failed:\n{log}"
    return output / "_build" / "html"


# The browser tests (test_site.py, test_accessibility.py): Debian's Chromium.
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
NO_CHROMIUM = ("the browser tests need Chromium: sudo apt-get install chromium "
               "chromium-driver (Debian's packages)")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--window-size=1280,1000",
    # Containers often have a small /dev/shm, where Chromium's pages can crash.
    "--disable-dev-shm-usage",
    # A lab machine without internet: only the local server can be reached.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)


@pytest.fixture(scope="session")
def site_url(built_site):
    """Serve the built site on 127.0.0.1; return its base URL."""
    html = built_site

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium with a fresh profile for each test module, which keeps
    the console's log."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert CHROMIUM and CHROMEDRIVER, NO_CHROMIUM
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options,
                              service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    # axe-core checks a long page for a minute or more.
    driver.set_script_timeout(180)
    yield driver
    driver.quit()
