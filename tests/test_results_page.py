"""The results page: the claims file, its condition language, the rendering, and
the committed full-mode reference run (book/_ext/results_table.py,
book/claims.yml, benchmarks/chapter_times.py --reference-results)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from docutils import nodes

sys.path.insert(0, str(ROOT / "book" / "_ext"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import chapter_times  # noqa: E402
import results_table  # noqa: E402
from results_table import ConditionError, parse_condition  # noqa: E402

CHAPTER_SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
RECORD = re.compile(r"""helpers\.record\(\s*(f?)(["'])(.+?)\2""")


def recorded_patterns(source: Path) -> list[re.Pattern]:
    """The keys a chapter records, as patterns; an f-string's fields match any
    name part, e.g. f"anomaly/{prefix}auc_by_class_{slug}"."""
    patterns = []
    for is_f_string, _, key in RECORD.findall(source.read_text(encoding="utf-8")):
        if is_f_string:
            parts = re.split(r"\{[^}]*\}", key)
            patterns.append(re.compile("[a-z0-9_]*".join(map(re.escape, parts))))
        else:
            patterns.append(re.compile(re.escape(key)))
    return patterns


def records(source: Path, key: str) -> bool:
    return any(pattern.fullmatch(key) for pattern in recorded_patterns(source))


@pytest.fixture(scope="module")
def chapters():
    return results_table.load_claims()


# ------------------------------------------------------------ the conditions


@pytest.mark.parametrize("text, results, expected", [
    ("a/b <= 0.0135", {"a/b": 0.0122}, True),
    ("a/b <= 0.0135", {"a/b": 0.0136}, False),
    ("a/b < c/d", {"a/b": 1, "c/d": 2}, True),
    ("3 * a/b <= c/d", {"a/b": 10, "c/d": 30}, True),
    ("3 * a/b <= c/d", {"a/b": 10, "c/d": 29}, False),
    ("a/b > c/d + 0.02", {"a/b": 0.80, "c/d": 0.77}, True),
    ("a/b > c/d + 0.02", {"a/b": 0.78, "c/d": 0.77}, False),
    ("abs(a/b - c/d) <= 0.02", {"a/b": 0.085, "c/d": 0.1}, True),
    ("abs(a/b - 0.05) <= 0.02", {"a/b": 0.08}, False),
    ("a/b < c/d < e/f", {"a/b": 1, "c/d": 2, "e/f": 3}, True),
    ("a/b < c/d < e/f", {"a/b": 1, "c/d": 4, "e/f": 3}, False),
    ("a/b > -1", {"a/b": 0}, True),
    ("a/b >= 1e-3", {"a/b": 0.001}, True),
])
def test_conditions_compare_recorded_numbers(text, results, expected):
    assert parse_condition(text).holds(results) is expected


def test_a_condition_with_a_missing_or_text_value_is_undecided():
    condition = parse_condition("a/b < c/d")
    assert condition.keys() == {"a/b", "c/d"}
    assert condition.holds({"a/b": 1}) is None
    assert condition.holds({"a/b": "bags", "c/d": 2}) is None
    assert condition.holds({"a/b": True, "c/d": 2}) is None


@pytest.mark.parametrize("text", [
    "", "a/b", "a/b << 1", "a/b <", "2 a/b < 1", "abs(a/b < 1", "a/b * 2 < 1",
    "__import__('os').system('true') < 1", "a/b == 1", "a.b < 1", "A/B < 1",
    "(a/b) < 1", None, 3,
])
def test_other_conditions_are_rejected_with_a_clear_error(text):
    with pytest.raises(ConditionError, match="condition"):
        parse_condition(text)


# ------------------------------------------------------------ the claims file


def test_the_claims_follow_the_books_chapters(chapters):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    in_toc = [entry["file"] for part in toc["parts"] for entry in part["chapters"]
              if entry["file"].startswith("notebooks/")]
    assert [chapter.notebook for chapter in chapters] == in_toc
    for chapter in chapters:
        source = ROOT / f"{chapter.notebook}.py"
        title = re.search(r"^# # (.+)$", source.read_text(), re.MULTILINE).group(1)
        assert chapter.title == title, f"{chapter.notebook}: title {title!r}"
        assert chapter.claims, f"{chapter.notebook} has no claim"


def test_every_claim_reads_keys_its_chapter_records(chapters):
    for chapter in chapters:
        source = ROOT / f"{chapter.notebook}.py"
        for claim in chapter.claims:
            for key in claim.keys():
                assert records(source, key), (
                    f"{source.name} records no {key!r} (claim: {claim.text})")
                assert key.split("/")[0] in chapter.prefixes, key


def test_each_chapters_prefixes_are_those_it_records(chapters):
    for chapter in chapters:
        source = ROOT / f"{chapter.notebook}.py"
        prefixes = {pattern.pattern.split("/")[0]
                    for pattern in recorded_patterns(source)}
        assert set(chapter.prefixes) == prefixes, chapter.notebook


def test_the_course_reports_claims_that_do_not_hold(chapters):
    not_held = {chapter.notebook.split("/")[1][:2] for chapter in chapters
                for claim in chapter.claims if not claim.expected}
    assert {"04", "08", "09"} <= not_held


@pytest.mark.parametrize("change, message", [
    ({"measured": "test_mse"}, "expected a results key"),
    ({"measured": "a/b:.4q"}, "not a format spec"),
    ({"holds_if": "a/b < 1"}, "must be a list"),
    ({"holds_if": ["a/b < import"]}, "condition"),
    ({"course_says": "no"}, "course_says"),
    ({"colour": "red"}, "unknown field"),
])
def test_a_bad_claim_is_named_with_what_was_expected(tmp_path, change, message):
    claim = {"claim": "It works.", "measured": "a/b:.4f", "reference": "PCA-20",
             "reference_figure": "a/c", "holds_if": ["a/b < a/c"], **change}
    path = tmp_path / "claims.yml"
    path.write_text(yaml.safe_dump({"chapters": [
        {"notebook": "notebooks/01_x", "title": "X", "prefixes": ["a"],
         "claims": [claim]}]}))
    with pytest.raises(ValueError, match=message) as error:
        results_table.load_claims(path)
    assert "chapter 1, claim 1" in str(error.value)


def test_the_reference_run_backs_every_claim_as_the_course_states_it(chapters):
    reference = results_table.load_reference()
    if reference is None:
        pytest.skip("no full-mode reference run is committed yet (run "
                    f"{results_table.REFERENCE_COMMAND})")
    results = reference["results"]
    for chapter in chapters:
        for claim in chapter.claims:
            missing = claim.keys() - set(results)
            assert not missing, f"{claim.text}: {sorted(missing)} not in the reference"
            assert claim.holds(results) is claim.expected, (
                f"{chapter.notebook}: the reference run says "
                f"{'yes' if claim.holds(results) else 'no'} to: {claim.text}")


# ------------------------------------------------------------ the rendering

FAKE_RESULTS = {
    "mode": "quick",
    "fashion_ae/device": "CPU (2 cores)", "fashion_ae/test_mse": 0.0412,
    "fashion_ae/pca20_test_mse": 0.0301, "fashion_ae/hardest_classes": "Bag",
    "linear_pca/device": "CPU (2 cores)", "linear_pca/principal_angle_deg": 3.5,
    "linear_pca/ae_mse": 0.2, "linear_pca/pca_mse": 0.1,
    "aae/device": "CPU (2 cores)", "aae/confident_share": 0.5,
    "aae/plain_confident_share": 0.6, "zzz/unknown": 7,
}
FAKE_REFERENCE = {
    "mode": "full",
    "chapters": {"02_fashion_mnist_autoencoder": {
        "date": "2026-01-02T03:04:05+00:00", "commit": "abc123",
        "device": "CPU (2 cores)",
        "cpu": "AMD EPYC", "python": "3.11.7", "tensorflow": "2.21.0",
        "keras": "3.15.1"}},
    "results": {"fashion_ae/test_mse": 0.0122, "fashion_ae/pca20_test_mse": 0.0190,
                "fashion_ae/loop_fit_gap": 0.001,
                "aae/confident_share": 0.4, "aae/plain_confident_share": 0.6},
}


def page_text(page) -> str:
    section = nodes.section()
    section += page
    return section.astext()


def claim_tables(page):
    return [node for node in page if isinstance(node, nodes.table)
            and "claims-table" in node["classes"]]


def test_a_quick_page_shows_the_reference_beside_its_own_figures(chapters):
    page = results_table.render(FAKE_RESULTS, "quick", chapters, FAKE_REFERENCE)
    text = page_text(page)
    headings = [node.astext() for node in page if isinstance(node, nodes.rubric)]
    titles = [f"{n}. {chapter.title}" for n, chapter in enumerate(chapters, 1)]
    assert headings[:len(titles)] == titles  # the claims, in book order
    # Below, every recorded number, grouped per chapter in book order.
    assert headings[len(titles):] == [titles[0], titles[1], titles[7],
                                      "Other recorded numbers"]
    assert len(claim_tables(page)) == len(chapters)
    assert text.count("Mode of this build: quick") == 1
    assert text.count("CPU (2 cores)") == 2  # once for the build, once for the run
    assert "ran on 2026-01-02 on CPU (2 cores) (AMD EPYC), commit abc123" in text
    assert "quick: 0.0412 · full-mode reference: 0.0122" in text
    assert "PCA-20: quick: 0.0301 · full-mode reference: 0.0190" in text
    assert "quick: not recorded · full-mode reference: yes" in text
    assert "no (as the course reports)" in text
    rows = [row.astext().split("\n\n") for row in claim_tables(page)[1].findall(
        nodes.row)]
    assert rows[0] == ["claim", "measured (this build)", "reference", "holds?"]
    assert rows[1][3] == "quick: no · full-mode reference: yes"
    raw = [node.astext() for node in page if isinstance(node, nodes.raw)]
    assert raw[0].startswith("<details") and raw[-1] == "</details>"


def test_without_a_reference_run_the_page_says_so(chapters):
    text = page_text(results_table.render(FAKE_RESULTS, "quick", chapters, None))
    assert "No full-mode reference run is committed yet" in text
    assert "full-mode reference:" not in text
    full = page_text(results_table.render(
        dict(FAKE_RESULTS, mode="full"), "full", chapters, FAKE_REFERENCE))
    assert "Mode of this build: full" in full and "quick:" not in full
    assert "PCA-20: 0.0301" in full


def filled_page(tmp_path, monkeypatch, text, mode="1"):
    path = tmp_path / "results.json"
    path.write_text(text)
    monkeypatch.setenv("AE_BOOK_RESULTS", str(path))
    monkeypatch.setenv("AE_BOOK_QUICK", mode)
    monkeypatch.setattr(results_table, "REFERENCE", tmp_path / "none.json")
    section = nodes.section()
    section += results_table.results_placeholder()
    results_table.fill_tables(None, section, "book/results")
    return section.astext()


def test_fill_tables_uses_helpers_mode_and_results_file(tmp_path, monkeypatch):
    text = filled_page(tmp_path, monkeypatch, json.dumps(FAKE_RESULTS))
    assert "Mode of this build: quick" in text and "0.0412" in text
    assert "No chapter has recorded" in filled_page(tmp_path, monkeypatch, "{}")
    with pytest.raises(ValueError, match="AE_BOOK_QUICK must be 1"):
        filled_page(tmp_path, monkeypatch, "{}", mode="yes")


def test_a_corrupt_results_file_says_to_clean_first(tmp_path, monkeypatch):
    text = filled_page(tmp_path, monkeypatch, '{"linear_pca/angle": 0.07')
    assert "is not valid JSON" in text
    assert "make clean" in text and "build it again" in text


def test_a_one_page_sphinx_build_ships_the_tables_and_style(tmp_path, monkeypatch):
    """The extension in a real (tiny) Sphinx build: raw HTML, tables, CSS."""
    source = tmp_path / "source"
    source.mkdir()
    (source / "conf.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['results_table']\n")
    (source / "index.rst").write_text("Results\n=======\n\n.. results-table::\n")
    results = tmp_path / "results.json"
    results.write_text(json.dumps(FAKE_RESULTS))
    env = {**os.environ, "AE_BOOK_QUICK": "1",
           "AE_BOOK_RESULTS": str(results)}
    process = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", str(source),
         str(tmp_path / "html")], env=env, capture_output=True, text=True,
        timeout=300)
    assert process.returncode == 0, process.stderr[-3000:]
    html = (tmp_path / "html" / "index.html").read_text()
    assert html.count("claims-table") == 9
    assert html.count("<p>holds?</p>") == 9 and "<details" in html
    assert "_static/results.css" in html
    assert (tmp_path / "html" / "_static" / "results.css").exists()


