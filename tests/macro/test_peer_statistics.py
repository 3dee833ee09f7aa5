"""The peer statistics of `behavior` (computed on integer codes, see `feature_codes`) against their
definitions, computed here the slow way with plain dicts on random feature tables: peer share, contrast
of groups with passing peers, and the log odds of association with failing."""

from __future__ import annotations

import math
import random
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from evswarm.macro import behavior
from evswarm.macro.feature_codes import MIN_PEERS

LEVELS = ("both", "case", "version", "*")


def _table(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random traces (case type, version set) and feature rows; features shared unevenly."""
    rng = random.Random(seed)
    traces = pd.DataFrame(
        {
            "run_id": [f"r{i:03d}" for i in range(90)],
            "case_type": [rng.choice(["a", "a", "b", "c"]) for _ in range(90)],
            "agent_version_set": [rng.choice(["v1", "v2"]) for _ in range(90)],
        }
    )
    rows = []
    for run_id in traces.run_id:
        for step in range(rng.randint(0, 6)):
            rows.append((run_id, step, f"{run_id}:{step}", f"f{min(rng.randint(0, 9), rng.randint(0, 9))}"))
            if rng.random() < 0.3:
                rows.append((run_id, step, f"{run_id}:{step}", "f0"))  # some repeat a feature within a run
    features = pd.DataFrame(rows, columns=["run_id", "seq", "event_id", "feature"])
    return traces, features.assign(feature=features.feature.astype("category"))


def _keys(traces: pd.DataFrame) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {level: {} for level in LEVELS}
    for row in traces.itertuples():
        out["both"][row.run_id] = f"{row.case_type}@{row.agent_version_set}"
        out["case"][row.run_id] = row.case_type
        out["version"][row.run_id] = row.agent_version_set
        out["*"][row.run_id] = "*"
    return out


def _has(features: pd.DataFrame) -> dict[str, set[str]]:
    has: dict[str, set[str]] = defaultdict(set)
    for run_id, feature in zip(features.run_id, features.feature.astype(str), strict=True):
        has[run_id].add(feature)
    return has


def _share(has: dict[str, set[str]], runs: set[str], feature: str) -> float:
    return sum(feature in has[r] for r in runs) / len(runs) if runs else 0.0


def _level_shares(traces: pd.DataFrame, has: dict[str, set[str]], runs: set[str], level: str, key: str, f: str):
    """(keyed share or None when the key has fewer than MIN_PEERS of runs, overall share)."""
    keys = _keys(traces)[level]
    mine = {r for r in runs if keys[r] == key}
    keyed = _share(has, mine, f) if len(mine) >= MIN_PEERS else None
    return keyed, _share(has, runs, f)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_peer_share_is_the_best_share_over_peer_groups(seed: int) -> None:
    traces, features = _table(seed)
    runs = set(traces.run_id[::2])
    has, keys = _has(features), _keys(traces)
    got = behavior.peer_share(features, traces, runs).to_numpy()
    for i, (run_id, feature) in enumerate(zip(features.run_id, features.feature.astype(str), strict=True)):
        want = 0.0
        for level in LEVELS:
            keyed, overall = _level_shares(traces, has, runs, level, keys[level][run_id], feature)
            want = max(want, overall, keyed or 0.0)
        assert got[i] == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("seed", [4, 5])
def test_contrast_is_the_group_share_minus_the_best_mix_weighted_peer_share(seed: int) -> None:
    traces, features = _table(seed)
    passing = set(traces.run_id[traces.index % 3 == 0])
    groups = pd.Series({r: (1 if i % 3 == 1 else 2) for i, r in enumerate(traces.run_id) if i % 3}, dtype="int64")
    has, keys = _has(features), _keys(traces)
    got = behavior.contrast(features, traces, groups, passing).to_numpy()
    members = {g: {r for r in groups.index[groups == g] if has[r]} for g in (1, 2)}
    for i, (run_id, feature) in enumerate(zip(features.run_id, features.feature.astype(str), strict=True)):
        if run_id not in groups.index:
            assert got[i] == 0.0
            continue
        mine = members[int(groups[run_id])]
        expected = 0.0
        for level in LEVELS:
            mix: dict[str, int] = defaultdict(int)
            for r in mine:
                mix[keys[level][r]] += 1
            level_share = 0.0
            for key, count in mix.items():
                keyed, overall = _level_shares(traces, has, passing, level, key, feature)
                level_share += count / len(mine) * (keyed if keyed is not None else overall)
            expected = max(expected, level_share)
        want = min(max(_share(has, mine, feature) - expected, 0.0), 1.0)
        assert got[i] == pytest.approx(want, abs=1e-12)


def test_association_is_the_smoothed_log_odds_within_the_peer_key() -> None:
    traces, features = _table(6)
    failing = set(traces.run_id[traces.index % 4 == 0])
    passing = set(traces.run_id) - failing
    has = _has(features)
    key_of = behavior.peer_keys(traces, failing, passing).to_dict()
    got = behavior.association(features, traces, failing, passing)
    for i, (run_id, feature) in enumerate(zip(features.run_id, features.feature.astype(str), strict=True)):
        peers = {r for r in traces.run_id if key_of[r] == key_of[run_id]}
        big_f, big_p = len(peers & failing), len(peers & passing)
        f = sum(feature in has[r] for r in peers & failing)
        p = sum(feature in has[r] for r in peers & passing)
        want = math.log((f + 0.5) / (big_f - f + 0.5)) - math.log((p + 0.5) / (big_p - p + 0.5))
        assert got.log_odds.iloc[i] == pytest.approx(want, abs=1e-12)
        assert got.support.iloc[i] == f


STEPS = [(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1)]


def test_step_features_spread_one_rendering_per_distinct_step_to_every_step() -> None:
    events = pd.DataFrame(
        {
            "run_id": ["r1"] * 4 + ["r2"] * 2,
            "seq": [0, 1, 2, 3, 0, 1],
            "event_id": ["a", "b", "c", "d", "e", "f"],
            "node_kind": ["generation", "handoff", "function", "status", "function", "function"],
            "agent_name": ["Hub", "Hub", "Worker", "Hub", "Worker", "Worker"],
            "tool_name": ["transfer_to_worker", None, "lookup", None, "lookup", "lookup"],
            "source_agent": [None, "Hub", None, None, None, None],
            "shape": ["handoff x=1", "to Worker", "ok=true ; n=#", "done", "ok=true ; n=#", "ok=false"],
        }
    )
    features = behavior.step_features(events)
    steps = features.groupby(["run_id", "seq"]).feature.apply(lambda s: sorted(map(str, s))).to_dict()
    by_step = {"abcdef"[i]: steps.get(key) for i, key in enumerate([(f"r{r}", q) for r, q in STEPS])}
    assert by_step["c"] == [
        "Worker|function|lookup",
        "Worker|function|lookup|after Hub",  # the handoff before it
        "Worker|function|lookup|n=#",
        "Worker|function|lookup|ok=true",
    ]
    assert by_step["a"] == ["Hub|generation|transfer_to_worker", "Hub|generation|transfer_to_worker|after start",
                            "Hub|handoff||handoff x=1"]  # fmt: skip
    assert by_step["e"] == ["Worker|function|lookup", "Worker|function|lookup|after start",
                            "Worker|function|lookup|n=#", "Worker|function|lookup|ok=true"]  # fmt: skip
    assert by_step["d"] is None  # a status entry does not act
    assert list(features.feature.cat.categories) == sorted(features.feature.cat.categories)
    assert np.array_equal(features.seq.to_numpy(), features.seq.to_numpy().astype(int))


def test_step_features_do_not_depend_on_the_event_order_and_list_a_repeated_leaf_once() -> None:
    rng = np.random.default_rng(5)
    runs = [f"r{i}" for i in range(30)]
    rows = []
    for run in runs:
        for seq in range(6):
            kind = ["generation", "handoff", "function", "status"][int(rng.integers(0, 4))]
            shape = " ; ".join(f"k{int(rng.integers(0, 3))}=v" for _ in range(int(rng.integers(1, 4))))
            rows.append((run, seq, kind, f"A{int(rng.integers(0, 3))}", None if kind == "handoff" else "t",
                         f"A{int(rng.integers(0, 3))}" if kind == "handoff" else None, shape))  # fmt: skip
    columns = ["run_id", "seq", "node_kind", "agent_name", "tool_name", "source_agent", "shape"]
    ordered = pd.DataFrame(rows, columns=columns)
    shuffled = ordered.sample(frac=1.0, random_state=3)
    a, b = behavior.step_features(ordered), behavior.step_features(shuffled)
    assert a.run_id.tolist() == b.run_id.tolist() and a.seq.tolist() == b.seq.tolist()
    assert a.feature.astype(str).tolist() == b.feature.astype(str).tolist()
    assert not a.duplicated(["run_id", "seq", "feature"]).any()
    # every leaf of every acting step is there once, beside its base and `after` features
    acting = ordered[ordered.node_kind != "status"]
    expected = sum(2 + len(set(shape.split(" ; "))) for shape in acting["shape"])
    assert len(a) == expected


def test_a_trace_without_a_case_type_is_compared_with_every_trace() -> None:
    traces, features = _table(7)
    traces.loc[0, "case_type"] = None
    passing = set(traces.run_id[traces.index % 3 == 0])
    groups = pd.Series({r: 1 for r in traces.run_id[1::3]}, dtype="int64")
    value = behavior.contrast(features, traces, groups, passing)
    share = behavior.peer_share(features, traces, passing)
    assert np.isfinite(value).all() and np.isfinite(share).all()
