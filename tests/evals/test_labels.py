"""The label file: reference columns, invariants, error rows, and a byte-exact round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evswarm.core.errors import EvswarmError
from evswarm.core.labels import LabelRow, read_labels, write_labels
from evswarm.evals.labels import error_row, graded_row
from evswarm.evals.results import label_rows
from evswarm.evals.rubrics import EV_RUBRICS as RUBRICS

REFERENCE_COLUMNS = {
    "run_id", "case_type", "run_outcome", "promptfoo_pass", "promptfoo_failed_checks", "promptfoo_score_mean",
    "promptfoo_check_scores", "promptfoo_rationales", "promptfoo_primary_finding",
}  # fmt: skip
FACTS = {"case_type": "clean_simple", "run_outcome": "completed", "agent_version_set": "v1.1"}


def _finding(rubric: str) -> dict[str, object]:
    return {"rubric": rubric, "kind": "decision_mismatch", "severity": "error", "subject": "block not release",
            "message": "decided 'block'; the order called for 'release'", "evidence": ["span_x_0001"]}  # fmt: skip


def _verdicts(scores: dict[str, float], failing: set[str]) -> dict[str, dict[str, object]]:
    cite = "[evidence: span_x_0001]"
    return {n: {"pass": n not in failing, "score": scores.get(n, 1.0), "reason": f"{n} {cite}",
                "findings": [_finding(n)] if n in failing else []}
            for n in RUBRICS}  # fmt: skip


def test_graded_row_follows_the_reference_rules() -> None:
    scores = {"final_decision_quality": 0.96, "market_drift_awareness": 0.83}
    failing = {"review_appropriateness", "final_decision_quality"}
    row = graded_row(run_id="run_a", facts=FACTS, verdicts=_verdicts(scores, failing), errors=[], order=RUBRICS)
    assert row.promptfoo_failed_checks == [
        "final_decision_quality",
        "review_appropriateness",
    ]  # assertion order
    assert row.promptfoo_primary_finding == "final_decision_quality"
    assert row.promptfoo_pass is False and row.grade_status == "graded"
    assert row.promptfoo_score_mean == 0.958  # mean of 0.96, 1, 1, 0.83, 1 to 3 decimals
    assert set(row.to_json()) >= REFERENCE_COLUMNS
    assert not any(key.startswith("promptfoo_llm") for key in row.to_json())
    assert [(f.rubric, f.kind.value) for f in row.findings] == [
        ("final_decision_quality", "decision_mismatch"),
        ("review_appropriateness", "decision_mismatch"),
    ]
    assert row.symptoms() == ["decision_mismatch"]


def test_a_crashed_rubric_is_an_error_check_not_a_failure() -> None:
    row = graded_row(run_id="run_a", facts=FACTS, verdicts=_verdicts({}, set()),
                     errors=["market_drift_awareness"], order=RUBRICS)  # fmt: skip
    assert row.promptfoo_failed_checks == [] and row.promptfoo_error_checks == ["market_drift_awareness"]
    assert row.promptfoo_pass is None and row.grade_status == "partial"
    assert row.passed("market_drift_awareness") is None and row.passed("review_appropriateness") is True
    assert "market_drift_awareness" not in row.promptfoo_check_scores


def test_labels_round_trip_byte_for_byte(tmp_path: Path) -> None:
    rows = [
        graded_row(run_id="run_b", facts=FACTS, verdicts=_verdicts({}, {"review_appropriateness"}), errors=[],
                   order=RUBRICS),
        error_row("run_c", "cannot read bundle run_c.json: No such file or directory", {"case_type": "x"}),
        graded_row(run_id="run_d", facts=FACTS, verdicts=_verdicts({}, set()), errors=[], order=RUBRICS),
    ]  # fmt: skip
    rows[2].promptfoo_llm_check_scores = {n: 0.9 for n in RUBRICS}
    rows[2].promptfoo_llm_failed_checks = []
    rows[2].promptfoo_llm_rationales = {n: "fine" for n in RUBRICS}
    first = tmp_path / "eval_labels.jsonl"
    write_labels(first, rows)
    back = read_labels(first)
    assert back == rows
    second = tmp_path / "again.jsonl"
    write_labels(second, back)
    assert first.read_bytes() == second.read_bytes()
    lines = [json.loads(line) for line in first.read_text().splitlines()]
    assert [list(line) for line in lines] == [sorted(line) for line in lines]  # keys sorted, as the reference
    assert lines[1]["grade_status"] == "error" and lines[1]["promptfoo_pass"] is None


def test_reference_label_rows_validate(tmp_path: Path) -> None:
    """A row shaped like the cookbook's (no evswarm columns) is not silently accepted as ours."""
    reference = {"run_id": "run_x", "case_type": "clean_simple", "run_outcome": "completed",
                 "promptfoo_pass": True,
                 "promptfoo_failed_checks": [], "promptfoo_score_mean": 1.0, "promptfoo_check_scores": {},
                 "promptfoo_rationales": {}, "promptfoo_primary_finding": None}  # fmt: skip
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(reference) + "\n")
    with pytest.raises(EvswarmError, match=r"labels.jsonl:1: field `(agent_version_set|grade_status)`"):
        read_labels(path)


