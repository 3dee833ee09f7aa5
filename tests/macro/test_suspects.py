from __future__ import annotations

import pandas as pd
import pytest

from evswarm.macro.graph import build_graph, edge_kind_counts
from evswarm.macro.suspects import WEIGHTS, diagnose, top_operational, walk_back


def _events(run_id: str, bad_quote: bool) -> pd.DataFrame:
    """Orchestrator -> Pricing (model call + tool) -> Orchestrator -> Compliance check (anchor) -> finding."""
    quote = (
        "Pricing tool compute_quote -> {total: 100}"
        if not bad_quote
        else "Pricing tool compute_quote -> {total: 70, incentive: expired}"
    )
    rows = [
        (
            "e0",
            None,
            "handoff",
            "Orchestrator",
            None,
            None,
            "Orchestrator",
            "Pricing",
            "",
            "handoff Orchestrator -> Pricing",
        ),
        ("e1", None, "agent", "Pricing", None, None, None, None, "", "agent Pricing starts"),
        (
            "e2",
            "e1",
            "generation",
            "Pricing",
            "compute_quote",
            "c1",
            None,
            None,
            "",
            "Pricing model calls compute_quote",
        ),
        ("e3", "e1", "function", "Pricing", "compute_quote", "c1", None, None, "", quote),
        (
            "e4",
            "e1",
            "handoff",
            "Pricing",
            None,
            None,
            "Pricing",
            "Orchestrator",
            "",
            "handoff Pricing -> Orchestrator",
        ),
        (
            "e5",
            None,
            "handoff",
            "Orchestrator",
            None,
            None,
            "Orchestrator",
            "Compliance",
            "",
            "handoff Orchestrator -> Compliance",
        ),
        ("e6", None, "agent", "Compliance", None, None, None, None, "", "agent Compliance starts"),
        (
            "e7",
            "e6",
            "function",
            "Compliance",
            "check",
            None,
            None,
            None,
            "tool_finding" if bad_quote else "",
            "Compliance tool check -> ok" if not bad_quote else "Compliance tool check -> findings",
        ),
    ]
    df = pd.DataFrame(
        rows,
        columns=[
            "event_id",
            "parent_id",
            "node_kind",
            "agent_name",
            "tool_name",
            "call_id",
            "source_agent",
            "target_agent",
            "marker",
            "text",
        ],
    )
    df["event_id"] = run_id + "_" + df.event_id
    df["parent_id"] = df.parent_id.map(lambda p: None if p is None else f"{run_id}_{p}")
    df["run_id"] = run_id
    df["seq"] = range(len(df))
    return df


def test_graph_has_all_four_edge_kinds() -> None:
    g = build_graph(_events("t", True))
    kinds = edge_kind_counts(g)
    assert kinds["temporal"] == 7
    assert kinds["parent"] == 4  # e1->e2, e1->e3, e1->e4, e6->e7
    assert kinds["tool"] == 1  # e2 -> e3 by call id
    assert kinds["handoff"] >= 3  # e0 -> e1 (to Pricing), e3 -> e4 (Pricing's last step), e5 -> e6
    assert g.has_edge("t_e2", "t_e3") and "tool" in g.edges["t_e2", "t_e3"]["kinds"]
    assert "handoff" in g.edges["t_e0", "t_e1"]["kinds"]


def test_walk_back_uses_shortcut_edges() -> None:
    g = build_graph(_events("t", True))
    hops = walk_back(g, "t_e7", max_hops=6)
    assert hops["t_e7"] == 0
    assert hops["t_e6"] == 1  # parent and temporal
    assert hops["t_e3"] == 4  # e3 -> e4 -> e5 -> e6 -> e7
    assert hops["t_e0"] == 5  # the parent edge e1 -> e4 skips the Pricing steps
    assert "t_e0" not in walk_back(g, "t_e7", max_hops=4)


