"""Per-trace attribution on hand-built traces, where each known defect of a naive score would pick the
wrong step: the last speaker, the first step, a step every run takes, the input for want of evidence
against the agents, or a chat turn that only looks like its peers' because its words were not read."""

from __future__ import annotations

import pandas as pd
import pytest

from evswarm.core.speakers import Blameable, speaker_kind
from evswarm.macro import behavior
from evswarm.macro.attribution import (
    RULE_CONTRAST,
    RULE_INPUT,
    RULE_NEAREST,
    attribute,
    pattern_suspects,
    step_deviation,
)
from evswarm.macro.shapes import joined

Row = dict[str, object]


class _Steps:
    """Event-table rows of one hand-built trace."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.rows: list[Row] = []

    def add(self, kind: str, agent: str, tool: str | None, shape: str, **extra: object) -> str:
        event_id = f"{self.run_id}:{len(self.rows)}"
        self.rows.append(
            {"run_id": self.run_id, "seq": len(self.rows), "event_id": event_id, "parent_id": None,
             "node_kind": kind, "agent_name": agent, "tool_name": tool, "call_id": extra.get("call_id"),
             "source_agent": extra.get("source"), "target_agent": extra.get("target"), "marker": "",
             "shape": shape, "text": ""}
        )  # fmt: skip
        return event_id

    def say(self, agent: str, text: str) -> str:
        """An agent's chat turn, its content features read from its text as the normalizer does."""
        return self.add("generation", agent, None, joined(text, "say "))


def _trace(run_id: str, flag: str) -> list[Row]:
    """Hub -> Planner (decides `flag`) -> Coder -> Reviewer -> Hub's closing answer."""
    t = _Steps(run_id)
    t.add("generation", "Hub", None, "call transfer_to_planner agent=s")
    t.add("handoff", "Hub", None, "to Planner", source="Hub", target="Planner")
    t.add("generation", "Planner", "plan", f"call plan strict={flag}", call_id=f"{run_id}c1")
    t.add("function", "Planner", "plan", "steps=[n]", call_id=f"{run_id}c1")
    t.add("handoff", "Planner", None, "to Coder", source="Planner", target="Coder")
    t.add("generation", "Coder", "write", "call write files=[1]")
    t.add("handoff", "Coder", None, "to Reviewer", source="Coder", target="Reviewer")
    t.add("generation", "Reviewer", "review", "call review verdict=ok")
    t.add("handoff", "Reviewer", None, "to Hub", source="Reviewer", target="Hub")
    t.add("generation", "Hub", None, "say value=text")
    return t.rows


def _batch(
    n_fail: int = 12, n_pass: int = 30, odd_input: int = 0, request: str = "write the report"
) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    """Passing runs, failing runs whose Planner departs (`n_fail`) and failing runs that do exactly what
    passing runs do (`odd_input`), all asked `request` unless a test changes it."""
    rows: list[Row] = []
    traces: list[Row] = []
    failing: set[str] = set()
    for prefix, count, flag, fails in (("p", n_pass, "true", False), ("f", n_fail, "false", True),
                                       ("i", odd_input, "true", True)):  # fmt: skip
        for i in range(count):
            run_id = f"{prefix}{i:02d}"
            rows += _trace(run_id, flag)
            traces.append({"run_id": run_id, "case_type": "task", "agent_version_set": "v1", "request": request})
            if fails:
                failing.add(run_id)
    return pd.DataFrame(rows), pd.DataFrame(traces), failing


