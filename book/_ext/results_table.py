"""Sphinx extension: the `results-table` directive of the book's results page.

The page reads as the course's claims: one table per chapter, in book order,
with each claim (book/claims.yml), the figure this build measured, the
reference it is held against, and whether it holds. In quick mode the committed
full-mode reference run (book/reference_results.json) is shown beside the
build's own figures. Below, collapsed, every number the chapters recorded.

The tables are filled in at the end of the build, after every chapter has run
and recorded its numbers, and the page is rebuilt on every build. The mode and
the results file come from notebooks/helpers.py, as the chapters see them.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml
from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

import book_tables

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = ROOT / "book" / "claims.yml"
REFERENCE = ROOT / "book" / "reference_results.json"
STATIC = ROOT / "book" / "_static"
CSS = "results.css"
REFERENCE_COMMAND = "benchmarks/chapter_times.py --full --reference-results"
SEPARATOR = " · "

logger = logging.getLogger(__name__)


def _helpers():
    """Return notebooks/helpers.py, the one definition of mode and results file."""
    if str(ROOT / "notebooks") not in sys.path:
        sys.path.insert(0, str(ROOT / "notebooks"))
    import helpers

    return helpers


# ------------------------------------------------------------ the conditions
#
# A condition compares sides with < <= > >= (chained like Python's); a side is
# a sum of terms joined by + or -, a term an optional number times an atom, and
# an atom a results key, a number or abs(side). Parsed here, never evaluated as
# Python.

TOKEN = re.compile(r"\s*(?:(?P<key>[a-z0-9_]+/[a-z0-9_]+)"
                   r"|(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)"
                   r"|(?P<op><=|>=|<|>)|(?P<abs>abs\b)|(?P<sym>[-+*()]))")
COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
           ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


class ConditionError(ValueError):
    """A condition that the small comparison language cannot read."""


@dataclass(frozen=True)
class Condition:
    """A parsed condition: sides and the comparisons between neighbours."""

    text: str
    sides: tuple
    operators: tuple

    def keys(self) -> set[str]:
        """The results keys that the condition reads."""
        found = set()

        def walk(node):
            if node[0] == "key":
                found.add(node[1])
            for child in node[1:]:
                if isinstance(child, tuple):
                    walk(child)

        for side in self.sides:
            walk(side)
        return found

    def holds(self, results: dict):
        """True or False; None when a key is missing or is not a number."""
        try:
            values = [_value(side, results) for side in self.sides]
        except LookupError:
            return None
        return all(COMPARE[op](a, b) for op, a, b in
                   zip(self.operators, values, values[1:]))


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ConditionError(
                f"cannot read {text[position:].strip()!r} in the condition "
                f"{text!r}: expected a results key (chapter/name), a number, "
                "+ - *, abs(...) or one of < <= > >=")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def parse_condition(text) -> Condition:
    """Parse a condition such as `3 * conv/params <= conv/dense_params`."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError(f"a condition must be non-empty text, got {text!r}")
    tokens = _tokens(text)
    position = 0

    def peek(kind=None, value=None):
        if position >= len(tokens):
            return False
        token_kind, token_value = tokens[position]
        return (kind is None or token_kind == kind) and (
            value is None or token_value == value)

    def expect(kind, value=None):
        nonlocal position
        if not peek(kind, value):
            found = repr(tokens[position][1]) if position < len(tokens) else "the end"
            raise ConditionError(f"expected {value or kind} in the condition "
                                 f"{text!r}, found {found}")
        position += 1
        return tokens[position - 1][1]

    def atom():
        nonlocal position
        if peek("key"):
            return ("key", expect("key"))
        if peek("number"):
            return ("number", float(expect("number")))
        if peek("sym", "-"):  # A negative number.
            position += 1
            return ("number", -float(expect("number")))
        if peek("abs"):
            position += 1
            expect("sym", "(")
            inner = side()
            expect("sym", ")")
            return ("abs", inner)
        found = repr(tokens[position][1]) if position < len(tokens) else "the end"
        raise ConditionError(f"expected a results key, a number or abs(...) in the "
                             f"condition {text!r}, found {found}")

    def term():
        nonlocal position
        first = atom()
        if first[0] == "number" and peek("sym", "*"):
            position += 1
            return ("times", first[1], atom())
        return first

    def side():
        nonlocal position
        result = term()
        while peek("sym", "+") or peek("sym", "-"):
            sign = tokens[position][1]
            position += 1
            result = ("plus" if sign == "+" else "minus", result, term())
        return result

    sides, operators = [side()], []
    while peek("op"):
        operators.append(expect("op"))
        sides.append(side())
    if position < len(tokens):
        raise ConditionError(f"unexpected {tokens[position][1]!r} in the condition "
                             f"{text!r}")
    if not operators:
        raise ConditionError(f"the condition {text!r} compares nothing: "
                             "expected one of < <= > >=")
    return Condition(text.strip(), tuple(sides), tuple(operators))


