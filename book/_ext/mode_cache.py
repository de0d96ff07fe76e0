"""Sphinx extension: one execution cache per mode.

myst-nb keys its execution cache (jupyter-cache) on a notebook's code only, and
the code is the same in both modes, so a quick build followed by a full one
would serve quick outputs in the "full" site. This extension gives each mode its
own cache folder, <build>/.jupyter_cache/<mode> (or <execute.cache>/<mode> when
_config.yml names a folder), and records the mode in the config value
`ae_book_mode`, so that Sphinx reads every page again when the mode changes.
The mode comes from helpers.py, its one definition.
"""

from __future__ import annotations

from pathlib import Path

import course_results


def cache_folder(base, mode: str) -> Path:
    """Return the execution cache of `mode` under the mode-agnostic folder `base`."""
    if mode not in ("quick", "full"):
        raise ValueError(f"mode must be 'quick' or 'full', got {mode!r}")
    return Path(base) / mode


def default_cache_base(outdir) -> Path:
    """Return myst-nb's default cache folder for a builder writing into `outdir`."""
    return Path(outdir).resolve().parent / ".jupyter_cache"


def use_mode_cache(app, config) -> None:
    """Point myst-nb at the current mode's cache and note the mode."""
    mode = course_results.helpers.mode()
    base = config.nb_execution_cache_path or default_cache_base(app.outdir)
    config.nb_execution_cache_path = str(cache_folder(base, mode))
    config.ae_book_mode = mode


def setup(app):
    """Register the config value and the hook."""
    # "env": a change of mode makes Sphinx read every page again.
    app.add_config_value("ae_book_mode", "", "env", [str])
    app.connect("config-inited", use_mode_cache)
    return {"version": "2.0", "parallel_read_safe": True,
            "parallel_write_safe": True}
