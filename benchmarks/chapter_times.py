"""Every chapter's running time against the course's budgets (`make bench`).

    python benchmarks/chapter_times.py                 # full mode
    python benchmarks/chapter_times.py --quick         # quick mode
    python benchmarks/chapter_times.py --quick --pytest-seconds 600

Runs every chapter (or those named) in a fresh kernel with tools/run_chapters.py,
prints each chapter's time and its slowest cell, then one line per budget, met or
not. Timings never fail anything; a chapter that raises does (exit status 1).
With --pytest-seconds, the time of `make test`'s pytest run (its summary line)
is set against the quick pass just measured: a ratio, since both scale with the
machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import run_chapters  # noqa: E402

# The budgets on 2 CPU cores, in seconds, and `make test`'s in quick passes.
FULL_CHAPTER_BUDGET = 5 * 60
FULL_BOOK_BUDGET = 30 * 60
QUICK_CHAPTER_BUDGET = 60
PYTEST_BUDGET_IN_QUICK_PASSES = 2.7


def budget_line(met: bool, text: str) -> str:
    return f"{'MET    ' if met else 'NOT MET'}  {text}"


def budget_lines(rows: list[dict], mode: str, pytest_seconds=None) -> list[str]:
    """One line per budget that the rows can judge."""
    lines = []
    if any(not d.startswith("CPU") for row in rows for d in row["devices"]):
        return ["Budgets not judged: they are set for 2 CPU cores, and this ran on a "
                "GPU."]
    limit = FULL_CHAPTER_BUDGET if mode == "full" else QUICK_CHAPTER_BUDGET
    for row in rows:
        lines.append(budget_line(row["wall_seconds"] <= limit,
                                 f"{row['chapter']}: {row['wall_seconds']:.0f} s "
                                 f"(budget {limit} s)"))
    total = sum(row["wall_seconds"] for row in rows)
    if len(rows) == len(run_chapters.all_chapters()):
        if mode == "full":
            lines.append(budget_line(total <= FULL_BOOK_BUDGET,
                                     f"the book in full mode: {total:.0f} s "
                                     f"(budget {FULL_BOOK_BUDGET} s)"))
        elif pytest_seconds:
            ratio = pytest_seconds / total
            lines.append(budget_line(
                ratio <= PYTEST_BUDGET_IN_QUICK_PASSES,
                f"make test's pytest took {ratio:.2f} quick passes "
                f"({pytest_seconds:.0f} s / {total:.0f} s; "
                f"budget {PYTEST_BUDGET_IN_QUICK_PASSES})"))
    else:
        lines.append(f"Book budgets not judged: {len(rows)} of "
                     f"{len(run_chapters.all_chapters())} chapters ran.")
    if os.cpu_count() != 2:
        lines.append(f"(The budgets are set for 2 cores; this machine has "
                     f"{os.cpu_count()}.)")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--quick", action="store_true", help="quick mode")
    parser.add_argument("--pytest-seconds", type=float,
                        help="make test's pytest time, to compare with a quick pass")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else run_chapters.helpers.mode()
    chapters = [path.resolve() for path in args.notebooks] or \
        run_chapters.all_chapters()
    rows = [run_chapters.run_chapter(path, mode, 3600) for path in chapters]
    print(f"Chapter times, {mode} mode ({run_chapters.cpu_model()}):")
    for row in rows:
        cell = row["slowest_cell"]
        print(f"  {row['chapter']:38s} {row['wall_seconds']:7.1f} s; slowest cell "
              f"{cell['seconds']:.1f} s: {cell['first_line']}"
              + (f"  FAILED: {row['error']}" if row["error"] else ""))
    print("\n".join(budget_lines(rows, mode, args.pytest_seconds)))
    return 1 if any(row["error"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
