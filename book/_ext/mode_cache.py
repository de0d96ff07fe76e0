"""Sphinx extension: one execution cache per mode, and a full re-read on a switch.

myst-nb keys its execution cache (jupyter-cache) on a notebook's code only, so a
quick build followed by a full one would serve the quick outputs in the "full"
site. This extension gives each mode its own cache folder,
<build>/.jupyter_cache/<mode> (or <execute.cache>/<mode> when _config.yml names
a folder), and records the mode in the config value `ae_book_mode`, registered
so that Sphinx re-reads every page when it changes: the pages' saved doctrees
hold the outputs of the mode that produced them.

The cached outputs and the results file (helpers.record) come from the same
runs. When the mode's results file is missing (deleted because it was corrupt,
say) while its cache holds chapters, the cache is emptied and every notebook is
read again, so that the chapters run and record their results anew.

The mode and the results file come from helpers.py, their one definition.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sphinx.util import logging

NOTEBOOKS = Path(__file__).resolve().parent.parent.parent / "notebooks"
logger = logging.getLogger(__name__)


def helpers_module():
    """Return the course's helpers module (notebooks/helpers.py)."""
    if str(NOTEBOOKS) not in sys.path:
        sys.path.insert(0, str(NOTEBOOKS))
    import helpers

    return helpers


def cache_folder(base, mode: str) -> Path:
    """Return the execution cache of `mode` under the mode-agnostic folder `base`."""
    if mode not in ("quick", "full"):
        raise ValueError(f"mode must be 'quick' or 'full', got {mode!r}")
    return Path(base) / mode


def default_cache_base(outdir) -> Path:
    """Return myst-nb's default cache folder for a builder writing into `outdir`."""
    return Path(outdir).resolve().parent / ".jupyter_cache"


def forget_outputs_without_results(cache: Path, results: Path) -> bool:
    """Empty the cache when the results file is missing; return True if it did."""
    from jupyter_cache import get_cache

    if results.exists() or not cache.exists():
        return False
    store = get_cache(str(cache))
    if not store.list_cache_records():
        return False
    store.clear_cache()
    return True


def use_mode_cache(app, config) -> None:
    """Point myst-nb at the current mode's cache and note the mode."""
    helpers = helpers_module()
    mode = helpers.mode()
    base = config.nb_execution_cache_path or default_cache_base(app.outdir)
    cache = cache_folder(base, mode)
    config.nb_execution_cache_path = str(cache)
    config.ae_book_mode = mode
    results = helpers.results_path()
    app.ae_book_rerun = forget_outputs_without_results(cache, results)
    if app.ae_book_rerun:
        logger.info(f"No results file {results}: the {mode}-mode execution cache "
                    "was emptied, so that every chapter runs again.")


def notebooks_to_rerun(app, env, added, changed, removed) -> list[str]:
    """Return every notebook when the cache was emptied, so that each is read."""
    if not getattr(app, "ae_book_rerun", False):
        return []
    return sorted(name for name in env.found_docs
                  if str(env.doc2path(name)).endswith(".ipynb"))


def setup(app):
    """Register the config value and the hooks."""
    # "env": a change of mode makes Sphinx read every page again.
    app.add_config_value("ae_book_mode", "", "env", [str])
    app.connect("config-inited", use_mode_cache)
    app.connect("env-get-outdated", notebooks_to_rerun)
    return {"version": "1.0", "parallel_read_safe": True,
            "parallel_write_safe": True}
