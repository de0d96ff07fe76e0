"""The tools: collecting the building blocks, naming the repository and ref,
and running the chapters (tools/*.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import course_ref
import nbformat
import pytest
import run_chapters
import sync_blocks
import yaml
from conftest import CHAPTERS, ROOT

# ------------------------------------------------------------ the blocks


def chapter(path, *cells, imports="import keras\nimport numpy as np\n"):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A chapter"),
        nbformat.v4.new_code_cell("import os"),
        nbformat.v4.new_code_cell(imports + "import helpers\n\nhelpers.setup()"),
        *[nbformat.v4.new_code_cell(source, metadata={"tags": ["definition"]})
          for source in cells]])
    nbformat.write(notebook, path)
    return path


def test_ae_blocks_is_up_to_date():
    assert sync_blocks.main(["--check"]) == 0, "run `make sync`"


def test_blocks_come_in_book_order_with_the_imports_they_use(tmp_path):
    first = chapter(tmp_path / "01_a.ipynb", "def double(x):\n    return 2 * x")
    second = chapter(tmp_path / "02_b.ipynb",
                     "class Layer(keras.layers.Layer):\n    pass",
                     "def quadruple(x):\n    return double(double(x))")
    text = sync_blocks.collect([first, second])
    assert text.index("def double") < text.index("class Layer") < text.index(
        "def quadruple")
    assert "import keras\n" in text and "numpy" not in text
    namespace = {}
    exec(compile(text, "ae_blocks.py", "exec"), namespace)
    assert namespace["quadruple"](1) == 4


@pytest.mark.parametrize("cells, message", [
    (("def f():\n    pass", "def f():\n    return 1"), "defines f, which"),
    (("def f():\n    return helpers.mode()",), "run without the course"),
])
def test_a_block_defined_twice_or_using_helpers_is_refused(tmp_path, cells, message):
    with pytest.raises(sync_blocks.BlockError, match=message):
        sync_blocks.collect([chapter(tmp_path / "01_a.ipynb", *cells)])


# ---------------------------------------------------- the repository and ref


@pytest.fixture
def copy(tmp_path):
    """The repository's configuration and chapters, copied."""
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", root)
    for path in CHAPTERS:
        for suffix in (".ipynb", ".py"):
            shutil.copy(path.with_suffix(suffix), root / "notebooks")
    return root


def test_a_fork_is_named_everywhere_with_one_command(copy):
    assert course_ref.disagreements(copy) == []
    course_ref.stamp("someone/fork", "main", copy)
    assert course_ref.read_config(copy) == ("someone/fork", "main")
    assert course_ref.disagreements(copy) == []
    for path in course_ref.chapter_files(copy):
        assert course_ref.urls_in(path) == [("someone/fork", "main")]
    config = yaml.safe_load((copy / "_config.yml").read_text())
    assert config["repository"]["url"] == "https://github.com/someone/fork"


def test_a_chapter_out_of_step_is_named(copy):
    path = copy / "notebooks" / CHAPTERS[0].with_suffix(".py").name
    path.write_text(path.read_text().replace('"main/notebooks/"', '"v1/notebooks/"'))
    assert [problem.split()[0] for problem in course_ref.disagreements(copy)] == [
        f"notebooks/{path.name}"]


@pytest.mark.parametrize("repository, ref, message", [
    ("not a repo", "main", "OWNER/REPO"), ("a/b", "bad ref", "branch, tag or commit")])
def test_bad_names_are_refused(copy, repository, ref, message):
    with pytest.raises(course_ref.RefError, match=message):
        course_ref.stamp(repository, ref, copy)


def test_publishing_tags_a_commit_whose_chapters_fetch_from_that_tag(tmp_path):
    """What the publishing workflow does: the launch buttons (_config.yml's
    branch) and every chapter's COURSE_URL name one ref, the pushed tag."""
    def git(*args, cwd):
        return subprocess.run(["git", *args], cwd=cwd, check=True,
                              capture_output=True, text=True).stdout.strip()

    remote, clone = tmp_path / "remote.git", tmp_path / "clone"
    git("init", "--quiet", "--bare", str(remote), cwd=tmp_path)
    git("clone", "--quiet", "--no-local", str(ROOT), str(clone), cwd=tmp_path)
    # The working tree's chapters and tool, committed in the clone.
    for path in course_ref.chapter_files(ROOT) + [ROOT / "_config.yml"]:
        shutil.copy(path, clone / path.relative_to(ROOT))
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet",
        "--allow-empty", "-am", "work", cwd=clone)
    git("remote", "add", "pages", str(remote), cwd=clone)
    sha = git("rev-parse", "HEAD", cwd=clone)
    ref = course_ref.publish(sha, "pages", clone)
    assert ref == f"site-{sha[:12]}"
    assert git("tag", cwd=remote) == ref
    git("checkout", "--quiet", ref, cwd=clone)
    assert course_ref.read_config(clone)[1] == ref
    assert course_ref.disagreements(clone) == []
    assert git("rev-parse", f"{ref}~1", cwd=clone) == sha
    assert git("branch", "--list", cwd=remote) == "", "no branch was pushed"