def _value(node, results: dict) -> float:
    kind = node[0]
    if kind == "number":
        return node[1]
    if kind == "key":
        value = results.get(node[1])
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise LookupError(node[1])
        return float(value)
    if kind == "abs":
        return abs(_value(node[1], results))
    if kind == "times":
        return node[1] * _value(node[2], results)
    left, right = _value(node[1], results), _value(node[2], results)
    return left + right if kind == "plus" else left - right


# ---------------------------------------------------------------- the claims

KEY_SPEC = re.compile(r"([a-z0-9_]+/[a-z0-9_]+)(?::(.*))?")
CLAIM_FIELDS = {"claim", "measured", "unit", "reference", "reference_figure",
                "holds_if", "course_says"}
COURSE_SAYS = ("holds", "does not hold")


@dataclass(frozen=True)
class Claim:
    text: str
    key: str
    spec: str
    unit: str
    reference: str
    reference_key: str | None
    reference_spec: str
    reference_number: float | None
    conditions: tuple
    expected: bool

    def keys(self) -> set[str]:
        """Every results key the claim reads."""
        keys = {self.key} | ({self.reference_key} if self.reference_key else set())
        for condition in self.conditions:
            keys |= condition.keys()
        return keys

    def holds(self, results: dict):
        """True or False; None when a figure it needs is not recorded."""
        verdicts = [condition.holds(results) for condition in self.conditions]
        if None in verdicts:
            return None
        return all(verdicts)


@dataclass(frozen=True)
class Chapter:
    notebook: str
    title: str
    prefixes: tuple
    claims: tuple


def _key_and_spec(text, where: str, default_spec: str = ""):
    match = KEY_SPEC.fullmatch(str(text).strip())
    if not isinstance(text, str) or match is None:
        raise ValueError(f"{where}: expected a results key with an optional format "
                         f"spec, such as fashion_ae/test_mse:.4f, got {text!r}")
    key, spec = match.group(1), match.group(2)
    spec = default_spec if spec is None else spec
    try:
        format(0.5, spec)
    except ValueError:
        raise ValueError(f"{where}: {spec!r} is not a format spec for a number"
                         ) from None
    return key, spec


def _text(entry: dict, field: str, where: str, default=None) -> str:
    value = entry.get(field, default)
    if not isinstance(value, str) or (not value.strip() and default is None):
        raise ValueError(f"{where}: `{field}` must be text, got {value!r}")
    return " ".join(value.split()) if field != "unit" else value


