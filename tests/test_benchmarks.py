"""Checks of the benchmark scripts' bookkeeping (their timings are never tested)."""

from __future__ import annotations

import sys

import yaml
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import chapter_times  # noqa: E402


def row(chapter, seconds, error=None):
    return {"chapter": chapter, "wall_seconds": seconds, "devices": ["CPU (2 cores)"],
            "error": error}


def test_update_timings_keeps_other_entries_and_skips_failed_chapters(tmp_path):
    path = tmp_path / "timings.yml"
    path.write_text(yaml.safe_dump({"chapters": {"01_a": {
        "full_seconds": 90, "full_device": "CPU", "faster": "lower `num_epochs`"}}}))
    chapter_times.update_timings(
        [row("01_a", 27.6), row("02_b", 40.2), row("03_c", 12.0, error="boom")],
        "quick", path)
    text = path.read_text()
    assert text.startswith(chapter_times.TIMINGS_HEADER)
    assert yaml.safe_load(text) == {"chapters": {
        "01_a": {"full_seconds": 90, "full_device": "CPU",
                 "faster": "lower `num_epochs`", "quick_seconds": 28,
                 "quick_device": "CPU (2 cores)"},
        "02_b": {"quick_seconds": 40, "quick_device": "CPU (2 cores)"},
    }}


def test_update_timings_creates_the_file(tmp_path):
    path = tmp_path / "timings.yml"
    chapter_times.update_timings([row("01_a", 100.4)], "full", path)
    assert yaml.safe_load(path.read_text())["chapters"] == {
        "01_a": {"full_seconds": 100, "full_device": "CPU (2 cores)"}}
