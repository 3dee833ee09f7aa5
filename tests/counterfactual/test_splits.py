"""A verdict per split, on evidence laid out by hand (the re-runs themselves are exercised in
test_verify.py and test_search_verify.py): a pattern with two causes gets a confirmed row per cause; a
split whose change also removes the other runs' symptoms says so; a run whose control did not keep its
failure does not count; the check re-runs only what no twin answers, packed one run per directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evswarm.core.analysis import read_table, write_table
from evswarm.core.causes import CauseRow, CounterfactualRunRow, RunCauseRow
from evswarm.core.errors import EvswarmError
from evswarm.counterfactual.splits import (
    Seen,
    checks_needed,
    control_reproduced,
    seen_twins,
    split_verdicts,
    splits_of,
)
from evswarm.world.intervention import Intervention

PRICING = Intervention(kind="agent", target="PricingAgent", reference="v1.0")
SUPPLY = Intervention(kind="agent", target="SupplyAllocationAgent", reference="v1.0")
BOTH = Intervention.together([PRICING, Intervention(kind="environment", target="environment")])


def _cause(run_id: str, change: Intervention, found_by: str = "pattern") -> RunCauseRow:
    return RunCauseRow(
        run_id=run_id, pattern_id=3, found_by=found_by, intervention=change.slug, components=[], description="",
        reruns=0, counterfactual_dir=f"counterfactual/{change.slug}", symptoms_before=["price_mismatch"],
        symptoms_after=[],
    )  # fmt: skip


def _twin(run_id: str, change: str, flipped: bool, kept: bool = True) -> CounterfactualRunRow:
    return CounterfactualRunRow(
        run_id=run_id, pattern_id=3, intervention=change, flipped=flipped, symptoms_before=["price_mismatch"],
        symptoms_after=["price_mismatch"] if kept else [], identical=kept,
        counterfactual_dir=f"counterfactual/{change}",
    )  # fmt: skip


class Checker:
    """Answers check re-runs from a table of which change flips which run, and records what it was asked."""

    def __init__(self, flips: set[tuple[str, str]]) -> None:
        self.flips = flips
        self.asked: list[tuple[int, str, str]] = []

    def __call__(self, number: int, tests: dict[str, Intervention]) -> dict[str, tuple[bool, str]]:
        self.asked += [(number, r, c.slug) for r, c in tests.items()]
        return {r: ((r, c.slug) in self.flips, f"counterfactual/split-{number}") for r, c in tests.items()}


def _two_causes() -> tuple[list[RunCauseRow], dict[str, Intervention], list[CounterfactualRunRow]]:
    """P3: five runs PricingAgent's revert flips, four SupplyAllocationAgent's does (both suspects were
    re-run on all nine, each flipping only its own), one run nothing explains."""
    pricing, supply = [f"p{i}" for i in range(5)], [f"s{i}" for i in range(4)]
    rows = [_cause(r, PRICING) for r in pricing] + [_cause(r, SUPPLY) for r in supply]
    rows.append(_cause("x", PRICING, "none").model_copy(update={"intervention": "", "counterfactual_dir": ""}))
    changes = {r: PRICING for r in pricing} | {r: SUPPLY for r in supply}
    everyone = [*pricing, *supply, "x"]
    twins = [_twin(r, "control", False) for r in everyone]
    twins += [_twin(r, PRICING.slug, r in pricing, r not in pricing) for r in everyone]
    twins += [_twin(r, SUPPLY.slug, r in supply, r not in supply) for r in everyone]
    return rows, changes, twins


def test_a_two_cause_pattern_gets_a_confirmed_row_per_cause_at_no_extra_rerun() -> None:
    rows, changes, twins = _two_causes()
    splits = splits_of({3: "price and stock"}, rows, changes)
    check = Checker(set())
    found = split_verdicts(splits, seen_twins(twins, {}), control_reproduced(twins), check)
    assert [(c.intervention, c.scope, c.flipped, c.runs, c.verdict) for c in found] == [
        (PRICING.slug, "split", 5, 5, "confirmed"),
        (SUPPLY.slug, "split", 4, 4, "confirmed"),
    ]
    pricing, supply = found
    assert pricing.explains == [f"p{i}" for i in range(5)] and pricing.components == ["agent:PricingAgent"]
    assert (pricing.others, pricing.also_flips, supply.others, supply.also_flips) == (5, [], 6, [])
    assert pricing.ci_low >= 0.5 and pricing.counterfactual_dir == f"counterfactual/{PRICING.slug}"
    assert check.asked == [] and pricing.check_reruns == supply.check_reruns == 0


def test_a_run_whose_control_lost_its_failure_does_not_count() -> None:
    rows, changes, twins = _two_causes()
    twins = [_twin("p0", "control", True, kept=False) if (t.run_id, t.intervention) == ("p0", "control") else t
             for t in twins]  # fmt: skip
    found = split_verdicts(splits_of({3: "p"}, rows, changes), seen_twins(twins, {}), control_reproduced(twins),
                           Checker(set()))  # fmt: skip
    assert (found[0].flipped, found[0].runs, found[0].verdict) == (4, 5, "partial")


def test_a_split_whose_change_also_flips_the_other_runs_says_so_and_the_check_reruns_only_what_is_missing() -> None:
    """A combined change the search found for two runs also removes the symptoms of three runs PricingAgent's
    revert explains (it includes that revert); the check re-runs the combined change on the pattern's seven
    other failing runs except the one the search already tried it on."""
    rows, changes, twins = _two_causes()
    rows += [_cause(r, BOTH, "search").model_copy(update={"counterfactual_dir": f"counterfactual/search-{i}"})
             for i, r in enumerate(["b0", "b1"], start=3)]  # fmt: skip
    twins += [_twin(r, "control", False) for r in ("b0", "b1")]
    changes |= {"b0": BOTH, "b1": BOTH}
    searched: Seen = {("b0", BOTH.slug): (True, "counterfactual/search-3"), ("b1", BOTH.slug): (True, "s-4"),
                      ("s0", BOTH.slug): (False, "counterfactual/search-2")}  # fmt: skip
    seen = seen_twins(twins, searched)
    splits = splits_of({3: "p"}, rows, changes)
    assert [s.change.slug for s in splits] == [PRICING.slug, SUPPLY.slug, BOTH.slug]
    # PricingAgent's and SupplyAllocationAgent's revert were never re-run on b0, b1: checked too
    check = Checker({("p0", BOTH.slug), ("p1", BOTH.slug), ("p2", BOTH.slug)})
    found = {c.intervention: c for c in split_verdicts(splits, seen, control_reproduced(twins), check, "all")}
    both = found[BOTH.slug]
    assert (both.flipped, both.runs, both.verdict, both.counterfactual_dir) == (2, 2, "partial", "")
    assert both.others == 10 and both.also_flips == ["p0", "p1", "p2"] and both.others_untested == 0
    assert both.check_reruns == 9  # the ten others but s0, which the search had tried
    assert found[PRICING.slug].check_reruns == found[SUPPLY.slug].check_reruns == 2  # b0 and b1
    assert sorted(both.components) == ["agent:PricingAgent", "environment:environment"]
    by_dir: dict[int, list[str]] = {}
    for number, run_id, _ in check.asked:
        by_dir.setdefault(number, []).append(run_id)
    assert all(len(runs) == len(set(runs)) for runs in by_dir.values())  # a directory holds a run once
    assert len(check.asked) == 2 + 2 + 9
    assert checks_needed(splits, seen) == []  # every pair answered: a second pass re-runs nothing


def test_by_default_only_confirmed_splits_rerun_their_check_and_reuse_reruns_nothing() -> None:
    """The combined change explains two runs: `partial`, so by default its change is tried only where a
    twin already has it (s0, from the search); the confirmed splits' changes are re-run on b0 and b1."""
    rows, changes, twins = _two_causes()
    rows += [_cause(r, BOTH, "search") for r in ("b0", "b1")]
    twins += [_twin(r, "control", False) for r in ("b0", "b1")]
    changes |= {"b0": BOTH, "b1": BOTH}
    searched: Seen = {(r, BOTH.slug): (True, "s") for r in ("b0", "b1")} | {("s0", BOTH.slug): (False, "s")}
    splits = splits_of({3: "p"}, rows, changes)
    for which, asked in (("confirmed", 4), ("reuse", 0)):
        check = Checker(set())
        found = {c.intervention: c for c in split_verdicts(splits, seen_twins(twins, searched),
                                                           control_reproduced(twins), check, which)}  # fmt: skip
        assert len(check.asked) == asked
        both, pricing = found[BOTH.slug], found[PRICING.slug]
        assert (both.verdict, both.others, both.others_untested, both.check_reruns) == ("partial", 1, 9, 0)
        assert (pricing.verdict, pricing.check_reruns) == ("confirmed", 2 if which == "confirmed" else 0)
        assert pricing.others + pricing.others_untested == 7
    with pytest.raises(ValueError, match="split check 'some'"):
        split_verdicts(splits, {}, set(), Checker(set()), "some")


def test_a_causes_table_without_the_split_fields_still_reads_and_a_bad_scope_is_named(tmp_path: Path) -> None:
    old = {
        "pattern_id": 1, "pattern": "p", "intervention": "control", "kind": "control", "target": "",
        "description": "no intervention", "runs": 2, "flipped": 0, "flip_rate": 0.0, "ci_low": 0.0, "ci_high": 0.66,
        "verdict": "reproduced", "explains": [], "counterfactual_dir": "counterfactual/control",
    }  # fmt: skip
    (tmp_path / "causes.json").write_text(json.dumps([old]))
    (row,) = read_table(tmp_path, CauseRow)
    assert (row.scope, row.others, row.also_flips, row.check_reruns, row.components) == ("pattern", 0, [], 0, [])
    assert row.others_untested == 0
    write_table(tmp_path, CauseRow, [row.model_copy(update={"scope": "split"})])
    assert read_table(tmp_path, CauseRow)[0].scope == "split"
    (tmp_path / "causes.json").write_text(json.dumps([{**old, "scope": "whole"}]))
    with pytest.raises(EvswarmError, match=r"causes.json: row 1: field `scope`"):
        read_table(tmp_path, CauseRow)