def _claim(entry, where: str) -> Claim:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a mapping with claim, measured, "
                         f"reference and holds_if, got {entry!r}")
    unknown = set(entry) - CLAIM_FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: "
                         f"{sorted(CLAIM_FIELDS)}")
    key, spec = _key_and_spec(entry.get("measured"), f"{where}, measured")
    figure = entry.get("reference_figure")
    reference_key, reference_spec, reference_number = None, spec, None
    if isinstance(figure, (int, float)) and not isinstance(figure, bool):
        reference_number = float(figure)
    elif figure is not None:
        reference_key, reference_spec = _key_and_spec(
            figure, f"{where}, reference_figure", spec)
    conditions = entry.get("holds_if")
    if not isinstance(conditions, list) or not conditions:
        raise ValueError(f"{where}: `holds_if` must be a list of conditions, got "
                         f"{conditions!r}")
    try:
        parsed = tuple(parse_condition(text) for text in conditions)
    except ConditionError as error:
        raise ValueError(f"{where}: {error}") from None
    says = entry.get("course_says", "holds")
    if says not in COURSE_SAYS:
        raise ValueError(f"{where}: `course_says` must be one of {COURSE_SAYS}, "
                         f"got {says!r}")
    return Claim(
        text=_text(entry, "claim", where), key=key, spec=spec,
        unit=_text(entry, "unit", where, default=""),
        reference=_text(entry, "reference", where), reference_key=reference_key,
        reference_spec=reference_spec, reference_number=reference_number,
        conditions=parsed, expected=says == "holds")


def load_claims(path=None) -> list[Chapter]:
    """Read and check book/claims.yml; return its chapters in book order."""
    path = Path(path) if path is not None else CLAIMS
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read the claims file {path}: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("chapters"), list):
        raise ValueError(f"{path}: expected a mapping with a list `chapters`")
    chapters = []
    for number, entry in enumerate(data["chapters"], start=1):
        where = f"{path.name}, chapter {number}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a mapping, got {entry!r}")
        prefixes = entry.get("prefixes")
        if not isinstance(prefixes, list) or not all(
                isinstance(p, str) and re.fullmatch(r"[a-z0-9_]+", p)
                for p in prefixes):
            raise ValueError(f"{where}: `prefixes` must list the chapter's key "
                             f"prefixes (such as fashion_ae), got {prefixes!r}")
        claims = entry.get("claims")
        if not isinstance(claims, list):
            raise ValueError(f"{where}: `claims` must be a list, got {claims!r}")
        chapters.append(Chapter(
            notebook=_text(entry, "notebook", where),
            title=_text(entry, "title", where), prefixes=tuple(prefixes),
            claims=tuple(_claim(claim, f"{where}, claim {index}")
                         for index, claim in enumerate(claims, start=1))))
    return chapters


# ------------------------------------------------------ the reference run


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
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict) \
            or not isinstance(data.get("chapters", {}), dict):
        raise ValueError(f"The reference results {path} must hold `results` and "
                         f"`chapters` mappings; write them again with "
                         f"{REFERENCE_COMMAND}.")
    return data


def _one_or_range(values: list[str]) -> str:
    values = sorted(set(values))
    if len(values) == 1:
        return values[0]
    return f"{values[0]} to {values[-1]}" if values else "unknown"


def reference_summary(reference: dict) -> str:
    """Describe the reference run in one sentence: when, where, what versions."""
    runs = [run for run in reference.get("chapters", {}).values()
            if isinstance(run, dict)]

    def field(name):
        return sorted({str(run.get(name, "unknown")) for run in runs}) or ["unknown"]

    dates = _one_or_range([str(run.get("date", "unknown"))[:10] for run in runs])
    device = ", ".join(field("device"))
    cpu = ", ".join(field("cpu"))
    commits = ", ".join(field("commit"))
    versions = (f"TensorFlow {', '.join(field('tensorflow'))}, "
                f"Keras {', '.join(field('keras'))}, "
                f"Python {', '.join(field('python'))}")
    return (f"The full-mode reference run ({len(runs)} chapter(s), "
            f"book/reference_results.json) ran on {dates} on {device} "
            f"({cpu}), commit {commits}, with {versions}.")


# ------------------------------------------------------------ the rendering


def format_value(value, spec: str = "") -> str:
    """Format a recorded value; text is shown as it is."""
    if value is None:
        return "not recorded"
    if isinstance(value, str):
        return value
    if not spec:
        spec = "," if isinstance(value, int) else ".4g"
    return format(value, spec)


