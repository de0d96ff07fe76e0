"""Shared fixtures: the repository's paths and a clean environment for helpers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(NOTEBOOKS))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def helpers(monkeypatch, tmp_path):
    """The helpers module, with results written to a temporary file."""
    import helpers as module

    monkeypatch.setenv("AE_BOOK_RESULTS", str(tmp_path / "results.json"))
    monkeypatch.delenv("AE_BOOK_QUICK", raising=False)
    module.DATA_SOURCES.clear()
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