def _attribute(
    events: pd.DataFrame,
    traces: pd.DataFrame,
    failing: set[str],
    groups: dict[str, int],
    anchor: str = "last",
    blame: Blameable | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pipeline's attribution stage on hand-built tables: deviation, request novelty, suspects.
    `anchor`: `last` (the last step) or `after` (a terminal status entry after the last step)."""
    passing = set(traces.run_id) - failing
    if anchor == "after":
        last = events.groupby("run_id").seq.max()
        ends = pd.DataFrame(
            {"run_id": last.index, "seq": last.to_numpy() + 1, "event_id": last.index + ":end", "node_kind": "status",
             "agent_name": "system", "marker": "failed", "shape": "failed", "text": ""}
        )  # fmt: skip
        events = pd.concat([events, ends], ignore_index=True)
    features = behavior.step_features(events)
    deviation = step_deviation(features, traces, pd.Series(groups, dtype=int), failing, passing)
    events = events.assign(deviation=deviation.reindex(pd.MultiIndex.from_frame(events[["run_id", "seq"]])).to_numpy())
    last = events.groupby("run_id").seq.max().reset_index()
    anchors = last.merge(events[["run_id", "seq", "event_id"]], on=["run_id", "seq"])
    anchors = anchors.rename(columns={"seq": "anchor_seq", "event_id": "anchor_event_id"})
    anchors["anchor_reason"] = "terminal step" if anchor == "after" else "last step"
    anchors = anchors[anchors.run_id.isin(failing)]
    return attribute(events, anchors, behavior.input_novelty(traces, failing, passing), blame)


def test_the_step_that_departs_from_passing_peers_is_blamed_not_the_last_or_first_speaker() -> None:
    events, traces, failing = _batch()
    steps, attribution = _attribute(events, traces, failing, {r: 1 for r in failing})
    assert set(attribution.suspect_agent) == {"Planner"} and set(attribution.suspect_rule) == {RULE_CONTRAST}
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


def test_outside_every_pattern_a_step_every_run_takes_scores_no_deviation_when_failing_runs_outnumber_passing() -> None:
    # 40 failing runs that fit no pattern against 10 passing ones: a smoothed log odds ratio gave every
    # step the runs all take log(81/21)/4 = 0.34, enough to count as departing, so the first step won.
    events, traces, failing = _batch(n_fail=0, n_pass=10, odd_input=40)
    steps, attribution = _attribute(events, traces, failing, {})
    assert steps.deviation.max() < 0.05
    assert set(attribution.unusual_steps) == {0} and set(attribution.suspect_rule) == {RULE_NEAREST}


def test_no_departing_step_and_a_usual_request_blame_the_agent_step_nearest_the_failure_not_the_input() -> None:
    # the run did what passing runs do and asked what they ask: the old fallback blamed the input for want
    # of evidence against any agent; the content rule follows the Hub's closing turn back to what it relays
    events, traces, failing = _batch(n_fail=0, odd_input=12)
    _, attribution = _attribute(events, traces, failing, {r: 1 for r in failing})
    assert set(attribution.suspect_rule) == {RULE_NEAREST}
    assert set(attribution.suspect_agent) == {"Reviewer"} and set(attribution.suspect_side) == {"agent"}
    assert "input" not in set(attribution.suspect_component)


def test_no_departing_step_and_a_request_unlike_passing_peers_blame_the_input() -> None:
    events, traces, failing = _batch(n_fail=0, odd_input=12)
    odd = traces.run_id.isin(failing)
    traces.loc[odd, "request"] = "write the report but we cannot take delivery before January"
    _, attribution = _attribute(events, traces, failing, {r: 1 for r in failing})
    assert set(attribution.suspect_rule) == {RULE_INPUT}
    assert set(attribution.suspect_side) == {"input"} and set(attribution.suspect_agent) == {"input"}


def test_an_unusual_request_does_not_outrank_a_step_that_departs_from_its_peers() -> None:
    events, traces, failing = _batch()
    traces.loc[traces.run_id.isin(failing), "request"] = "write the report but we cannot take delivery before January"
    steps, attribution = _attribute(events, traces, failing, {r: 1 for r in failing})
    assert set(attribution.suspect_agent) == {"Planner"} and set(attribution.suspect_rule) == {RULE_CONTRAST}
    # the input is still listed with its novelty, below the suspect
    inputs = steps[steps.node_kind == "input"]
    assert len(inputs) == len(failing) and (inputs.deviation == 1.0).all() and (inputs["rank"] > 1).all()


def test_a_request_word_only_one_failing_trace_has_is_not_evidence_against_the_input() -> None:
    traces = pd.DataFrame(
        {"run_id": ["f0", "f1", "p0", "p1"], "case_type": "task", "agent_version_set": "v1",
         "request": ["refund order seven", "refund order nine", "refund order five", "refund order two"]}
    )  # fmt: skip
    novelty = behavior.input_novelty(traces, {"f0", "f1"}, {"p0", "p1"})
    assert novelty.to_dict() == {"f0": 0.0, "f1": 0.0}  # `seven` and `nine` are each one trace's own


def _desk(run_id: str, kind: str) -> list[Row]:
    """A chat log with no structure but its text: a user's request, a Router that names a desk, the desk's
    answers, a tool result and a closing turn by the Router."""
    t = _Steps(run_id)
    t.add("custom", "user", None, joined(f"please help with my {kind}", "user_message "))
    t.say("Router", "This is a billing question: Billing handles it.")
    if kind == "invoice":
        t.say("Billing", 'Look up the invoice. -> lookup_invoice({"month": "2026-04"})')
        t.add("function", "Billing", "tool", joined('{"amount_due": 40.5, "status": "open"}'))
        t.say("Billing", "Your invoice is $40.50, still open.")
    else:  # a card change the desk wrongly sends back
        t.say("Billing", "Card changes are not billing questions; sending it back.")
    t.say("Router", "Closing the ticket.")
    return t.rows


def test_chat_turns_are_told_apart_by_their_words_so_the_turn_that_departs_is_blamed() -> None:
    # Every agent turn of a chat log used to have one content feature, `text`: all turns looked alike, no
    # step departed and the input was blamed. Their words tell the bounced card change apart.
    rows: list[Row] = []
    traces: list[Row] = []
    for i in range(20):
        rows += _desk(f"p{i:02d}", "invoice")
        traces.append({"run_id": f"p{i:02d}", "case_type": "unknown", "request": "please help with my invoice"})
    for i in range(8):
        rows += _desk(f"f{i:02d}", "card")
        traces.append({"run_id": f"f{i:02d}", "case_type": "unknown", "request": "please help with my invoice"})
    events, table = pd.DataFrame(rows), pd.DataFrame(traces)
    failing = {f"f{i:02d}" for i in range(8)}
    _, attribution = _attribute(events, table, failing, {r: 1 for r in failing}, anchor="after")
    assert set(attribution.suspect_rule) == {RULE_CONTRAST} and set(attribution.suspect_agent) == {"Billing"}
    assert set(attribution.suspect_seq) == {2}  # Billing's turn that bounced the ticket, not the Router's close
    assert set(attribution.baseline_first_agent) == {"Router"}
    without_words = events.assign(shape=events["shape"].str.replace(r" ; say text~\S+", "", regex=True))
    _, old = _attribute(without_words, table, failing, {r: 1 for r in failing}, anchor="after")
    assert set(old.suspect_rule) == {RULE_NEAREST}  # nothing departs once the words are gone


def test_a_pattern_with_two_causes_shows_both_with_their_shares() -> None:
    events, traces, failing = _batch(n_fail=12, odd_input=4)
    odd = traces.run_id.str.startswith("i")
    traces.loc[odd, "request"] = "write the report but we cannot take delivery before January"
    groups = {r: 1 for r in failing}
    _, attribution = _attribute(events, traces, failing, groups)
    assignments = pd.DataFrame({"run_id": sorted(failing), "pattern_id": 1})
    suspects = pattern_suspects(attribution, assignments)
    assert suspects[["component", "side"]].values.tolist() == [["Planner", "agent"], ["input", "input"]]
    assert suspects.share.tolist() == pytest.approx([12 / 16, 4 / 16])


def test_with_no_passing_peers_no_step_deviates_and_the_agent_step_nearest_the_anchor_is_blamed() -> None:
    # Every run failed, so nothing can be contrasted. The old fallback let each feature contrast by its
    # share alone: the steps every failing run takes deviated most and the first of them (the Hub) won.
    events, traces, failing = _batch(n_fail=12, n_pass=0, odd_input=4)
    steps, attribution = _attribute(events, traces, failing, {r: 1 for r in failing})
    assert steps.deviation.max() == 0.0 and set(attribution.unusual_steps) == {0}
    assert set(attribution.suspect_rule) == {RULE_NEAREST} and set(attribution.suspect_agent) == {"Reviewer"}
    # with no requests to compare, no request is unusual: the input is never blamed for it
    traces.loc[traces.run_id.str.startswith("i"), "request"] = "write the report before January please"
    _, attribution = _attribute(events, traces, failing, {r: 1 for r in failing})
    assert "input" not in set(attribution.suspect_component)


def _coded(run_id: str, exit_code: int) -> list[Row]:
    """A Coder writes a script, a terminal runs it and reports its exit code, the Hub closes."""
    t = _Steps(run_id)
    t.say("Hub", "Coder, please write the script.")
    t.say("Coder", "Here is the script: print(total)")
    t.say("Computer_terminal", f"exitcode {exit_code} " + ("ran fine" if exit_code == 0 else "traceback nameerror"))
    t.say("Hub", "Closing.")
    return t.rows


def test_a_terminal_is_not_blamed_for_the_outcome_it_reports_unless_asked() -> None:
    rows: list[Row] = []
    traces: list[Row] = []
    for prefix, count, code in (("p", 20, 0), ("f", 8, 1)):
        for i in range(count):
            rows += _coded(f"{prefix}{i:02d}", code)
            traces.append({"run_id": f"{prefix}{i:02d}", "case_type": "task", "request": "sum the column"})
    events, table = pd.DataFrame(rows), pd.DataFrame(traces)
    failing = {f"f{i:02d}" for i in range(8)}
    # only the terminal's report departs from passing peers: by default it is no candidate, and the agent
    # step that produced what it ran is blamed; the baselines skip the terminal too
    _, attribution = _attribute(events, table, failing, {r: 1 for r in failing}, anchor="after")
    assert set(attribution.suspect_agent) == {"Coder"} and set(attribution.suspect_rule) == {RULE_NEAREST}
    assert set(attribution.baseline_last_agent) == {"Coder"}
    assert set(attribution.baseline_most_frequent_agent) == {"Hub"}
    widened = Blameable.of(["terminals"])
    _, attribution = _attribute(events, table, failing, {r: 1 for r in failing}, anchor="after", blame=widened)
    assert set(attribution.suspect_agent) == {"Computer_terminal"} and set(attribution.suspect_rule) == {RULE_CONTRAST}
    never = Blameable.of([], ["Coder"])
    _, attribution = _attribute(events, table, failing, {r: 1 for r in failing}, anchor="after", blame=never)
    assert set(attribution.suspect_agent) == {"Hub"}


@pytest.mark.parametrize(
    ("name", "kind"),
    [("Computer_terminal", "terminals"), ("code_executor", "terminals"), ("PythonInterpreter", "terminals"),
     ("HTMLShell", "terminals"), ("user", "people"), ("Human", "people"), ("simulated_user", "people"),
     ("EndUser", "people"), ("WebSurfer", "agents"), ("ShellyPlanner", "agents"), ("Orchestrator", "agents"),
     ("CustomerCommsAgent", "agents"), ("HumanEscalationAgent", "agents"), ("Linux_Terminal_Expert", "agents"),
     ("ShellGPT", "agents")],
)  # fmt: skip
def test_speakers_are_told_apart_by_name(name: str, kind: str) -> None:
    assert speaker_kind(name) == kind


def test_an_unknown_speaker_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="robots"):
        Blameable.of(["robots"])
    with pytest.raises(ValueError, match="list of names"):
        Blameable.of([], "user")


def test_speakers_can_be_blamed_or_spared_by_name_whatever_their_case() -> None:
    rule = Blameable.of([], never=["coder"], always=["plan_executor"])
    assert not rule.allows("Coder") and rule.allows("Plan_Executor") and not rule.allows("code_executor")
    assert rule.left_out(["Coder", "Plan_Executor", "user", "Hub", None, float("nan")]) == ["Coder", "user"]
    assert not rule.allows(None) and not rule.allows(float("nan")) and not rule.allows("")