def _both(own: str, reference: str | None) -> str:
    """The build's own text, and the reference run's beside it when given."""
    if reference is None:
        return own
    return f"quick: {own}{SEPARATOR}full-mode reference: {reference}"


def _holds_text(verdict, expected: bool) -> str:
    if verdict is None:
        return "not recorded"
    text = "yes" if verdict else "no"
    if not verdict and not expected:
        text += " (as the course reports)"
    return text


def _figure(claim: Claim, results: dict) -> str:
    value = results.get(claim.key)
    text = format_value(value, claim.spec)
    return text + claim.unit if value is not None else text


def _reference_figure(claim: Claim, results: dict) -> str | None:
    if claim.reference_key:
        value = results.get(claim.reference_key)
        text = format_value(value, claim.reference_spec)
        return text + claim.unit if value is not None else text
    if claim.reference_number is not None:
        return format_value(claim.reference_number, claim.spec) + claim.unit
    return None


def claim_rows(chapter: Chapter, results: dict, reference: dict | None):
    """The rows (claim, measured, reference, holds?) of one chapter's table.

    `reference` is the reference run's results in quick mode, else None.
    """
    rows = []
    for claim in chapter.claims:
        own_figure = _figure(claim, results)
        measured = _both(own_figure, None if reference is None
                         else _figure(claim, reference))
        held_against = claim.reference
        own_reference = _reference_figure(claim, results)
        if claim.reference_key and reference is not None:
            held_against += ": " + _both(
                own_reference, _reference_figure(claim, reference))
        elif own_reference is not None:
            held_against += f": {own_reference}"
        holds = _both(_holds_text(claim.holds(results), claim.expected),
                      None if reference is None else
                      _holds_text(claim.holds(reference), claim.expected))
        rows.append((claim.text, measured, held_against, holds))
    return rows


def claims_table(chapter: Chapter, results: dict, reference: dict | None):
    """One chapter's table of claims."""
    return book_tables.table(
        ("claim", "measured (this build)", "reference", "holds?"),
        claim_rows(chapter, results, reference),
        widths=(5, 3, 3, 2), classes=["results-table", "claims-table"])


def chapter_heading(number: int, chapter: Chapter) -> nodes.rubric:
    return nodes.rubric(text=f"{number}. {chapter.title}",
                        classes=["results-chapter"])


def grouped_keys(chapters: list[Chapter], keys) -> list[tuple[str, list[str]]]:
    """The recorded keys grouped per chapter in book order; others come last."""
    keys = sorted(key for key in keys if "/" in key and not key.endswith("/device"))
    groups, claimed = [], set()
    for number, chapter in enumerate(chapters, start=1):
        own = [key for key in keys if key.split("/")[0] in chapter.prefixes]
        claimed.update(own)
        if own:
            groups.append((f"{number}. {chapter.title}", own))
    others = [key for key in keys if key not in claimed]
    if others:
        groups.append(("Other recorded numbers", others))
    return groups


def all_numbers(chapters: list[Chapter], results: dict, reference: dict | None):
    """Every recorded number, per chapter, inside a collapsed <details> block."""
    keys = set(results) | (set(reference) if reference is not None else set())
    header = (("quantity", "this build", "full-mode reference")
              if reference is not None else ("quantity", "value"))
    widths = (3, 2, 2) if reference is not None else (3, 2)
    result = [nodes.raw("", '<details class="results-all">\n<summary>Every number '
                        "the chapters recorded</summary>", format="html")]
    for title, group in grouped_keys(chapters, keys):
        rows = []
        for key in group:
            row = [key, format_value(results.get(key))]
            if reference is not None:
                row.append(format_value(reference.get(key)))
            rows.append(row)
        result.append(nodes.rubric(text=title, classes=["results-chapter"]))
        result.append(book_tables.table(header, rows, widths=widths,
                                        classes=["results-table", "all-results"]))
    result.append(nodes.raw("", "</details>", format="html"))
    return result


