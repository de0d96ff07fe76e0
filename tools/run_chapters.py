"""Run chapter notebooks, each in a fresh kernel; time them and keep their results.

    python tools/run_chapters.py --quick                  # every chapter, quick mode
    python tools/run_chapters.py --full notebooks/01_linear_autoencoder_pca.ipynb
    python tools/run_chapters.py --quick --update-timings # book/timings.yml
    python tools/run_chapters.py --full --reference-results --update-timings

Runs notebooks/[0-9][0-9]_*.ipynb (or the notebooks named) one after the other
with nbclient, in the mode given (default: the mode helpers.py reads from
AE_BOOK_QUICK), and prints each chapter's wall time (including the kernel's
start), the training time it recorded (`<prefix>/train_seconds`) and its slowest
cell. A chapter that raises makes the exit status 1.

--update-timings stores each chapter's wall time and device in book/timings.yml
(the running times the book shows) and, in full mode on a CPU, the minutes in
helpers.FULL_MODE_CPU_MINUTES (what a chapter's setup cell tells a reader
without a GPU). Run it on a machine that is otherwise idle.

--reference-results (full mode only) stores what each chapter recorded, its
results and its claims, in book/reference_results.json: the committed reference
run whose numbers the prose quotes. Each chapter that ran without error replaces
its own entry, with when and where it ran; the others are kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
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
sys.path.insert(0, str(NOTEBOOKS))
import helpers  # noqa: E402

TIMINGS = ROOT / "book" / "timings.yml"
TIMINGS_HEADER = """\
# How long each chapter takes to run: wall-clock seconds for the whole notebook
# on a fresh kernel, and the device it ran on. Measured and written by
#   .venv/bin/python tools/run_chapters.py --quick|--full --update-timings
# `faster` (optional, edit by hand) says what to change for a faster run.
# The book shows these numbers on every chapter page and in book/setup.md.
"""
REFERENCE = ROOT / "book" / "reference_results.json"
REFERENCE_ABOUT = (
    "The committed full-mode reference run: what each chapter recorded (results "
    "and claims), with when and where it ran. Written by `python "
    "tools/run_chapters.py --full --reference-results`; do not edit by hand.")
HELPERS = NOTEBOOKS / "helpers.py"
# A line of TensorFlow's C++ log, e.g. "E0000 00:00:1796301725.690458  28742
# node_def_util.cc:682] NodeDef mentions attribute ...".
LOG_LINE = re.compile(r"^([EWIF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\]|WARNING: "
                      r"All log messages before absl::InitializeLog)", re.M)
# Files that this tool writes do not make the tree count as changed.
OWN_OUTPUTS = ("book/reference_results.json", "book/timings.yml",
               "notebooks/helpers.py")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every chapter)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", const="quick", dest="mode",
                      help="quick mode")
    mode.add_argument("--full", action="store_const", const="full", dest="mode",
                      help="full mode")
    parser.add_argument("--timeout", type=int, default=3600,
                        help="seconds allowed per cell (default 3600)")
    parser.add_argument("--json", type=Path,
                        help="also write the measurements to this JSON file")
    parser.add_argument("--update-timings", action="store_true",
                        help="store the times in book/timings.yml for the book")
    parser.add_argument("--save-notebooks", type=Path, metavar="FOLDER",
                        help="write each executed notebook, outputs included, here")
    parser.add_argument("--no-log-lines", action="store_true",
                        help="fail a chapter whose outputs hold a line of "
                        "TensorFlow's C++ log (what a student would see)")
    parser.add_argument("--reference-results", action="store_true",
                        help="store the chapters' results and claims in "
                        "book/reference_results.json (full mode only)")
    args = parser.parse_args(argv)
    args.mode = args.mode or helpers.mode()
    if args.reference_results and args.mode != "full":
        parser.error("--reference-results needs full mode: the reference run "
                     "holds full-mode figures only")
    return args


def all_chapters() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def cell_seconds(cell) -> float:
    """The time a code cell took, from the timestamps nbclient records."""
    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.fromisoformat(timing["iopub.execute_input"].rstrip("Z"))
        end = datetime.fromisoformat(timing["shell.execute_reply"].rstrip("Z"))
    except (KeyError, ValueError):
        return 0.0
    return (end - start).total_seconds()


def log_lines(notebook) -> list[str]:
    """The lines of TensorFlow's C++ log among a notebook's text outputs."""
    return [line for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.get("outputs", [])
            for line in str(output.get("text", "")).splitlines()
            if LOG_LINE.match(line)]


def run_chapter(path: Path, mode: str, timeout: int, save_to=None) -> dict:
    """Execute one notebook in a fresh kernel; return its times and what it recorded."""
    notebook = nbformat.read(path, as_version=4)
    env = dict(os.environ, AE_BOOK_QUICK="1" if mode == "quick" else "0")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    error = None
    start = time.perf_counter()
    try:
        # The kernel's own stderr (TensorFlow's start-up notices) is noise here;
        # errors in cells still surface as CellExecutionError.
        client.execute(env=env, stderr=subprocess.DEVNULL)
    except CellExecutionError as failure:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(failure))  # No colours.
        error = plain.strip().splitlines()[-1][:200]
    wall = time.perf_counter() - start
    if save_to is not None:
        save_to.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, save_to / path.name)
    results, claims = helpers.recorded_in(notebook)
    cells = [cell_seconds(cell) for cell in notebook.cells]
    slowest = max(range(len(cells)), key=lambda index: cells[index])
    first_line = notebook.cells[slowest].source.strip().splitlines() or [""]
    train = [value for key, value in results.items()
             if key.endswith("/train_seconds")]
    devices = sorted({claim["device"] for claim in claims})
    return {
        "chapter": path.stem, "mode": mode, "wall_seconds": wall,
        "train_seconds": sum(train) if train else None, "devices": devices,
        "error": error, "results": results, "claims": claims,
        "log_lines": log_lines(notebook),
        "slowest_cell": {"index": slowest, "seconds": cells[slowest],
                         "first_line": first_line[0][:60]},
    }


def update_timings(rows: list[dict], mode: str, path: Path = TIMINGS,
                   helpers_path: Path = HELPERS) -> None:
    """Store each chapter's wall time and device as <mode>_seconds, <mode>_device.

    In full mode on a CPU, also the minutes in helpers.FULL_MODE_CPU_MINUTES.
    """
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
    minutes = {int(name[:2]): round(entry["full_seconds"] / 60, 1)
               for name, entry in sorted(chapters.items())
               if entry.get("full_seconds")
               and str(entry.get("full_device", "")).startswith("CPU")}
    text = helpers_path.read_text()
    line = f"FULL_MODE_CPU_MINUTES = {minutes!r}"
    if len(line) > 88:
        items = [f"    {number}: {value}," for number, value in minutes.items()]
        line = "FULL_MODE_CPU_MINUTES = {\n" + "\n".join(items) + "\n}"
    new = re.sub(r"^FULL_MODE_CPU_MINUTES = (\{[^}]*\}|.*)$", line.replace("\\", r"\\"),
                 text, count=1, flags=re.M)
    helpers_path.write_text(new)


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
    """Store what each chapter that ran without error recorded; keep the others."""
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except ValueError as error:
        raise ValueError(f"{path} is not valid JSON ({error}): restore it "
                         "(git checkout) or delete it, then run again") from None
    chapters = data.get("chapters") or {}
    updated = []
    for row in rows:
        if row["error"]:
            continue
        chapters[row["chapter"]] = {
            **facts, "device": ", ".join(row["devices"]) or "unknown device",
            "wall_seconds": round(row["wall_seconds"]),
            "results": dict(sorted(row["results"].items())),
            "claims": [{key: value for key, value in claim.items()
                        if key not in ("mode", "device")} for claim in row["claims"]],
        }
        updated.append(row["chapter"])
    if updated:
        data = {"about": REFERENCE_ABOUT, "mode": "full",
                "chapters": dict(sorted(chapters.items()))}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return updated


def main(argv=None) -> int:
    args = parse_args(argv)
    chapters = [path.resolve() for path in args.notebooks] or all_chapters()
    missing = [str(path) for path in chapters if not path.is_file()]
    if missing or not chapters:
        print(f"No such notebook: {', '.join(missing) or 'notebooks/NN_*.ipynb'}")
        return 2
    print(f"Running {len(chapters)} chapter(s) in {args.mode} mode, one fresh "
          "kernel each (wall time includes starting the kernel).", flush=True)
    rows = []
    for path in chapters:
        row = run_chapter(path, args.mode, args.timeout, args.save_notebooks)
        if args.no_log_lines and row["log_lines"] and not row["error"]:
            row["error"] = (f"{len(row['log_lines'])} line(s) of TensorFlow's log in "
                            f"the outputs, e.g. {row['log_lines'][0][:120]}")
        rows.append(row)
        status = f"FAILED: {row['error']}" if row["error"] else "ok"
        print(f"  {row['chapter']}: {row['wall_seconds']:.1f} s ({status})",
              flush=True)
    device = ", ".join(sorted({d for row in rows for d in row["devices"]})) or "unknown"
    print(f"\nChapter times, {args.mode} mode, on {device} ({cpu_model()})")
    print(f"{'chapter':40s} {'wall s':>8s} {'train s':>8s}  slowest cell")
    for row in rows:
        train, cell = row["train_seconds"], row["slowest_cell"]
        print(f"{row['chapter']:40s} {row['wall_seconds']:8.1f} "
              f"{'-' if train is None else f'{train:.1f}':>8s}  "
              f"{cell['seconds']:.1f} s, cell {cell['index']}: {cell['first_line']}"
              + ("  FAILED" if row["error"] else ""))
    print(f"{'total':40s} {sum(r['wall_seconds'] for r in rows):8.1f} "
          f"{sum(r['train_seconds'] or 0 for r in rows):8.1f}")
    if args.json:
        args.json.write_text(json.dumps({"mode": args.mode, "chapters": rows},
                                        indent=1))
    if args.update_timings:
        update_timings(rows, args.mode)
        print(f"Times written to {TIMINGS.relative_to(ROOT)} and "
              f"{HELPERS.relative_to(ROOT)}.")
    if args.reference_results:
        updated = update_reference(rows, run_facts())
        if updated:
            print(f"Reference results of {len(updated)} chapter(s) written to "
                  f"{REFERENCE.relative_to(ROOT)} (other chapters kept).")
        failed = [row["chapter"] for row in rows if row["error"]]
        if failed:
            print(f"Not stored, since they failed: {', '.join(failed)}.")
    return 1 if any(row["error"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