def test_the_built_results_page_has_a_table_per_chapter(built_site, chapters):
    html, _ = built_site
    page = (html / "book" / "results.html").read_text()
    assert page.count("claims-table") == len(chapters)
    assert page.count("<p>holds?</p>") == len(chapters)
    assert page.count("Mode of this build: quick") == 1
    assert "<details" in page


# ------------------------------------------------------------ the reference run


def row(chapter, results, error=None):
    return {"chapter": chapter, "results": {"mode": "full", **results},
            "devices": ["CPU (2 cores)"], "wall_seconds": 12.3, "error": error}


FACTS = {"date": "2026-01-02T03:04:05+00:00", "commit": "abc+dirty",
         "cpu": "AMD EPYC", "python": "3.11.7", "tensorflow": "2.21.0",
         "keras": "3.15.1"}


def test_a_reference_run_of_some_chapters_keeps_the_others(tmp_path):
    path = tmp_path / "reference_results.json"
    assert chapter_times.update_reference(
        [row("01_a", {"a/x": 1.0, "a/old": 2.0, "a/device": "CPU (2 cores)"}),
         row("02_b", {"b/y": 3.0})], FACTS, path) == ["01_a", "02_b"]
    later = dict(FACTS, date="2026-02-01T00:00:00+00:00", commit="def")
    assert chapter_times.update_reference(
        [row("01_a", {"a/x": 1.5}), row("03_c", {"c/z": 4.0}, error="boom")],
        later, path) == ["01_a"]
    data = json.loads(path.read_text())
    assert data["mode"] == "full"
    assert data["results"] == {"a/x": 1.5, "b/y": 3.0}  # a/old went with its run
    assert data["chapters"]["01_a"]["commit"] == "def"
    assert data["chapters"]["02_b"]["date"].startswith("2026-01-02")
    assert data["chapters"]["01_a"]["keys"] == ["a/x"]
    assert set(FACTS) | {"device", "wall_seconds", "keys"} <= set(
        data["chapters"]["02_b"])
    reference = results_table.load_reference(path)
    assert "2026-01-02 to 2026-02-01" in results_table.reference_summary(reference)


def test_reference_results_need_full_mode(capsys):
    with pytest.raises(SystemExit):
        chapter_times.parse_args(["--quick", "--reference-results"])
    assert "needs full mode" in capsys.readouterr().err
    assert chapter_times.parse_args(["--full", "--reference-results"]).reference_results


def test_the_run_facts_name_the_machine_and_the_commit(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU 9000\n")
    assert chapter_times.cpu_model(cpuinfo) == "Some CPU 9000"
    facts = chapter_times.run_facts()
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", facts["commit"])
    assert facts["tensorflow"][0].isdigit() and facts["keras"][0].isdigit()
