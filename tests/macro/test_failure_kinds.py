"""Failure kinds read from grader rationales, and the documents built from them."""

from __future__ import annotations

import pandas as pd

from evswarm.macro.documents import build
from evswarm.macro.labels import _row, failure_kinds

LOOP = (
    "turn limit hit in a routing loop between SupplierRiskAgent and SupplyAllocationAgent "
    "(runaway loop: loop_count 23 (limit 3); repeated agent(s): SupplierRiskAgent) [evidence: span_ab12cd_0110]"
)


def test_kinds_drop_details_counts_and_evidence() -> None:
    assert failure_kinds(LOOP) == [
        "turn limit hit in a routing loop between SupplierRiskAgent and SupplyAllocationAgent"
    ]
    drift = (
        "2 of 7 signal(s) mishandled: stockout not noticed (stock-a); "
        "tariff in effect but not applied (t-1) [evidence: x]"
    )
    assert failure_kinds(drift) == ["stockout not noticed", "tariff in effect but not applied"]
    # a rationale written without the `kind (details)` convention stays whole
    assert failure_kinds("decision 'release', expected 'reroute'") == ["decision 'release', expected 'reroute'"]


def test_outcome_kinds_are_left_out_when_a_process_rubric_explains_the_failure() -> None:
    rationales = {
        "final_decision_quality": "wrong price decision (decision 'adjust_price', expected 'release')",
        "market_drift_awareness": "1 of 2 signal(s) mishandled: incentive applied although not in effect (inc)",
        "review_appropriateness": "no review requested, and none was needed",
    }
    failed = ["final_decision_quality", "market_drift_awareness"]
    row = _row(
        {"run_id": "r", "promptfoo_pass": False, "promptfoo_failed_checks": failed, "promptfoo_rationales": rationales}
    )
    assert row["failure_kinds"] == ["incentive applied although not in effect"]
    alone = _row(
        {
            "run_id": "r",
            "promptfoo_pass": False,
            "promptfoo_failed_checks": failed[:1],
            "promptfoo_rationales": rationales,
        }
    )
    assert alone["failure_kinds"] == ["wrong price decision"]


def test_kind_documents_list_the_rarest_kind_first() -> None:
    kinds = [["common", "rare"]] + [["common"]] * 3
    traces = pd.DataFrame(
        {
            "run_id": [f"r{i}" for i in range(4)],
            "failure_kinds": kinds,
            "promptfoo_pass": False,
            "failed_rubrics": [["x"]] * 4,
            "rationale_text": "",
            "run_outcome": "completed",
            "loop_count": 0,
            "retry_count": 0,
        }
    )
    events = pd.DataFrame(
        columns=[
            "run_id",
            "seq",
            "node_kind",
            "agent_name",
            "tool_name",
            "marker",
            "text",
            "source_agent",
            "target_agent",
        ]
    )
    anchors = pd.DataFrame({"run_id": traces.run_id, "anchor_seq": -1})
    docs = build(traces, events, anchors)
    assert docs.doc_summary.iloc[0] == "rare\ncommon"
    assert docs.doc_summary.iloc[1] == "common"