def test_origin_is_the_first_step_that_departs_from_clean_runs() -> None:
    faulty = pd.concat([_events(f"f{i}", True) for i in range(4)], ignore_index=True)
    clean = pd.concat([_events(f"c{i}", False) for i in range(4)], ignore_index=True)
    events = pd.concat([faulty, clean], ignore_index=True)
    members = pd.DataFrame(
        {"run_id": [f"f{i}" for i in range(4)], "pattern_id": 1, "anchor_event_id": [f"f{i}_e7" for i in range(4)]}
    )
    diag = diagnose(members, events, clean_runs=[f"c{i}" for i in range(4)], max_hops=6)
    steps = diag.per_trace[diag.per_trace.run_id == "f0"].set_index("event_id")
    # the bad quote never happens in clean runs; the handoffs and agent starts happen in every run
    assert steps.loc["f0_e3", "frequency"] == pytest.approx(1.0)
    assert steps.loc["f0_e0", "frequency"] == pytest.approx(0.0)
    # the walk back from the anchor (the compliance check) finds the quote as the first departure
    assert bool(steps.loc["f0_e3", "is_origin"]) and steps.origin_event_id.iloc[0] == "f0_e3"
    assert steps.loc["f0_e3", "proximity"] == 1.0 and steps.loc["f0_e3", "bridge"] == 1.0
    assert steps.loc["f0_e2", "proximity"] == pytest.approx(0.5)  # the model call that asked for the quote
    assert "f0_e7" not in steps.index  # the symptom lies downstream of the origin
    # every score is exactly the documented weighted sum
    recomputed = sum(w * steps[c] for c, w in WEIGHTS.items())
    assert (recomputed - steps.score).abs().max() < 1e-12
    top = top_operational(diag.rollup).iloc[0]
    assert (top.agent_name, top.node_kind, top.tool_name) == ("Pricing", "function", "compute_quote")
    assert top.coverage == 1.0 and top.traces_covered == 4


def test_without_a_departure_the_anchor_is_the_origin() -> None:
    clean = pd.concat([_events(f"c{i}", False) for i in range(4)], ignore_index=True)
    members = pd.DataFrame({"run_id": ["c0", "c1"], "pattern_id": 1, "anchor_event_id": ["c0_e7", "c1_e7"]})
    diag = diagnose(members, clean, clean_runs=["c2", "c3"], max_hops=2)
    assert set(diag.per_trace[diag.per_trace.is_origin].event_id) == {"c0_e7", "c1_e7"}


def test_rollup_rewards_coverage_not_one_off_scores() -> None:
    faulty = pd.concat([_events(f"f{i}", True) for i in range(4)], ignore_index=True)
    members = pd.DataFrame(
        {
            "run_id": [f"f{i}" for i in range(4)],
            "pattern_id": 1,
            "anchor_event_id": [f"f{i}_e7" for i in range(4)],
        }
    )
    diag = diagnose(members, faulty, clean_runs=[], max_hops=2)
    roll = diag.rollup
    assert set(roll.drilled_traces) == {4}
    assert (roll.pattern_score == roll.mean_score * roll.coverage).all()


def test_an_anchor_the_grader_cited_precisely_is_the_origin() -> None:
    """The grader located the decision (the compliance check): the walk does not move upstream of it."""
    faulty = pd.concat([_events(f"f{i}", True) for i in range(4)], ignore_index=True)
    clean = pd.concat([_events(f"c{i}", False) for i in range(4)], ignore_index=True)
    members = pd.DataFrame(
        {
            "run_id": [f"f{i}" for i in range(4)],
            "pattern_id": 1,
            "anchor_event_id": [f"f{i}_e7" for i in range(4)],
            "anchor_reason": "cited precisely by the grader",
        }
    )
    diag = diagnose(members, pd.concat([faulty, clean]), clean_runs=[f"c{i}" for i in range(4)], max_hops=6)
    steps = diag.per_trace[diag.per_trace.run_id == "f0"].set_index("event_id")
    assert steps.origin_event_id.iloc[0] == "f0_e7" and bool(steps.loc["f0_e7", "is_origin"])
    assert steps.loc["f0_e7", "proximity"] == 1.0
    assert steps.loc["f0_e3", "frequency"] == pytest.approx(1.0)  # the departure still earns its frequency
