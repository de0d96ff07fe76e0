"""The results page (book/_ext/results_table.py) and the reference run it shows
beside a quick build's figures (book/_ext/course_results.py)."""

from __future__ import annotations

import json

import course_results
import pytest
import results_table


def claim(statement="It beats PCA.", measured=0.0122, holds=True,
          course_says="holds"):
    return {"statement": statement, "measured": ["test MSE", measured],
            "reference": ["PCA-20", 0.0187], "fmt": ".4f", "unit": "",
            "holds": holds, "course_says": course_says, "mode": "full",
            "device": "CPU (2 cores)"}


def test_a_row_states_the_claim_its_figures_and_verdict():
    rows = results_table.claim_rows([claim(), claim("It wins.", 0.02, False)], None)
    assert rows == [
        ["It beats PCA.", "test MSE: 0.0122", "PCA-20: 0.0187", "yes"],
        ["It wins.", "test MSE: 0.0200", "PCA-20: 0.0187", "no"]]


def test_a_claim_the_course_reports_as_not_holding_says_so():
    rows = results_table.claim_rows([claim(holds=False, course_says="does not hold")],
                                    None)
    assert rows[0][3] == "no (as the course reports)"


def test_a_quick_page_shows_the_reference_beside_its_own_figures():
    quick = claim(measured=0.07, holds=False)
    rows = results_table.claim_rows([quick, claim("New claim.")], [claim()])
    assert rows[0] == [
        "It beats PCA.",
        "quick: test MSE: 0.0700 · full-mode reference: test MSE: 0.0122",
        "quick: PCA-20: 0.0187 · full-mode reference: PCA-20: 0.0187",
        "quick: no · full-mode reference: yes"]
    assert rows[1][1].endswith("full-mode reference: not in the reference run")


def test_the_reference_summary_names_when_where_and_what(tmp_path):
    entries = [{"date": "2026-01-02T10:00:00+00:00", "device": "CPU (2 cores)",
                "cpu": "AMD EPYC", "commit": "abc", "tensorflow": "2.21.0",
                "keras": "3.15.1", "python": "3.11.7"},
               {"date": "2026-02-01T10:00:00+00:00", "device": "CPU (2 cores)",
                "cpu": "AMD EPYC", "commit": "def", "tensorflow": "2.21.0",
                "keras": "3.15.1", "python": "3.11.7"}]
    text = results_table.reference_summary(entries)
    assert "2026-01-02 to 2026-02-01" in text and "AMD EPYC" in text
    assert "commit abc, def" in text and "Keras 3.15.1" in text


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"chapters": {"01_a": {"results": {}}}}), "`results` and `claims`"),
    (json.dumps({"results": {}}), "`results` and `claims`"),
])
def test_a_damaged_reference_run_says_how_to_write_it_again(tmp_path, content,
                                                            message):
    path = tmp_path / "reference_results.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        course_results.load_reference(path)
    assert course_results.REFERENCE_COMMAND in str(error.value)


def test_without_a_reference_run_there_is_none(tmp_path):
    assert course_results.load_reference(tmp_path / "missing.json") is None


def test_the_committed_reference_run_is_readable():
    reference = course_results.load_reference()
    assert reference is not None and reference["chapters"], (
        f"write it with {course_results.REFERENCE_COMMAND}")
