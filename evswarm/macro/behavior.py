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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evswarm.macro import feature_codes as fc
from evswarm.macro.feature_codes import MIN_PEERS
from evswarm.macro.shapes import SEPARATOR, WORD_MARK
from evswarm.macro.shapes import features as content_features

ACTING_KINDS = frozenset({"generation", "response", "function", "handoff", "guardrail", "environment", "custom"})
"""Kinds of steps that act in a run (findings, status entries and reviews report on it)."""
FEATURE_KINDS = ACTING_KINDS | {"finding"}
HANDOFF_TOOL = "transfer_to_"
"""The Agents SDK's handoff tools are named `transfer_to_<agent>`."""
"""Kinds that get features: acting steps, and the findings a run's agents report about it."""
RARE_SHARE = 0.05
"""Without grades, a feature fewer than this share of a case type's traces have marks a trace as odd."""
MIN_SUPPORT = 2
"""Failing traces that must share a feature of their request before it counts as unusual (every request
has words of its own)."""


def step_features(events: pd.DataFrame) -> pd.DataFrame:
    """One row per (acting step, feature): run_id, seq, feature (run_id and feature categorical, categories
    sorted): every step's `agent|kind|tool` first, then every step's `...|after X`, then every step's content
    features (a feature a step would list twice is kept once, where it first appears).

    Features are built per distinct (agent, kind, tool, handed-over-by, shape) and spread to the steps by
    integer codes, so no per-row string is made and the event columns are read in place, never copied as
    text: the table, and the memory it takes to build it, stay small at any batch size."""
    needed = ["run_id", "seq", "node_kind", "agent_name", "tool_name", "source_agent", "shape"]
    frame = events[needed]
    if not _in_run_order(frame):
        frame = frame.sort_values(["run_id", "seq"], kind="stable")
    frame = frame.reset_index(drop=True)
    at = np.flatnonzero(frame.node_kind.isin(FEATURE_KINDS).to_numpy())
    before = _handed_over_by(frame)[at]
    agent, kind, shape = (_texts(frame[c])[at] for c in ("agent_name", "node_kind", "shape"))
    tool = _texts(frame.tool_name, missing="")[at]
    vocabulary: dict[str, int] = {}

    def code(feature: str) -> int:
        return vocabulary.setdefault(feature, len(vocabulary))

    base = _Distinct.of(agent, kind, tool)
    base_codes = np.array([code(f"{a}|{k}|{t}") for a, k, t in base.rows], dtype=np.int64)
    after = _Distinct.of(agent, kind, tool, before)
    after_codes = np.array([code(f"{a}|{k}|{t}|after {b}") for a, k, t, b in after.rows], dtype=np.int64)
    del agent, kind, tool, before
    # what a handoff carries is compared whoever it goes to (the target is its own feature, in the base)
    content = _Distinct.of(base.ids, shape)
    content_codes: list[list[int]] = []
    for base_id, text in content.rows:
        a, k, t = base.rows[base_id]
        prefix = f"{a}|handoff|" if t.startswith(HANDOFF_TOOL) else f"{a}|{k}|{t}"
        content_codes.append([code(f"{prefix}|{leaf}") for leaf in text.split(SEPARATOR)])
    # a step's features follow from its (after, content) pair, so duplicates are found once per pair
    pair = _Distinct.of(after.ids, content.ids)
    keep_after = np.zeros(len(pair.rows), dtype=bool)
    kept: list[list[int]] = []
    for p, (after_id, content_id) in enumerate(pair.rows):
        base_code = int(base_codes[base.ids[after.firsts[after_id]]])
        after_code = int(after_codes[after_id])
        keep_after[p] = after_code != base_code
        seen, own = {base_code, after_code}, []
        for c in content_codes[content_id]:
            if c not in seen:
                seen.add(c)
                own.append(c)
        kept.append(own)
    n_steps = len(at)
    steps = np.arange(n_steps, dtype=np.int32)
    with_after = steps[keep_after[pair.ids]]
    lengths = np.array([len(k) for k in kept], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    flat = np.array([c for codes in kept for c in codes], dtype=np.int64)
    content_step, within = fc.ragged(lengths[pair.ids], np.int32)
    content_feature = flat[offsets[pair.ids[content_step]] + within]
    del within
    row_step = np.concatenate([steps, with_after, content_step])
    row_feature = np.concatenate([base_codes[base.ids], after_codes[after.ids[with_after]], content_feature])
    del content_step, content_feature
    names = np.array(list(vocabulary), dtype=object)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    feature = pd.Categorical.from_codes(rank[row_feature], categories=pd.Index(names[order], dtype=object))
    run_codes, run_names = _run_codes(frame.run_id)
    rows = at[row_step]
    run = pd.Categorical.from_codes(run_codes[rows], categories=run_names).remove_unused_categories()
    return pd.DataFrame({"run_id": run, "seq": frame.seq.to_numpy()[rows], "feature": feature}, copy=False)


def _run_codes(runs: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Per row of a column sorted by run id: its run's code (int32), and the run ids by code (sorted)."""
    values = runs.to_numpy(dtype=object)
    if not len(values):
        return np.zeros(0, dtype=np.int32), pd.Index([], dtype=object)
    first = np.concatenate(([True], values[1:] != values[:-1]))
    codes = np.cumsum(first, dtype=np.int32)
    codes -= 1
    return codes, pd.Index(values[first], dtype=object)


def _in_run_order(frame: pd.DataFrame) -> bool:
    """Whether the events are sorted by run id, then seq (as the loader leaves them)."""
    runs = frame.run_id.to_numpy(dtype=object)
    seq = frame.seq.to_numpy()
    if len(runs) < 2:
        return True
    try:
        ascending = runs[1:] >= runs[:-1]
    except TypeError:  # a missing run id among strings: let the sort decide
        return False
    same = runs[1:] == runs[:-1]
    return bool(ascending.all() and (seq[1:][same] > seq[:-1][same]).all())


def _texts(column: pd.Series, missing: str = "nan") -> np.ndarray:
    """A column's values as an object array of strings, a missing value as `missing`, without copying the
    strings."""
    values = column.to_numpy(dtype=object)
    absent = pd.isna(values)
    if absent.any():
        values = values.copy()
        values[absent] = missing
    return values


@dataclass(frozen=True)
class _Distinct:
    """The distinct rows of some aligned columns: each row's id (ids by first appearance), the rows as
    tuples, and where each first appears."""

    ids: np.ndarray
    rows: list[tuple[Any, ...]]
    firsts: np.ndarray

    @classmethod
    def of(cls, *columns: np.ndarray) -> _Distinct:
        key = np.zeros(len(columns[0]), dtype=np.int64)
        for column in columns:
            codes, uniques = pd.factorize(column, use_na_sentinel=False)
            key, _ = pd.factorize(key * len(uniques) + codes)  # compact after each column: no overflow
        ids = key.astype(np.int32)
        new = np.concatenate([[True], ids[1:] > np.maximum.accumulate(ids)[:-1]]) if len(ids) else np.zeros(0, bool)
        firsts = np.flatnonzero(new)
        return cls(ids, list(zip(*(column[firsts] for column in columns), strict=True)), firsts)


def _handed_over_by(ordered: pd.DataFrame) -> np.ndarray:
    """Per event (sorted by run and seq): the agent that made the run's latest handoff strictly before it,
    or "start" when none has."""
    out = np.full(len(ordered), "start", dtype=object)
    if not len(ordered):
        return out
    source = ordered.source_agent.to_numpy(dtype=object)
    position = np.arange(len(ordered))
    handoff = (ordered.node_kind == "handoff").to_numpy() & pd.notna(source)
    previous = np.concatenate([[-1], np.maximum.accumulate(np.where(handoff, position, -1))[:-1]])
    runs = ordered.run_id.to_numpy()
    first_of_run = np.concatenate([[True], runs[1:] != runs[:-1]])
    run_start = np.maximum.accumulate(np.where(first_of_run, position, 0))
    found = previous >= run_start
    out[found] = source[previous[found]]
    return out


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


LEVELS = ("case_type+agent_version_set", "case_type", "agent_version_set")
"""Peer groups a trace belongs to, finest first; a step is usual if it is usual in any of them."""


def _levels(traces: pd.DataFrame) -> list[fc.Keys]:
    """Each trace's key per level of `LEVELS`, then `*` (every trace), by trace position."""
    case = traces.case_type.astype(str)
    version = (
        traces.agent_version_set.astype(str)
        if "agent_version_set" in traces.columns
        else pd.Series("?", index=traces.index)
    )
    columns = {"case_type+agent_version_set": case + "@" + version, "case_type": case, "agent_version_set": version}
    return [fc.keys_of(columns[name]) for name in LEVELS] + [fc.keys_of(pd.Series("*", index=traces.index))]


def peer_share(features: pd.DataFrame, traces: pd.DataFrame, runs: set[str]) -> pd.Series:
    """For each feature row, the largest share of `runs` having its feature among the peer groups its
    trace belongs to (groups with fewer than `MIN_PEERS` of `runs` are skipped; all of `runs` always count)."""
    coded = fc.code(features, traces)
    marked = coded.among(runs)
    best = np.zeros(len(features))
    for keys in _levels(traces):
        found = fc.shares(coded, keys, marked)
        if found is None:
            continue
        np.maximum(best, found.overall[coded.feature], out=best)  # all of `runs`
        if len(found.keyed):
            np.maximum(best, found.at(keys.of_rows(coded), coded.feature, coded.n_features), out=best)
    return pd.Series(best, index=features.index)


def structural(features: pd.DataFrame) -> pd.DataFrame:
    """The feature rows that are not words of free text (see `shapes.WORD_MARK`)."""
    words = features.feature.str.contains(WORD_MARK, regex=False).to_numpy(dtype=bool, na_value=False)
    return features[~words]


def odd_runs(features: pd.DataFrame, traces: pd.DataFrame) -> set[str]:
    """Traces with a rare feature (fewer than `RARE_SHARE` of every peer group of theirs have it), among
    `features` that are `structural`: words of free text are left out, as nearly every message has a rare
    word (a name, a number spelled out)."""
    share = peer_share(features, traces, set(traces.run_id))
    return set(features.run_id[share.to_numpy() < RARE_SHARE])


@dataclass(frozen=True)
class PeerShares:
    """`shares` of some runs at every level of `LEVELS` (None where they have no feature), over a coded
    feature table: what `contrast` compares a group with, computed once for several groupings."""

    coded: fc.Coded
    levels: list[fc.Shares | None]


def peer_shares(features: pd.DataFrame, traces: pd.DataFrame, runs: set[str]) -> PeerShares:
    """The shares of `runs` at every level, for `contrast` over this same `features` table."""
    coded = fc.code(features, traces)
    marked = coded.among(runs)
    return PeerShares(coded, [fc.shares(coded, keys, marked) for keys in _levels(traces)])


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
    peers = peers if peers is not None else peer_shares(features, traces, passing)
    coded, n = peers.coded, peers.coded.n_features
    group_of = pd.Series(coded.run_ids).map(groups)
    group_codes, _ = pd.factorize(group_of, sort=True)  # -1: outside every group; int64: keys below multiply
    row_group = np.where(coded.run >= 0, group_codes.astype(np.int32)[np.maximum(coded.run, 0)], np.int32(-1))
    grouped = row_group >= 0
    if not grouped.any():
        return pd.Series(0.0, index=features.index)
    run, feature = coded.pairs(grouped)
    members = fc.distinct(run)
    n_groups = int(group_codes.max()) + 1
    size = np.bincount(group_codes[members], minlength=n_groups)
    pair_keys, have = np.unique(group_codes[run] * n + feature, return_counts=True)
    pair_group, pair_feature = pair_keys // n, pair_keys % n
    inside = have / size[pair_group]
    expected = np.zeros(len(pair_keys))
    for found in peers.levels:
        if found is None:
            continue
        keys = found.keys
        # each group's mix of peer keys (by key name, as the sums run), weighted by its member runs
        mix_keys, mix_count = np.unique(
            group_codes[members] * len(keys.names) + keys.codes[members], return_counts=True
        )
        mix_group, mix_key = mix_keys // len(keys.names), mix_keys % len(keys.names)
        by_name = np.argsort(np.argsort(keys.names.to_numpy(dtype=object)))
        order = np.lexsort((by_name[mix_key], mix_group))
        mix_group, mix_key, mix_w = mix_group[order], mix_key[order], mix_count[order] / size[mix_group[order]]
        start = np.searchsorted(mix_group, np.arange(n_groups))
        count = np.bincount(mix_group, minlength=n_groups)
        per_pair = count[pair_group]
        row, within = fc.ragged(per_pair)
        entry = start[pair_group][row] + within
        key, f = mix_key[entry], pair_feature[row]
        share = np.where(found.known[key], found.at(key, f, n), found.overall[f])
        level = np.bincount(row, weights=mix_w[entry] * share, minlength=len(pair_keys))
        expected = np.maximum(expected, level)
    value = np.clip(inside - expected, 0.0, 1.0)
    rows = np.flatnonzero(grouped)
    wanted = row_group[rows].astype(np.int64)
    wanted *= n
    wanted += coded.feature[rows]
    of_row = np.zeros(len(features))
    of_row[rows] = fc.lookup(pair_keys, value, wanted)
    return pd.Series(of_row, index=features.index)


def association(features: pd.DataFrame, traces: pd.DataFrame, failing: set[str], passing: set[str]) -> pd.DataFrame:
    """Per (case type, feature): how strongly having the feature goes with failing, as a smoothed log
    odds ratio between failing and passing traces of that case type (all traces when a case type has
    fewer than `MIN_PEERS` of either), and how many failing traces have it (`support`).

    Returns a frame aligned with `features`: columns `log_odds` and `support`."""
    keys = fc.keys_of(peer_keys(traces, failing, passing).reset_index(drop=True))
    coded = fc.code(features, traces)
    n, k = max(coded.n_features, 1), len(keys.names)
    fail, ok = coded.among(failing), coded.among(passing)
    big_f = np.bincount(keys.codes[fail], minlength=k).astype(float)
    big_p = np.bincount(keys.codes[ok], minlength=k).astype(float)
    run, feature = coded.pairs()
    inside = run >= 0
    owner = np.maximum(run, 0)
    del run
    combo = np.where(inside, keys.codes[owner], keys.star())  # (peer key, feature) of each (run, feature)
    combo *= n
    combo += feature
    del feature
    table = fc.CountTable.of(combo, k * n)
    f = table.count(inside & fail[owner])
    p = table.count(inside & ok[owner])
    del combo, owner, inside
    combo_key = table.combos // n
    log_odds = np.log((f + 0.5) / (big_f[combo_key] - f + 0.5)) - np.log((p + 0.5) / (big_p[combo_key] - p + 0.5))
    del combo_key
    row = keys.of_rows(coded)
    row *= n
    row += coded.feature
    at = table.index_of(row)
    del row
    support = f[at].astype(int)
    return pd.DataFrame({"log_odds": log_odds[at], "support": support}, index=features.index, copy=False)


def request_features(traces: pd.DataFrame) -> pd.DataFrame:
    """One row per (trace, feature of its request): run_id, seq -1, feature
    `input|<leaf>` (see `shapes`; the words of a free-text request). The request is the run's input as the
    bundle keeps it (`run.config.notes`: an order's notes, an imported trace's first user message)."""
    rows = [
        (run_id, f"input|{leaf}")
        for run_id, request in zip(traces.run_id, traces.get("request", pd.Series("", index=traces.index)), strict=True)
        if isinstance(request, str) and request.strip()
        for leaf in content_features(request)
    ]
    out = pd.DataFrame(rows, columns=["run_id", "feature"]).drop_duplicates()
    return out.assign(seq=-1)[["run_id", "seq", "feature"]]


def input_novelty(traces: pd.DataFrame, failing: set[str], passing: set[str]) -> pd.Series:
    """Per failing trace (run_id -> [0, 1]): how unlike passing peers' requests its request is. A feature of
    its request counts when at least `MIN_SUPPORT` failing traces' requests have it and fewer than
    `RARE_SHARE` of passing peers' do (in every peer group of the trace); its novelty is
    1 - passing share / `RARE_SHARE`. The trace's novelty is its largest; 0 with no such feature, and 0
    for every trace when there are no passing peers (no request is unusual without requests to compare)."""
    asked = request_features(traces)
    if asked.empty or not failing or not passing:
        return pd.Series(0.0, index=sorted(failing))
    support = asked[asked.run_id.isin(failing)].groupby("feature").run_id.nunique()
    share = peer_share(asked, traces, passing)
    novel = (1.0 - share / RARE_SHARE).clip(0.0, 1.0).where(asked.feature.map(support).fillna(0) >= MIN_SUPPORT, 0.0)
    mine = asked.run_id.isin(failing)
    return novel[mine].groupby(asked.run_id[mine]).max().reindex(sorted(failing)).fillna(0.0)