def test_the_command_line_reports_without_a_traceback(copy, monkeypatch, capsys):
    monkeypatch.setattr(course_ref, "ROOT", copy)
    assert course_ref.main(["--repository", "not a repo"]) == 1
    assert capsys.readouterr().err.startswith("error: the repository must look")


# ---------------------------------------------------------- running chapters


def row(chapter, seconds, error=None, results=None, claims=()):
    return {"chapter": chapter, "wall_seconds": seconds, "devices": ["CPU (2 cores)"],
            "error": error, "results": results or {}, "claims": list(claims)}


def test_update_timings_keeps_other_entries_and_skips_failed_chapters(tmp_path):
    path, helpers_copy = tmp_path / "timings.yml", tmp_path / "helpers.py"
    helpers_copy.write_text("A = 1\nFULL_MODE_CPU_MINUTES = {}\nB = 2\n")
    path.write_text(yaml.safe_dump({"chapters": {"01_a": {
        "full_seconds": 90, "full_device": "CPU (2 cores)",
        "faster": "lower `num_epochs`"}}}))
    run_chapters.update_timings(
        [row("01_a", 27.6), row("02_b", 40.2), row("03_c", 12.0, error="boom")],
        "quick", path, helpers_copy)
    text = path.read_text()
    assert text.startswith(run_chapters.TIMINGS_HEADER)
    assert yaml.safe_load(text) == {"chapters": {
        "01_a": {"full_seconds": 90, "full_device": "CPU (2 cores)",
                 "faster": "lower `num_epochs`", "quick_seconds": 28,
                 "quick_device": "CPU (2 cores)"},
        "02_b": {"quick_seconds": 40, "quick_device": "CPU (2 cores)"},
    }}
    run_chapters.update_timings([row("02_b", 150.0)], "full", path, helpers_copy)
    namespace = {}
    exec(helpers_copy.read_text(), namespace)
    assert namespace["FULL_MODE_CPU_MINUTES"] == {1: 1.5, 2: 2.5}
    assert namespace["A"] == 1 and namespace["B"] == 2


def test_the_setup_cell_tells_the_full_mode_times_of_the_book():
    import helpers

    timings = yaml.safe_load((ROOT / "book" / "timings.yml").read_text())["chapters"]
    expected = {int(name[:2]): round(entry["full_seconds"] / 60, 1)
                for name, entry in timings.items() if entry.get("full_seconds")
                and str(entry.get("full_device", "")).startswith("CPU")}
    assert helpers.FULL_MODE_CPU_MINUTES == expected, (
        "run tools/run_chapters.py --full --update-timings")


def test_a_reference_run_of_some_chapters_keeps_the_others(tmp_path):
    path = tmp_path / "reference_results.json"
    facts = {"date": "2026-01-02T10:00:00+00:00", "commit": "abc", "cpu": "X",
             "python": "3.11", "tensorflow": "2.21.0", "keras": "3.15.1"}
    claim = {"statement": "S.", "measured": ["m", 1.0], "reference": ["r", 2.0],
             "fmt": ".1f", "unit": "", "holds": True, "course_says": "holds",
             "mode": "full", "device": "CPU (2 cores)"}
    assert run_chapters.update_reference(
        [row("01_a", 10, results={"a/x": 1.0}, claims=[claim]),
         row("02_b", 20, results={"b/y": 3.0})], facts, path) == ["01_a", "02_b"]
    later = dict(facts, commit="def")
    assert run_chapters.update_reference(
        [row("01_a", 11, results={"a/x": 1.5}), row("03_c", 5, error="boom")],
        later, path) == ["01_a"]
    data = json.loads(path.read_text())
    assert data["mode"] == "full" and sorted(data["chapters"]) == ["01_a", "02_b"]
    assert data["chapters"]["01_a"]["results"] == {"a/x": 1.5}
    assert data["chapters"]["01_a"]["commit"] == "def"
    assert data["chapters"]["02_b"]["commit"] == "abc"
    first = json.loads(path.read_text())
    run_chapters.update_reference([row("02_b", 20, results={"b/y": 3.0},
                                       claims=[claim])], facts, path)
    stored = json.loads(path.read_text())["chapters"]["02_b"]["claims"][0]
    assert "mode" not in stored and stored["statement"] == "S."
    assert first["chapters"]["01_a"] == json.loads(path.read_text())["chapters"]["01_a"]


def test_reference_results_need_full_mode(capsys):
    with pytest.raises(SystemExit):
        run_chapters.parse_args(["--quick", "--reference-results"])
    assert "needs full mode" in capsys.readouterr().err
    assert run_chapters.parse_args(["--full", "--reference-results"]).reference_results


def test_the_run_facts_name_the_machine_and_the_commit(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU 9000\n")
    assert run_chapters.cpu_model(cpuinfo) == "Some CPU 9000"
    facts = run_chapters.run_facts()
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", facts["commit"])
    assert facts["tensorflow"][0].isdigit() and facts["keras"][0].isdigit()


def test_a_missing_notebook_is_named(capsys):
    assert run_chapters.main(["--quick", "notebooks/99_missing.ipynb"]) == 2
    assert "99_missing" in capsys.readouterr().out
