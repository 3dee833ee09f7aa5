"""What failing traces do that their peers do not: step features and their contrast with peers.

Every step that acts (model decisions, tool results, handoffs, environment events), and every finding a
run's agents report, has features: its `agent|kind|tool`, the agent that handed over control before it
(`...|after X`), and one feature per leaf of its content (`...|path=value`, see `shapes`). Steps are
compared across runs through these.

Peers are traces of the same case type and agent version set; where fewer than `MIN_PEERS` such traces
are available, of the same case type; failing that, all traces (see `peer_keys`). Version sets matter
here (not in clustering): a version that routes differently by design must not look like a failure.

The *contrast* of a feature for a group of failing traces is the share of the group that has it minus
the share of passing peers that have it, matched to the group's mix of peer groups. A feature every run
has, or that comes with the order rather than with the failure (a paint colour, a trim), contrasts near
0; one that only failing runs have contrasts near 1. The *association* of a feature with failing is a
smoothed log odds ratio between failing and passing peers, used before patterns exist.

Passing traces are the ones that passed every rubric when grades exist. Without grades they are the
traces that are not failing by the rules of `population` (no rare feature, outcome or error).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evswarm.macro.shapes import SEPARATOR, WORD_MARK
from evswarm.macro.shapes import features as content_features

ACTING_KINDS = frozenset({"generation", "response", "function", "handoff", "guardrail", "environment", "custom"})
"""Kinds of steps that act in a run (findings, status entries and reviews report on it)."""
FEATURE_KINDS = ACTING_KINDS | {"finding"}
HANDOFF_TOOL = "transfer_to_"
"""The Agents SDK's handoff tools are named `transfer_to_<agent>`."""
"""Kinds that get features: acting steps, and the findings a run's agents report about it."""
MIN_PEERS = 10
"""A case type with fewer traces than this in a group is compared with all traces of the group."""
RARE_SHARE = 0.05
"""Without grades, a feature fewer than this share of a case type's traces have marks a trace as odd."""
MIN_SUPPORT = 2
"""Failing traces that must share a feature of their request before it counts as unusual (every request
has words of its own)."""


def step_features(events: pd.DataFrame) -> pd.DataFrame:
    """One row per (acting step, feature): run_id, seq, event_id, feature (a categorical column)."""
    ordered = events.sort_values(["run_id", "seq"], kind="stable")
    handed = ordered.source_agent.where(ordered.node_kind == "handoff")
    before = handed.groupby(ordered.run_id).ffill().groupby(ordered.run_id).shift(1).fillna("start")
    acting = ordered.node_kind.isin(FEATURE_KINDS)
    steps = ordered[acting]
    tool = steps.tool_name.fillna("").astype(str)
    base = steps.agent_name.astype(str) + "|" + steps.node_kind.astype(str) + "|" + tool
    # what a handoff carries is compared whoever it goes to (the target is its own feature, in `base`)
    content_base = base.where(~tool.str.startswith(HANDOFF_TOOL), steps.agent_name.astype(str) + "|handoff|")
    leaves = steps["shape"].astype(str).str.split(SEPARATOR, regex=False)
    content = pd.DataFrame({"base": content_base, "leaf": leaves}).explode("leaf")
    parts = [
        base.rename("feature"),
        (base + "|after " + before[acting].astype(str)).rename("feature"),
        (content.base + "|" + content.leaf.astype(str)).rename("feature"),
    ]
    feats = pd.concat(parts)
    out = steps[["run_id", "seq", "event_id"]].loc[feats.index].assign(feature=feats.to_numpy())
    out = out.drop_duplicates().reset_index(drop=True)
    # categorical: every grouping, de-duplication and lookup by feature then works on integer codes
    return out.assign(feature=out.feature.astype("category"))


def peer_keys(traces: pd.DataFrame, *populations: set[str]) -> pd.Series:
    """Each trace's peer group (run_id -> key): its case type and version set where every population
    has at least `MIN_PEERS` traces of that group, else its case type where they do, else `*`."""
    case = traces.case_type.astype(str)
    version = traces.agent_version_set.astype(str) if "agent_version_set" in traces.columns else ""
    levels = [case + "@" + version, case]
    key = pd.Series("*", index=traces.index)
    settled = pd.Series(False, index=traces.index)
    for level in levels:
        enough = pd.Series(True, index=traces.index)
        for runs in populations:
            counts = level[traces.run_id.isin(runs)].value_counts()
            enough &= level.map(counts).fillna(0).ge(MIN_PEERS)
        take = enough & ~settled
        key = key.where(~take, level)
        settled |= take
    return pd.Series(key.to_numpy(), index=traces.run_id.to_numpy())


def _case_of(keys: pd.Series, runs: pd.Series) -> pd.Series:
    return runs.map(keys).fillna("*")


