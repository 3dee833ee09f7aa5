from __future__ import annotations

import pandas as pd
import pytest

from evswarm.macro.lift import lift_table
from evswarm.macro.versions import compare_versions, prevalence_by_version


def _traces(n_a: int, n_b: int, version: list[str] | None = None) -> pd.DataFrame:
    n = n_a + n_b
    return pd.DataFrame(
        {
            "run_id": [f"r{i}" for i in range(n)],
            "case_type": ["A"] * n_a + ["B"] * n_b,
            "run_outcome": ["blocked"] * n,
            "agent_version_set": version or ["v1"] * n,
            "orchestrator_mode": ["canonical"] * n,
            "market_regime": ["calm"] * n,
            "price_regime": ["calm"] * n,
            "schedule_regime": ["calm"] * n,
        }
    )


def test_lift_is_slice_share_over_overall_share() -> None:
    traces = _traces(10, 10)
    # pattern 1: 8 of the 10 A traces, 2 of the 10 B traces; pattern 2: the rest
    cluster = [1] * 8 + [2] * 2 + [1] * 2 + [2] * 8
    assign = pd.DataFrame({"run_id": traces.run_id, "cluster_id": cluster})
    table = lift_table(assign, traces, {1: "one", 2: "two"}, alpha=0.05, min_support=5)
    row = table[(table.pattern_id == 1) & (table.value == "A")].iloc[0]
    assert row.slice_share == pytest.approx(0.8)
    assert row.overall_share == pytest.approx(0.5)
    assert row.lift == pytest.approx(1.6)
    assert row.p_value == pytest.approx(0.023, abs=1e-3)  # Fisher on [[8,2],[2,8]]
    assert bool(row.leads)  # four tests, all p=0.023 -> q=0.023 < 0.05
    low = table[(table.pattern_id == 1) & (table.value == "B")].iloc[0]
    assert low.lift == pytest.approx(0.4)
    assert not bool(low.leads)  # under-representation never leads


def test_lift_needs_support() -> None:
    traces = _traces(4, 4)
    assign = pd.DataFrame({"run_id": traces.run_id, "cluster_id": [1] * 4 + [2] * 4})
    table = lift_table(assign, traces, {}, alpha=0.05, min_support=5)
    assert not table.leads.any()  # perfect separation but only 4 traces per cell


def test_version_prevalence_intervals_and_appearance() -> None:
    versions = ["v1"] * 50 + ["v2"] * 50
    traces = _traces(50, 50, versions)
    # pattern 1 only under v2 (20 of 50 runs); pattern 2 in both (5 each); other traces unassigned
    ids = list(range(100))
    cluster = {i: 1 for i in ids[50:70]} | {i: 2 for i in ids[0:5]} | {i: 2 for i in ids[70:75]}
    assign = pd.DataFrame({"run_id": [f"r{i}" for i in cluster], "cluster_id": list(cluster.values())})
    prev = prevalence_by_version(assign, traces, {1: "new", 2: "steady"})
    p1 = prev[(prev.pattern_id == 1) & (prev.version_set == "v2")].iloc[0]
    assert p1.prevalence == pytest.approx(0.4)
    assert p1.runs == 50
    assert p1.ci_low == pytest.approx(0.2761, abs=1e-3) and p1.ci_high == pytest.approx(0.5384, abs=1e-3)
    comp = compare_versions(prev, alpha=0.05, min_support=5).set_index("pattern_id")
    assert comp.loc[1, "change"] == "appears"
    assert comp.loc[1, "baseline"] == "v1"
    assert comp.loc[1, "diff_ci_low"] > 0
    assert comp.loc[2, "change"] == "no clear change"
    assert comp.loc[2, "difference"] == pytest.approx(0.0)


def test_single_version_gives_no_comparison() -> None:
    traces = _traces(5, 5)
    assign = pd.DataFrame({"run_id": traces.run_id, "cluster_id": [1] * 10})
    assert compare_versions(prevalence_by_version(assign, traces, {}), 0.05, 5).empty
