"""What the book's extensions read of a chapter's run: its results and claims.

A chapter records its numbers and claims with helpers.record and helpers.claim,
as hidden outputs of its own cells in myst-nb's glue format. When myst-nb reads
an executed chapter, it keeps those outputs in <build>/jupyter_execute/<doc>
.glue.json; this module reads them back. So a page's numbers come from the
execution that produced the page's outputs, and from nowhere else.

It also reads the committed full-mode reference run, book/reference_results.json,
written by tools/run_chapters.py --full --reference-results.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "book" / "reference_results.json"
REFERENCE_COMMAND = "tools/run_chapters.py --full --reference-results"
CHAPTER = re.compile(r"^notebooks/(\d\d)_\w+$")

if str(ROOT / "notebooks") not in sys.path:
    sys.path.insert(0, str(ROOT / "notebooks"))
import helpers  # noqa: E402  (the one definition of the format and the mode)


def glue_file(env, docname: str) -> Path:
    """Where myst-nb kept the glue outputs of a document."""
    parts = docname.split("/")
    return Path(env.mystnb_config.output_folder).joinpath(
        *parts[:-1], parts[-1] + ".glue.json")


def run_of(env, docname: str) -> tuple[dict, list]:
    """The results (key: value) and claims that a chapter's own execution recorded."""
    path = glue_file(env, docname)
    if not path.exists():
        return {}, []
    return helpers.recorded_in(json.loads(path.read_text(encoding="utf-8")))


def chapters(env) -> list[str]:
    """The chapter pages, in book order."""
    return sorted(name for name in env.found_docs if CHAPTER.match(name))


def load_reference(path=None) -> dict | None:
    """Return the committed full-mode reference run, or None when there is none."""
    path = Path(path) if path is not None else REFERENCE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"The reference results {path} are not valid JSON "
                         f"({error}); write them again with {REFERENCE_COMMAND}."
                         ) from None
    if not isinstance(data, dict) or not isinstance(data.get("chapters"), dict) \
            or not all(isinstance(entry, dict) and isinstance(
                entry.get("results"), dict) and isinstance(entry.get("claims"), list)
                for entry in data["chapters"].values()):
        raise ValueError(f"The reference results {path} must hold, per chapter, "
                         f"`results` and `claims`; write them again with "
                         f"{REFERENCE_COMMAND}.")
    return data


def format_value(value, spec: str = "") -> str:
    """Format a recorded value; text is shown as it is."""
    if value is None:
        return "not recorded"
    if isinstance(value, str):
        return value
    if not spec:
        spec = "," if isinstance(value, int) else ".4g"
    return format(value, spec)