def shares(features: pd.DataFrame, keys: pd.Series, runs: set[str]) -> tuple[pd.Series, pd.Series]:
    """Share of `runs` having each feature, per peer key (indexed by key, feature) and overall (by
    feature). Keys with fewer than `MIN_PEERS` of `runs` are left out of the per-key shares."""
    mine = features[features.run_id.isin(runs)][["run_id", "feature"]].drop_duplicates()
    if mine.empty or not runs:
        return pd.Series(dtype=float), pd.Series(dtype=float)
    mine = mine.assign(case=_case_of(keys, mine.run_id).to_numpy())
    sizes = keys[keys.index.isin(runs)].value_counts()
    sizes = sizes[sizes >= MIN_PEERS]
    per_case = mine[mine.case.isin(sizes.index)].groupby(["case", "feature"]).run_id.nunique()
    per_case = per_case.div(sizes, level="case") if len(per_case) else per_case.astype(float)
    overall = mine.groupby("feature").run_id.nunique() / len(runs)
    return per_case, overall


LEVELS = ("case_type+agent_version_set", "case_type", "agent_version_set")
"""Peer groups a trace belongs to, finest first; a step is usual if it is usual in any of them."""


def _level_keys(traces: pd.DataFrame) -> dict[str, pd.Series]:
    """run_id -> group key, per level of `LEVELS` (plus `*`, every trace)."""
    case = traces.case_type.astype(str)
    version = (
        traces.agent_version_set.astype(str)
        if "agent_version_set" in traces.columns
        else pd.Series("?", index=traces.index)
    )
    columns = {"case_type+agent_version_set": case + "@" + version, "case_type": case, "agent_version_set": version}
    keys = {name: pd.Series(columns[name].to_numpy(), index=traces.run_id.to_numpy()) for name in LEVELS}
    keys["*"] = pd.Series("*", index=traces.run_id.to_numpy())
    return keys


def peer_share(features: pd.DataFrame, traces: pd.DataFrame, runs: set[str]) -> pd.Series:
    """For each feature row, the largest share of `runs` having its feature among the peer groups its
    trace belongs to (groups with fewer than `MIN_PEERS` of `runs` are skipped; all of `runs` always count)."""
    best = pd.Series(0.0, index=features.index)
    for keys in _level_keys(traces).values():
        per_key, overall = shares(features, keys, runs)
        best = np.maximum(best, features.feature.map(overall).fillna(0.0))  # all of `runs`
        if per_key.empty:
            continue
        keyed = pd.MultiIndex.from_arrays([_case_of(keys, features.run_id), features.feature])
        best = np.maximum(best, pd.Series(per_key.reindex(keyed).to_numpy(), index=features.index).fillna(0.0))
    return best


def odd_runs(features: pd.DataFrame, traces: pd.DataFrame) -> set[str]:
    """Traces with a rare feature (fewer than `RARE_SHARE` of every peer group of theirs have it). Words of
    free text are left out: nearly every message has a rare word (a name, a number spelled out)."""
    features = features[~features.feature.str.contains(WORD_MARK, regex=False)]
    share = peer_share(features, traces, set(traces.run_id))
    return set(features.run_id[share.to_numpy() < RARE_SHARE])


PeerShares = list[tuple[pd.Series, pd.Series, pd.Series]]
"""Per level of `LEVELS`: (run_id -> peer key, per-key shares, overall shares) of some runs (`shares`)."""


def peer_shares(features: pd.DataFrame, traces: pd.DataFrame, runs: set[str]) -> PeerShares:
    """`shares` of `runs` at every level of `LEVELS`: what `contrast` compares a group with, computed once
    when several groupings are contrasted with the same passing peers."""
    return [(keys, *shares(features, keys, runs)) for keys in _level_keys(traces).values()]


def contrast(
    features: pd.DataFrame,
    traces: pd.DataFrame,
    groups: pd.Series,
    passing: set[str],
    peers: PeerShares | None = None,
) -> pd.Series:
    """For each feature row of a grouped trace, its group's contrast (see the module docstring).

    The share expected of the group is, over the levels of `LEVELS`, the largest mix-weighted share of
    passing peers having the feature. `groups` maps run_id to a group id (a pattern); rows of runs outside
    every group get 0. `peers`: `peer_shares(features, traces, passing)`, when the caller already has it."""
    group = features.run_id.map(groups)
    grouped = features[group.notna()].assign(group=group[group.notna()].to_numpy())
    if grouped.empty:
        return pd.Series(0.0, index=features.index)
    members = grouped[["group", "run_id"]].drop_duplicates()
    size = members.groupby("group").run_id.nunique()
    inside = grouped.drop_duplicates(["group", "run_id", "feature"]).groupby(["group", "feature"]).run_id.nunique()
    inside = inside / size.reindex(inside.index.get_level_values(0)).to_numpy()
    pairs = inside.reset_index()[["group", "feature"]]
    expected = pd.Series(0.0, index=pd.MultiIndex.from_frame(pairs))
    for keys, per_key, overall in peers if peers is not None else peer_shares(features, traces, passing):
        if overall.empty:
            continue
        mix = members.assign(key=_case_of(keys, members.run_id).to_numpy())
        mix = mix.groupby(["group", "key"]).size().rename("w").reset_index()
        mix["w"] = mix.w / mix.groupby("group").w.transform("sum")
        rows = pairs.merge(mix, on="group")
        known = rows.key.isin(per_key.index.get_level_values(0)) if len(per_key) else np.zeros(len(rows), bool)
        at_key = pd.Series(per_key.reindex(pd.MultiIndex.from_frame(rows[["key", "feature"]])).to_numpy())
        rows["share"] = at_key.fillna(0.0).where(known, rows.feature.map(overall).fillna(0.0).to_numpy()).to_numpy()
        level = (rows.w * rows.share).groupby([rows.group, rows.feature]).sum()
        expected = np.maximum(expected, level.reindex(expected.index).fillna(0.0))
    value = (inside - expected.reindex(inside.index).fillna(0.0)).clip(0.0, 1.0)
    keyed = pd.MultiIndex.from_arrays([group, features.feature])
    return pd.Series(value.reindex(keyed).to_numpy(), index=features.index).fillna(0.0)


