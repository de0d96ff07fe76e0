"""Time every chapter notebook, each in a fresh kernel, and tabulate the times.

Runs notebooks/[0-9][0-9]_*.ipynb (or the notebooks named on the command line)
one after the other with nbclient, each in a new kernel whose results go to a
temporary file (AE_BOOK_RESULTS). Prints, per chapter, the wall time of the
whole notebook, the training time the chapter recorded (`<key>/train_seconds`)
and its slowest cell, then the totals, the device, and whether the budgets are
met. Timings never fail anything; a chapter that raises an error does (exit
status 1).

    python benchmarks/chapter_times.py            # full mode (AE_BOOK_QUICK unset)
    python benchmarks/chapter_times.py --quick    # quick mode, as CI runs them
    python benchmarks/chapter_times.py notebooks/01_linear_autoencoder_pca.ipynb
    python benchmarks/chapter_times.py --quick --update-timings   # for the book
    python benchmarks/chapter_times.py --save-notebooks /tmp/run  # keep outputs
    python benchmarks/chapter_times.py --full --reference-results

With --update-timings, each chapter that ran without error gets its wall time
and device stored in book/timings.yml, which the book shows on every chapter
page. Run it on a machine that is otherwise idle.

With --reference-results (full mode only), the results that the chapters
recorded are stored in book/reference_results.json, the committed full-mode
reference run: the numbers the prose quotes and that a quick build of the
results page shows beside its own. Each chapter that ran without error replaces
its own keys and its entry (date, commit, device, CPU, versions); the other
chapters' entries are kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
# Budgets of the course on 2 CPU cores, and the aim on a GPU (seconds).
QUICK_BOOK_BUDGET = 4 * 60
FULL_BOOK_BUDGET = 25 * 60
GPU_CHAPTER_TRAIN_AIM = 60
TIMINGS = ROOT / "book" / "timings.yml"
TIMINGS_HEADER = """\
# How long each chapter takes to run: wall-clock seconds for the whole notebook
# on a fresh kernel, and the device it ran on. Measured and written by
#   .venv/bin/python benchmarks/chapter_times.py --quick|--full --update-timings
# `faster` (optional, edit by hand) says what to change for a faster run.
# The book shows these numbers on every chapter page and in book/setup.md.
"""
REFERENCE = ROOT / "book" / "reference_results.json"
REFERENCE_ABOUT = (
    "The committed full-mode reference run: the results each chapter recorded, "
    "with when and where it ran (per chapter). Written by "
    "`python benchmarks/chapter_times.py --full --reference-results`; do not "
    "edit by hand.")
# Files that this script writes do not make the tree count as changed.
OWN_OUTPUTS = ("book/reference_results.json", "book/timings.yml")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every chapter)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true",
                      help="quick mode (default: AE_BOOK_QUICK, else full)")
    mode.add_argument("--full", action="store_true", help="full mode")
    parser.add_argument("--timeout", type=int, default=3600,
                        help="seconds allowed per cell (default 3600)")
    parser.add_argument("--json", type=Path,
                        help="also write the measurements to this JSON file")
    parser.add_argument("--update-timings", action="store_true",
                        help="store the times in book/timings.yml for the book")
    parser.add_argument("--save-notebooks", type=Path, metavar="FOLDER",
                        help="write each executed notebook, outputs included, here")
    parser.add_argument("--reference-results", action="store_true",
                        help="store the chapters' results in "
                        "book/reference_results.json (full mode only)")
    args = parser.parse_args(argv)
    if args.quick:
        args.quick_mode = True
    elif args.full:
        args.quick_mode = False
    else:
        args.quick_mode = os.environ.get("AE_BOOK_QUICK", "").strip() == "1"
    if args.reference_results and args.quick_mode:
        parser.error("--reference-results needs full mode (--full, or "
                     "AE_BOOK_QUICK unset): the reference run holds full-mode "
                     "figures only")
    return args


def all_chapters() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def run_chapter(path: Path, quick: bool, timeout: int, save_to=None) -> dict:
    """Execute one notebook in a fresh kernel; return its times and results."""
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        results_file = Path(folder) / "results.json"
        # The kernel inherits this process's environment.
        os.environ.update({
            "AE_BOOK_RESULTS": str(results_file),
            "AE_BOOK_QUICK": "1" if quick else "0",
            "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        })
        client = NotebookClient(
            notebook, timeout=timeout, kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        error = None
        start = time.perf_counter()
        try:
            # The kernel's own stderr (TensorFlow's start-up notices) is noise
            # here; errors in cells still surface as CellExecutionError.
            client.execute(stderr=subprocess.DEVNULL)
        except CellExecutionError as failure:
            plain = re.sub(r"\x1b\[[0-9;]*m", "", str(failure))  # No colours.
            error = plain.strip().splitlines()[-1][:200]
        wall = time.perf_counter() - start
        if save_to is not None:
            save_to.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, save_to / path.name)
        results = json.loads(results_file.read_text()) if results_file.exists() else {}
    cells = [cell_seconds(cell) for cell in notebook.cells]
    slowest = max(range(len(cells)), key=lambda index: cells[index])
    first_line = notebook.cells[slowest].source.strip().splitlines() or [""]
    train = {key: value for key, value in results.items()
             if key.endswith("/train_seconds")}
    devices = {value for key, value in results.items() if key.endswith("/device")}
    return {
        "chapter": path.stem, "wall_seconds": wall,
        "train_seconds": sum(train.values()) if train else None,
        "train_keys": sorted(train), "devices": sorted(devices), "error": error,
        "results": results,
        "slowest_cell": {"index": slowest, "seconds": cells[slowest],
                         "first_line": first_line[0][:60]},
    }


def cell_seconds(cell) -> float:
    """The time a code cell took, from the timestamps nbclient records."""
    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.fromisoformat(timing["iopub.execute_input"].rstrip("Z"))
        end = datetime.fromisoformat(timing["shell.execute_reply"].rstrip("Z"))
    except (KeyError, ValueError):
        return 0.0
    return (end - start).total_seconds()


def update_timings(rows: list[dict], mode: str, path: Path = TIMINGS) -> None:
    """Store each chapter's wall time and device as <mode>_seconds, <mode>_device."""
    data = yaml.safe_load(path.read_text()) if path.exists() else None
    chapters = (data or {}).get("chapters") or {}
    for row in rows:
        if row["error"]:
            continue
        entry = chapters.setdefault(row["chapter"], {})
        entry[f"{mode}_seconds"] = round(row["wall_seconds"])
        entry[f"{mode}_device"] = ", ".join(row["devices"]) or "unknown device"
    path.write_text(TIMINGS_HEADER + yaml.safe_dump(
        {"chapters": dict(sorted(chapters.items()))}, sort_keys=False, width=88))


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        for line in cpuinfo.read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def git_commit(root: Path = ROOT) -> str:
    """HEAD's commit, with "+dirty" when tracked files have uncommitted changes."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        changes = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                      *(f":(exclude){path}" for path in OWN_OUTPUTS))
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + ("+dirty" if changes else "")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def run_facts() -> dict:
    """When and on what the chapters ran: the same for every chapter of a run."""
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": git_commit(), "cpu": cpu_model(),
        "python": platform.python_version(), "tensorflow": _version("tensorflow"),
        "keras": _version("keras"),
    }


def update_reference(rows: list[dict], facts: dict, path: Path = REFERENCE,
                     ) -> list[str]:
    """Store the results of each chapter that ran without error; keep the others.

    Returns the chapters updated. Each chapter's entry lists its keys, so that a
    later run of that chapter alone replaces exactly them.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except ValueError as error:
        raise ValueError(f"{path} is not valid JSON ({error}): restore it "
                         "(git checkout) or delete it, then run again") from None
    chapters = data.get("chapters") or {}
    results = data.get("results") or {}
    updated = []
    for row in rows:
        if row["error"]:
            continue
        own = {key: value for key, value in row["results"].items()
               if "/" in key and not key.endswith("/device")}
        for key in chapters.get(row["chapter"], {}).get("keys", []):
            results.pop(key, None)
        results.update(own)
        chapters[row["chapter"]] = {
            **facts,
            "device": ", ".join(row["devices"]) or "unknown device",
            "wall_seconds": round(row["wall_seconds"]), "keys": sorted(own)}
        updated.append(row["chapter"])
    if not updated:
        return []
    data = {"about": REFERENCE_ABOUT, "mode": "full",
            "chapters": dict(sorted(chapters.items())),
            "results": dict(sorted(results.items()))}
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return updated