def test_bad_label_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(error_row("run_a", "x").to_json()) + "\n{oops\n")
    with pytest.raises(EvswarmError, match=r"labels.jsonl:2: not valid JSON"):
        read_labels(path)
    skipped: list[str] = []
    assert [row.run_id for row in read_labels(path, on_bad_row=skipped.append)] == ["run_a"]
    assert len(skipped) == 1 and "labels.jsonl:2" in skipped[0]


def test_a_finding_outside_the_symptom_vocabulary_is_rejected(tmp_path: Path) -> None:
    row = graded_row(run_id="run_a", facts=FACTS, verdicts=_verdicts({}, {"review_appropriateness"}), errors=[],
                     order=RUBRICS).to_json()  # fmt: skip
    row["findings"][0]["kind"] = "kept an overloaded factory"
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(EvswarmError, match=r"labels.jsonl:1: field `findings.0.kind`"):
        read_labels(path)


def _result(run_id: str, output: object, components: list[dict[str, object]] | None, error: str | None = None):
    response = {"output": json.dumps(output)} if output is not None else {"error": error}
    return {"vars": {"run_id": run_id}, "response": response, "error": error,
            "gradingResult": None if components is None else {"componentResults": components}}  # fmt: skip


def test_promptfoo_results_become_rows_in_run_order() -> None:
    payload = {**FACTS, "grades": _verdicts({}, {"routing_specialist_activation"})}
    components = [{"pass": g["pass"], "score": g["score"], "reason": g["reason"], "assertion": {"metric": n}}
                  for n, g in payload["grades"].items()]  # fmt: skip
    crashed = {**FACTS, "grades": {**payload["grades"], "review_appropriateness": {
        "pass": False, "score": 0.0, "reason": "grader error: KeyError", "error": "KeyError"}}}  # fmt: skip
    output = {"results": {"results": [
        _result("run_2", None, None, error="run_2.json: format is 'x', expected 'evswarm.bundle.v1'"),
        _result("run_1", payload, components),
        _result("run_3", crashed, None),
    ]}}  # fmt: skip
    rows = label_rows(output, ["run_1", "run_2", "run_3", "run_4"], {"run_4": {"case_type": "c"}}, llm=False)
    assert [r.run_id for r in rows] == ["run_1", "run_2", "run_3", "run_4"]
    assert rows[0].promptfoo_failed_checks == ["routing_specialist_activation"]
    assert rows[1].grade_status == "error" and "format is 'x'" in (rows[1].grade_error or "")
    assert rows[2].grade_status == "partial" and rows[2].promptfoo_error_checks == ["review_appropriateness"]
    assert rows[3].grade_status == "error" and rows[3].case_type == "c"
    assert all(isinstance(r, LabelRow) for r in rows)