def association(features: pd.DataFrame, traces: pd.DataFrame, failing: set[str], passing: set[str]) -> pd.DataFrame:
    """Per (case type, feature): how strongly having the feature goes with failing, as a smoothed log
    odds ratio between failing and passing traces of that case type (all traces when a case type has
    fewer than `MIN_PEERS` of either), and how many failing traces have it (`support`).

    Returns a frame aligned with `features`: columns `log_odds` and `support`."""
    keys = peer_keys(traces, failing, passing)
    key = _case_of(keys, features.run_id)
    sized = pd.DataFrame({"key": keys.to_numpy(), "fail": keys.index.isin(failing), "ok": keys.index.isin(passing)})
    per_case = sized.groupby("key")[["fail", "ok"]].sum()
    pooled = per_case.index == "*"
    rows = pd.DataFrame({"key": key.to_numpy(), "run_id": features.run_id.to_numpy(), "feature": features.feature})
    rows = rows.drop_duplicates(["key", "run_id", "feature"])
    rows["fail"] = rows.run_id.isin(failing)
    rows["ok"] = rows.run_id.isin(passing)
    counts = rows.groupby(["key", "feature"])[["fail", "ok"]].sum()
    totals = per_case.copy()
    if not pooled.any():
        totals.loc["*"] = [0, 0]
    f = counts.fail.to_numpy(dtype=float)
    p = counts.ok.to_numpy(dtype=float)
    big_f = totals.fail.reindex(counts.index.get_level_values(0)).to_numpy(dtype=float)
    big_p = totals.ok.reindex(counts.index.get_level_values(0)).to_numpy(dtype=float)
    log_odds = np.log((f + 0.5) / (big_f - f + 0.5)) - np.log((p + 0.5) / (big_p - p + 0.5))
    table = pd.DataFrame({"log_odds": log_odds, "support": f.astype(int)}, index=counts.index)
    aligned = table.reindex(pd.MultiIndex.from_arrays([key, features.feature]))
    return pd.DataFrame(
        {"log_odds": aligned.log_odds.to_numpy(), "support": aligned.support.fillna(0).to_numpy(dtype=int)},
        index=features.index,
    )


def request_features(traces: pd.DataFrame) -> pd.DataFrame:
    """One row per (trace, feature of its request): run_id, seq -1, event_id `<run_id>::input`, feature
    `input|<leaf>` (see `shapes`; the words of a free-text request). The request is the run's input as the
    bundle keeps it (`run.config.notes`: an order's notes, an imported trace's first user message)."""
    rows = [
        (run_id, f"input|{leaf}")
        for run_id, request in zip(traces.run_id, traces.get("request", pd.Series("", index=traces.index)), strict=True)
        if isinstance(request, str) and request.strip()
        for leaf in content_features(request)
    ]
    out = pd.DataFrame(rows, columns=["run_id", "feature"]).drop_duplicates()
    return out.assign(seq=-1, event_id=out.run_id + "::input")[["run_id", "seq", "event_id", "feature"]]


def input_novelty(traces: pd.DataFrame, failing: set[str], passing: set[str]) -> pd.Series:
    """Per failing trace (run_id -> [0, 1]): how unlike passing peers' requests its request is. A feature of
    its request counts when at least `MIN_SUPPORT` failing traces' requests have it and fewer than
    `RARE_SHARE` of passing peers' do (in every peer group of the trace); its novelty is
    1 - passing share / `RARE_SHARE`. The trace's novelty is its largest; 0 with no such feature."""
    asked = request_features(traces)
    if asked.empty or not failing:
        return pd.Series(0.0, index=sorted(failing))
    support = asked[asked.run_id.isin(failing)].groupby("feature").run_id.nunique()
    share = peer_share(asked, traces, passing) if passing else pd.Series(0.0, index=asked.index)
    novel = (1.0 - share / RARE_SHARE).clip(0.0, 1.0).where(asked.feature.map(support).fillna(0) >= MIN_SUPPORT, 0.0)
    mine = asked.run_id.isin(failing)
    return novel[mine].groupby(asked.run_id[mine]).max().reindex(sorted(failing)).fillna(0.0)
