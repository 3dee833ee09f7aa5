"""Per-trace attribution on hand-built traces, where each known defect of a naive score would pick the
wrong step: the last speaker, the first step, a step every run takes, or a cited step by construction."""

from __future__ import annotations

import pandas as pd
import pytest

from evswarm.macro import behavior
from evswarm.macro.attribution import attribute, pattern_suspects, step_deviation

AGENTS = ("Hub", "Planner", "Coder", "Reviewer")


def _trace(run_id: str, flag: str, *, slow_reviewer: bool = False) -> list[dict[str, object]]:
    """Hub -> Planner (decides `flag`) -> Coder -> Reviewer -> Hub's closing answer."""
    rows: list[dict[str, object]] = []

    def step(kind: str, agent: str, tool: str | None, shape: str, **extra: object) -> str:
        event_id = f"{run_id}:{len(rows)}"
        rows.append(
            {"run_id": run_id, "seq": len(rows), "event_id": event_id, "parent_id": None, "node_kind": kind,
             "agent_name": agent, "tool_name": tool, "call_id": extra.get("call_id"), "source_agent":
             extra.get("source"), "target_agent": extra.get("target"), "marker": "", "shape": shape, "text": ""}
        )  # fmt: skip
        return event_id

    step("generation", "Hub", None, "call transfer_to_planner agent=s")
    step("handoff", "Hub", None, "to Planner", source="Hub", target="Planner")
    step("generation", "Planner", "plan", f"call plan strict={flag}", call_id=f"{run_id}c1")
    step("function", "Planner", "plan", "steps=[n]", call_id=f"{run_id}c1")
    step("handoff", "Planner", None, "to Coder", source="Planner", target="Coder")
    step("generation", "Coder", "write", "call write files=[1]")
    step("handoff", "Coder", None, "to Reviewer", source="Coder", target="Reviewer")
    step("generation", "Reviewer", "review", "call review verdict=ok" + (" ; slow=true" if slow_reviewer else ""))
    step("handoff", "Reviewer", None, "to Hub", source="Reviewer", target="Hub")
    step("generation", "Hub", None, "say value=text")
    return rows


def _batch(n_fail: int = 12, n_pass: int = 30, odd_input: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    rows, traces, failing = [], [], set()
    for i in range(n_pass):
        rows += _trace(f"p{i:02d}", "true")
        traces.append({"run_id": f"p{i:02d}", "case_type": "task", "agent_version_set": "v1"})
    for i in range(n_fail):
        rows += _trace(f"f{i:02d}", "false")
        traces.append({"run_id": f"f{i:02d}", "case_type": "task", "agent_version_set": "v1"})
        failing.add(f"f{i:02d}")
    for i in range(odd_input):  # failing, but every step is like the passing runs'
        rows += _trace(f"i{i:02d}", "true")
        traces.append({"run_id": f"i{i:02d}", "case_type": "task", "agent_version_set": "v1"})
        failing.add(f"i{i:02d}")
    return pd.DataFrame(rows), pd.DataFrame(traces), failing


def _attribute(events: pd.DataFrame, traces: pd.DataFrame, failing: set[str], groups: dict[str, int]):
    passing = set(traces.run_id) - failing
    features = behavior.step_features(events)
    features = features.join(behavior.association(features, traces, failing, passing))
    features["contrast"] = behavior.contrast(features, traces, pd.Series(groups), passing)
    features["in_pattern"] = features.run_id.isin(set(groups))
    deviation = step_deviation(features)
    events = events.assign(
        deviation=deviation.reindex(pd.MultiIndex.from_frame(events[["run_id", "event_id"]])).to_numpy()
    )
    last = events.groupby("run_id").seq.max().reset_index()
    anchors = last.merge(events[["run_id", "seq", "event_id"]], on=["run_id", "seq"])
    anchors = anchors.rename(columns={"seq": "anchor_seq", "event_id": "anchor_event_id"})
    anchors["anchor_reason"] = "last step"
    anchors = anchors[anchors.run_id.isin(failing)]
    return attribute(events, anchors)


def test_the_step_that_departs_from_passing_peers_is_blamed_not_the_last_or_first_speaker() -> None:
    events, traces, failing = _batch()
    steps, attribution = _attribute(events, traces, failing, {r: 1 for r in failing})
    assert set(attribution.suspect_agent) == {"Planner"}
    assert set(attribution.suspect_kind) == {"generation"} and set(attribution.suspect_side) == {"agent"}
    # the obvious guesses, kept beside the score, would have named someone else
    assert set(attribution.baseline_last_agent) == {"Reviewer"}
    assert set(attribution.baseline_first_agent) == {"Hub"}
    top = steps[steps["rank"] == 1]
    assert (top.deviation > 0.9).all() and (top.earliness == 1.0).all()


def test_a_step_every_run_takes_scores_no_deviation_even_when_it_is_next_to_the_failure() -> None:
    events, traces, failing = _batch()
    steps, _ = _attribute(events, traces, failing, {r: 1 for r in failing})
    reviewer = steps[steps.agent_name == "Reviewer"]
    assert (reviewer.deviation < 0.1).all()


def test_a_failure_with_no_departing_step_blames_the_input() -> None:
    events, traces, failing = _batch(n_fail=0, odd_input=12)
    _, attribution = _attribute(events, traces, failing, {r: 1 for r in failing})
    assert set(attribution.suspect_side) == {"input"} and set(attribution.suspect_agent) == {"input"}


def test_a_pattern_with_two_causes_shows_both_with_their_shares() -> None:
    events, traces, failing = _batch(n_fail=12, odd_input=4)
    groups = {r: 1 for r in failing}
    _, attribution = _attribute(events, traces, failing, groups)
    assignments = pd.DataFrame({"run_id": sorted(failing), "pattern_id": 1})
    suspects = pattern_suspects(attribution, assignments)
    assert suspects[["component", "side"]].values.tolist() == [["Planner", "agent"], ["input", "input"]]
    assert suspects.share.tolist() == pytest.approx([12 / 16, 4 / 16])
