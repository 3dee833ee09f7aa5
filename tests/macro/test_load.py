from __future__ import annotations

import zipfile
from pathlib import Path

import orjson
import pytest

from evswarm.core.errors import EvswarmError
from evswarm.macro.grades import attach, read_grades
from evswarm.macro.load import locate
from evswarm.macro.tables import load_tables
from tests.macro.builders import make_bundle


def _reference_bundle(i: int, case: str) -> dict:
    """A bundle as the reference notebook's simulator wrote it: no evswarm keys, span_data as JSON text."""
    import random

    b = make_bundle(i, case, "phase4-v1.0", None, random.Random(i))
    for key in ("format", "seed", "model_calls", "oracle", "injected_faults"):
        b.pop(key)
    for span in b["spans"]:
        span["span_data"] = orjson.dumps(span["span_data"]).decode()
    b["run"]["summary"].pop("agent_version_set")
    return b


def _write_reference(root: Path, zipped: bool) -> list[str]:
    root.mkdir(parents=True, exist_ok=True)
    cases = ["clean_simple", "validation_block_simple", "pricing_exception_compound"]
    bundles = [_reference_bundle(i, cases[i % 3]) for i in range(6)]
    rows = []
    for b in bundles:
        rid = b["run"]["run_id"]
        rows.append(
            {
                "run_id": rid,
                "bundle_path": f"trace_bundles/{rid}.json",
                "status": "accepted",
                "agent_version_set": "phase4-v1.0",
                "loop_count": 9,
            }
        )
    rows.append(
        {
            "run_id": "run_runner_error",
            "bundle_path": "trace_bundles/run_runner_error.json",
            "status": "runner_error",
        }
    )
    (root / "trace_results.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    if zipped:
        with zipfile.ZipFile(root / "trace_bundles.zip", "w") as z:
            for b in bundles:
                z.writestr(f"trace_bundles/{b['run']['run_id']}.json", orjson.dumps(b))
    else:
        (root / "trace_bundles").mkdir()
        for b in bundles:
            (root / "trace_bundles" / f"{b['run']['run_id']}.json").write_bytes(orjson.dumps(b))
    labels = [
        {
            "run_id": bundles[1]["run"]["run_id"],
            "promptfoo_pass": False,
            "promptfoo_failed_checks": ["assertion_1"],
            "promptfoo_rationales": {"final_decision_quality": f"blocked at {bundles[1]['spans'][5]['span_id']}"},
        },
        {"run_id": "run_not_in_batch", "promptfoo_pass": True},
    ]
    (root / "eval_labels.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in labels) + b"{broken\n")
    return [b["run"]["run_id"] for b in bundles]


@pytest.mark.parametrize("zipped", [False, True])
def test_reference_layout_loads(tmp_path: Path, zipped: bool) -> None:
    ids = _write_reference(tmp_path / "ref", zipped)
    source = locate(tmp_path / "ref")
    assert source.layout == "reference" and source.bundle_count == 6
    assert source.missing_bundles == ["run_runner_error"]
    skipped: list = []
    norm = load_tables(source, skipped)
    assert skipped == []
    assert sorted(norm.traces.run_id) == sorted(ids)
    t = norm.traces.set_index("run_id")
    # the bundle's own status wins over the stale results-row status; its real zero wins over the row's 9
    assert set(t.run_outcome) <= {"completed", "blocked"}
    assert (t.loop_count == 0).all()
    # version set missing from the bundle summary is filled from the results row
    assert set(t.agent_version_set) == {"phase4-v1.0"}
    # JSON-string span_data was parsed: tool spans carry their tool names
    assert "compute_quote" in set(norm.events.tool_name.dropna())
    grades = read_grades(source.labels_path, set(t.index))
    assert grades.unknown_runs == 1 and len(grades.bad_rows) == 1 and ":3:" in grades.bad_rows[0]
    row = grades.table.iloc[0]
    assert row.failed_rubrics == ["final_decision_quality"]  # assertion_1 mapped to the rubric name
    assert row.symptoms == [] and row.cited_ids == []  # a judge's prose is never parsed for symptoms
    merged = attach(norm.traces, grades)
    assert merged.promptfoo_failed.sum() == 1


def test_a_reference_run_table_without_bundles_says_what_is_missing(tmp_path: Path) -> None:
    rows = [{"run_id": f"run_{i:04d}", "bundle_path": f"trace_bundles/run_{i:04d}.json"} for i in range(7)]
    (tmp_path / "trace_results.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    with pytest.raises(EvswarmError, match="7 runs, but no bundles were found"):
        locate(tmp_path)


def test_reference_labels_parse_as_graded_rows_without_findings(tmp_path: Path) -> None:
    """The reference's label file: an LLM judge's verdicts, `assertion_N` names, no evswarm bookkeeping."""
    rows = [
        {"run_id": "run_a", "case_type": "clean_simple", "run_outcome": "completed", "promptfoo_pass": True,
         "promptfoo_failed_checks": [], "promptfoo_check_scores": {"final_decision_quality": 0.96},
         "promptfoo_rationales": {"final_decision_quality": "coherent"}, "promptfoo_primary_finding": None,
         "promptfoo_score_mean": 0.96},
        {"run_id": "run_b", "case_type": "clean_simple", "run_outcome": "review_needed", "promptfoo_pass": False,
         "promptfoo_failed_checks": ["assertion_4", "final_decision_quality"],
         "promptfoo_check_scores": {"assertion_4": 0.0, "final_decision_quality": 0.5},
         "promptfoo_rationales": {"assertion_4": "502 Bad Gateway"}, "promptfoo_primary_finding": "assertion_4",
         "promptfoo_score_mean": 0.25},
    ]  # fmt: skip
    path = tmp_path / "eval_labels.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    grades = read_grades(path, {"run_a", "run_b", "run_c"})
    assert not grades.bad_rows and grades.unknown_runs == 0
    table = grades.table.set_index("run_id")
    assert table.loc["run_b"].failed_rubrics == ["final_decision_quality", "review_appropriateness"]
    assert table.loc["run_a"].promptfoo_pass and table.loc["run_b"].symptoms == []


def test_missing_directory_and_empty_batch(tmp_path: Path) -> None:
    with pytest.raises(EvswarmError, match="does not exist"):
        locate(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvswarmError, match="no trace bundles"):
        locate(tmp_path / "empty")