def _recorded_date(path: Path | None) -> str:
    if path is None or not path.exists():
        return "unknown"
    stamp = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    return stamp.strftime("%Y-%m-%d")


def render(results: dict, mode: str, chapters: list[Chapter],
           reference: dict | None, results_file: Path | None = None) -> list:
    """The page's nodes: the header once, a table per chapter, every number."""
    devices = sorted({str(value) for key, value in results.items()
                      if key.endswith("/device")})
    header = nodes.paragraph(
        text=f"Mode of this build: {mode}. Device: "
        f"{', '.join(devices) or 'unknown'}. Results recorded on "
        f"{_recorded_date(results_file)}"
        + (f" ({results_file.name})." if results_file is not None else "."),
        classes=["results-header"])
    page = [header]
    shown_reference = None
    if mode == "quick":
        if reference is None:
            page.append(nodes.paragraph(
                text="No full-mode reference run is committed yet "
                f"(book/reference_results.json; written by {REFERENCE_COMMAND}), "
                "so only this build's quick-mode figures are shown."))
        else:
            shown_reference = reference["results"]
            page.append(nodes.paragraph(
                text="This is a quick build: its models are barely trained, so "
                "most claims are not expected to hold in its own figures. Each "
                "figure is shown beside the committed full-mode reference run's. "
                + reference_summary(reference)))
    for number, chapter in enumerate(chapters, start=1):
        page.append(chapter_heading(number, chapter))
        page.append(claims_table(chapter, results, shown_reference))
    page.extend(all_numbers(chapters, results, shown_reference))
    return page


def _message(text: str, placeholder) -> None:
    logger.warning(text, location=placeholder)
    placeholder.replace_self(nodes.paragraph(text=text))


def fill_tables(app, doctree, docname):
    """Replace each placeholder with the tables, or with a note saying why not."""
    placeholders = list(doctree.findall(results_placeholder))
    if not placeholders:
        return
    helpers = _helpers()
    mode, path = helpers.mode(), helpers.results_path()
    chapters = load_claims()
    for placeholder in placeholders:
        try:
            results = helpers.load_results(path)
            reference = load_reference()
        except ValueError as error:
            # helpers' message says to run `make clean` first: the execution
            # cache would otherwise keep the chapters from running again.
            _message(str(error), placeholder)
            continue
        if not any("/" in key for key in results):
            placeholder.replace_self(nodes.paragraph(
                text=f"No chapter has recorded results in {mode} mode yet "
                f"({path}): build the book (make book) to run the chapters."))
            continue
        placeholder.replace_self(render(results, mode, chapters, reference, path))


# ------------------------------------------------------------- the directive


class results_placeholder(nodes.General, nodes.Element):
    """Stands where the tables go until the chapters have run."""


class ResultsTable(SphinxDirective):
    """Insert the claims and the recorded results."""

    def run(self):
        pages = getattr(self.env, "results_table_pages", set())
        pages.add(self.env.docname)
        self.env.results_table_pages = pages
        return [results_placeholder()]


def check_sources(app):
    """Fail early on a bad mode or claims file, before any chapter runs."""
    _helpers().mode()
    load_claims()


def add_static_path(app, config):
    """Ship book/_static/results.css with the site."""
    if str(STATIC) not in config.html_static_path:
        config.html_static_path.append(str(STATIC))


def always_outdated(app, env, added, changed, removed):
    """Rebuild the results page on every build, since the chapters may rerun."""
    return sorted(getattr(env, "results_table_pages", set()))


def setup(app):
    """Register the directive, the style sheet and the hooks."""
    app.add_node(results_placeholder)
    app.add_directive("results-table", ResultsTable)
    app.add_css_file(CSS)
    app.connect("config-inited", add_static_path)
    app.connect("builder-inited", check_sources)
    app.connect("doctree-resolved", fill_tables)
    app.connect("env-get-outdated", always_outdated)
    return {"version": "2.0", "parallel_read_safe": False,
            "parallel_write_safe": True, "env_version": 2}