def budget_line(passed: bool, text: str) -> str:
    return f"{'PASS' if passed else 'FAIL'}  {text}"


def main(argv=None) -> int:
    args = parse_args(argv)
    chapters = [path.resolve() for path in args.notebooks] or all_chapters()
    missing = [str(path) for path in chapters if not path.is_file()]
    if missing or not chapters:
        print(f"No such notebook: {', '.join(missing) or 'notebooks/NN_*.ipynb'}")
        return 2
    mode = "quick" if args.quick_mode else "full"
    print(f"Running {len(chapters)} chapter(s) in {mode} mode, one fresh kernel "
          "each (wall time includes starting the kernel).", flush=True)
    rows = []
    for path in chapters:
        row = run_chapter(path, args.quick_mode, args.timeout, args.save_notebooks)
        rows.append(row)
        status = f"FAILED: {row['error']}" if row["error"] else "ok"
        print(f"  {row['chapter']}: {row['wall_seconds']:.1f} s ({status})",
              flush=True)

    devices = sorted({device for row in rows for device in row["devices"]})
    device = ", ".join(devices) or "unknown (no chapter recorded one)"
    print(f"\nChapter times, {mode} mode, on {device}")
    print(f"{'chapter':40s} {'wall s':>8s} {'train s':>8s}  slowest cell")
    for row in rows:
        train = row["train_seconds"]
        cell = row["slowest_cell"]
        print(f"{row['chapter']:40s} {row['wall_seconds']:8.1f} "
              f"{'-' if train is None else f'{train:.1f}':>8s}  "
              f"{cell['seconds']:.1f} s, cell {cell['index']}: {cell['first_line']}"
              + ("  FAILED" if row["error"] else ""))
    total_wall = sum(row["wall_seconds"] for row in rows)
    total_train = sum(row["train_seconds"] or 0 for row in rows)
    print(f"{'total':40s} {total_wall:8.1f} {total_train:8.1f}")

    on_gpu = bool(devices) and not all(d.startswith("CPU") for d in devices)
    if len(rows) < len(all_chapters()):
        print(f"Budgets not checked: {len(rows)} of {len(all_chapters())} "
              "chapters ran.")
    elif on_gpu:
        for row in rows:
            if row["train_seconds"] is not None:
                print(budget_line(row["train_seconds"] <= GPU_CHAPTER_TRAIN_AIM,
                                  f"{row['chapter']} trains in <= "
                                  f"{GPU_CHAPTER_TRAIN_AIM} s on a GPU"))
    elif args.quick_mode:
        print(budget_line(total_wall <= QUICK_BOOK_BUDGET,
                          f"quick mode, all chapters <= {QUICK_BOOK_BUDGET} s "
                          "(nbclient time; nbval adds a little)"))
    else:
        print(budget_line(total_wall <= FULL_BOOK_BUDGET,
                          f"full mode, all chapters <= {FULL_BOOK_BUDGET} s"))
    if not on_gpu and os.cpu_count() != 2:
        print(f"(The CPU budgets are set for 2 cores; this machine has "
              f"{os.cpu_count()}.)")

    if args.json:
        args.json.write_text(json.dumps(
            {"mode": mode, "device": device, "chapters": rows}, indent=1))
    if args.update_timings:
        update_timings(rows, mode)
        print(f"Times written to {TIMINGS.relative_to(ROOT)}.")
    if args.reference_results:
        updated = update_reference(rows, run_facts())
        failed = [row["chapter"] for row in rows if row["error"]]
        if updated:
            print(f"Reference results of {len(updated)} chapter(s) written to "
                  f"{REFERENCE.relative_to(ROOT)} (other chapters kept).")
        if failed:
            print(f"Not stored, since they failed: {', '.join(failed)}.")
    return 1 if any(row["error"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
