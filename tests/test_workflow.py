"""The publishing workflow, and the versions that `make` installs.

Every workflow file is checked by two linters from requirements.txt: check-jsonschema
against GitHub's workflow schema (a misspelt key, a wrong type), then zizmor's audit
(script injection, credentials left behind, unpinned actions; its policy is in
.github/zizmor.yml). Both run offline, and any finding fails the test.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
PUBLISH = ROOT / ".github" / "workflows" / "publish.yml"
ZIZMOR_CONFIG = ROOT / ".github" / "zizmor.yml"
INSTALL_HINT = "install the tests' tools: make venv (pip install -r requirements.txt)"


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def zizmor() -> str:
    path = Path(sysconfig.get_path("scripts")) / "zizmor"
    if not path.exists():
        pytest.fail(f"zizmor is not installed in {path.parent}: {INSTALL_HINT}")
    return str(path)


def test_there_are_workflows():
    assert PUBLISH in WORKFLOWS, f"no publishing workflow at {PUBLISH}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_schema(path):
    result = run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                  "vendor.github-workflows", str(path)])
    assert "No module named" not in result.stderr, INSTALL_HINT
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_the_audit(path):
    result = run([zizmor(), "--offline", "--config", str(ZIZMOR_CONFIG), str(path)])
    # Exit code 0 means no finding; 3 that the file was not read as a workflow.
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout, result.stdout


# ------------------------------------------------------------ the publishing workflow


@pytest.fixture(scope="module")
def publish():
    workflow = yaml.safe_load(PUBLISH.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"]
            if step.get("uses", "").split("@")[0] == action]


def step_index(job: dict, predicate) -> int:
    indices = [i for i, step in enumerate(job["steps"]) if predicate(step)]
    assert len(indices) == 1, f"expected one such step, found {len(indices)}"
    return indices[0]


def build_job(workflow: dict) -> dict:
    jobs = [job for job in workflow["jobs"].values()
            if any("make book" in step.get("run", "") for step in job["steps"])]
    assert len(jobs) == 1, "expected one job that runs `make book`"
    return jobs[0]


def test_publishes_on_push_to_main(publish):
    assert publish["on"]["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in publish["on"]
    assert publish["concurrency"]["group"]


def test_builds_the_book_in_full_mode_with_make(publish):
    # Full mode: the mode's variable is set nowhere, neither for the workflow, a
    # job nor a step.
    assert "AE_BOOK_QUICK" not in PUBLISH.read_text(encoding="utf-8")
    job = build_job(publish)
    build = job["steps"][step_index(job, lambda s: "make book" in s.get("run", ""))]
    assert re.fullmatch(r"make book( PYTHON=\S+)?", build["run"].strip()), build["run"]
    python = steps_using(job, "actions/setup-python")
    assert [step["with"]["python-version"] for step in python] == ["3.11"]
    apt = step_index(job, lambda s: "dataset-fashion-mnist" in s.get("run", ""))
    assert "apt-get install -y dataset-fashion-mnist" in job["steps"][apt]["run"]
    assert apt < step_index(job, lambda s: "make book" in s.get("run", ""))
    # The full book takes about half an hour on 2 cores with the MNIST sample,
    # longer with full MNIST; GitHub's default is 360.
    assert 60 <= job["timeout-minutes"] <= 360


def test_keeps_the_execution_cache(publish):
    job = build_job(publish)
    book = step_index(job, lambda s: "make book" in s.get("run", ""))
    restore = step_index(job, lambda s: s.get("uses", "").startswith(
        ("actions/cache@", "actions/cache/restore@")))
    step = job["steps"][restore]
    assert restore < book
    paths = step["with"]["path"].split()
    # The recorded numbers are outputs of the cached notebooks.
    assert paths == ["_build/.jupyter_cache"]
    key, prefix = step["with"]["key"], step["with"]["restore-keys"].strip()
    assert "notebooks/*.ipynb" in key
    assert "notebooks/helpers.py" in key and "notebooks/ae_blocks.py" in key
    assert key.replace("\n", " ").startswith(prefix.replace("\n", " "))
    if step["uses"].startswith("actions/cache/restore@"):
        save = step_index(job, lambda s: s.get("uses", "").startswith(
            "actions/cache/save@"))
        assert save > book
        assert job["steps"][save]["with"]["path"].split() == paths
        assert "always()" in job["steps"][save]["if"]


def test_tags_the_chapters_that_the_site_opens_before_building(publish):
    """The launch buttons and the modules a chapter fetches name one ref: the
    build job stamps and tags it (tools/course_ref.py --publish, tested in
    test_tools.py), then builds from the unstamped chapters for the cache."""
    job = build_job(publish)
    tag = step_index(job, lambda s: "course_ref.py --publish" in s.get("run", ""))
    command = job["steps"][tag]["run"]
    assert '--sha "$GITHUB_SHA"' in command
    # The chapters go back to the commit's own, _config.yml stays stamped.
    assert re.search(r'git checkout "\$GITHUB_SHA" -- notebooks\s*$', command)
    restore = step_index(job, lambda s: s.get("uses", "").startswith(
        "actions/cache/restore@"))
    assert tag < restore < step_index(job, lambda s: "make book" in s.get("run", ""))
    assert job["permissions"]["contents"] == "write"
    assert publish["permissions"]["contents"] == "read"


def test_deploys_the_built_site(publish):
    job = build_job(publish)
    upload = steps_using(job, "actions/upload-pages-artifact")
    assert [step["with"]["path"] for step in upload] == ["_build/html"]
    deploy = [(name, job) for name, job in publish["jobs"].items()
              if steps_using(job, "actions/deploy-pages")]
    assert len(deploy) == 1, "expected one job that deploys to Pages"
    name, deploy_job = deploy[0]
    build_name = next(n for n, j in publish["jobs"].items() if j is job)
    needs = deploy_job["needs"]
    assert build_name in ([needs] if isinstance(needs, str) else needs)
    permissions = {**publish.get("permissions", {}),
                   **deploy_job.get("permissions", {})}
    assert permissions["pages"] == permissions["id-token"] == "write"
    assert deploy_job["environment"]["name"] == "github-pages"


# ------------------------------------------------------------------ the versions


def requirements() -> list[Requirement]:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [Requirement(line.split("#")[0]) for line in lines
            if line.split("#")[0].strip()]


def lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version.strip(), f"requirements.lock: not a pin: {line!r}"
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_lock_pins_every_requirement_within_its_bounds():
    pins = lock()
    for requirement in requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, (
            f"requirements.lock does not pin {requirement.name}: run make lock")
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {requirement.name}=={pins[name]}, outside "
            f"requirements.txt's {requirement}: run make lock")
    assert not {"pip", "setuptools"} & pins.keys()


def test_make_installs_the_locked_versions():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    stamp = re.search(r"^\$\(STAMP\):(.*)$", makefile, re.MULTILINE)
    assert stamp and set(stamp.group(1).split()) >= {"requirements.txt",
                                                     "requirements.lock"}
    assert "pip install --quiet -r requirements.txt -c requirements.lock" in makefile
    assert re.search(r"^lock:", makefile, re.MULTILINE)
