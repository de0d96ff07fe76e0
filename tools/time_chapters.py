"""Measure how long chapters take to run and write the times into book/timings.yml.

    .venv/bin/python tools/time_chapters.py --mode quick [notebooks ...]
    .venv/bin/python tools/time_chapters.py --mode full notebooks/03_*.ipynb

Each chapter runs top to bottom on a fresh kernel, as a reader runs it, with
`AE_BOOK_QUICK` set for the mode; the wall-clock time and the device that the
setup cell printed are stored as `<mode>_seconds` and `<mode>_device`. Other
entries of the file (such as a chapter's `faster` advice) are kept. Run it on a
machine that is otherwise idle: the numbers are shown on the website.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TIMINGS = ROOT / "book" / "timings.yml"
HEADER = """\
# How long each chapter takes to run on a CPU: wall-clock seconds for the whole
# notebook on a fresh kernel, and the device its setup cell printed.
# Measured and written by: .venv/bin/python tools/time_chapters.py --mode full|quick
# `faster` (optional, edit by hand) says what to change for a faster run.
# The book shows these numbers on every chapter page and in book/setup.md.
"""


def run(path: Path, mode: str) -> tuple[float, str]:
    """Run a chapter in a fresh kernel; return (seconds, device it printed)."""
    notebook = nbformat.read(path, as_version=4)
    os.environ["AE_BOOK_QUICK"] = "1" if mode == "quick" else "0"
    with tempfile.TemporaryDirectory() as results:
        os.environ["AE_BOOK_RESULTS"] = str(Path(results) / "results.json")
        client = NotebookClient(notebook, timeout=7200, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOKS)}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []))
    device = re.search(r"device: (.*?) \|", printed)
    return seconds, device.group(1) if device else "unknown device"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapters to time (default: all of notebooks/)")
    parser.add_argument("--mode", choices=("quick", "full"), required=True)
    parser.add_argument("--timings", type=Path, default=TIMINGS,
                        help="the file to update (default: book/timings.yml)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    timings = args.timings
    data = yaml.safe_load(timings.read_text()) if timings.exists() else None
    chapters = (data or {}).get("chapters") or {}
    for path in paths:
        seconds, device = run(path, args.mode)
        if not device.startswith("CPU"):
            print(f"warning: {path.stem} ran on {device}, not on a CPU",
                  file=sys.stderr)
        entry = chapters.setdefault(path.stem, {})
        entry[f"{args.mode}_seconds"] = round(seconds)
        entry[f"{args.mode}_device"] = device
        print(f"{path.stem}: {seconds:.0f} s in {args.mode} mode on {device}")
        timings.write_text(HEADER + yaml.safe_dump(
            {"chapters": dict(sorted(chapters.items()))}, sort_keys=False,
            width=88))
    return 0


if __name__ == "__main__":
    sys.exit(main())
