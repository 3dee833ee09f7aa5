"""The per-run cause search's group testing, against runs whose causes a toy oracle decides: it finds a
single cause, both halves of a cause that needs two changes, nothing when even the whole set leaves the
run failing, and never re-runs a set it already tested."""

from __future__ import annotations

from evswarm.counterfactual.search import Candidate, search_runs
from evswarm.world.intervention import Intervention

NAMES = [f"agent:A{i}" for i in range(11)] + ["tool:t1", "tool:t2", "environment:environment", "input:input"]


def _items() -> list[Candidate]:
    return [(name, Intervention(kind="tool", target=name.split(":")[1])) for name in NAMES]


class Oracle:
    """A run flips when every component of one of its `needs` sets is changed."""

    def __init__(self, needs: dict[str, list[set[str]]]) -> None:
        self.needs = needs
        self.asked: list[tuple[int, str, frozenset[str]]] = []

    def __call__(self, round_no: int, tests: dict[str, Intervention]) -> dict[str, tuple[bool, str]]:
        out = {}
        for run_id, change in tests.items():
            changed = {n for n in NAMES if n.split(":")[1] in {leaf.target for leaf in change.leaves}}
            self.asked.append((round_no, run_id, frozenset(changed)))
            out[run_id] = (any(need <= changed for need in self.needs[run_id]), f"search-{round_no}")
        return out


def test_single_causes_and_a_joint_cause_are_found_together() -> None:
    oracle = Oracle({"one": [{"agent:A7"}], "two": [{"agent:A1", "tool:t2"}], "env": [{"environment:environment"}]})
    found = search_runs({r: _items() for r in oracle.needs}, oracle)
    assert found["one"].components == ["agent:A7"]
    assert sorted(found["two"].components) == ["agent:A1", "tool:t2"]
    assert found["env"].components == ["environment:environment"]
    for result in found.values():
        assert result.intervention is not None and result.counterfactual_dir.startswith("search-")
    assert found["one"].reruns <= 1 + 2 * 4  # about 1 + 2 log2(15)
    rounds = {r for r, _, _ in oracle.asked}
    assert rounds == set(range(1, max(rounds) + 1))  # every run searched in the same rounds
    for run_id in oracle.needs:
        asked = [s for _, r, s in oracle.asked if r == run_id]
        assert len(asked) == len(set(asked)) == found[run_id].reruns  # no set re-run twice


def test_a_run_the_whole_set_does_not_flip_costs_one_rerun_and_stays_unexplained() -> None:
    oracle = Oracle({"stuck": []})
    found = search_runs({"stuck": _items()}, oracle)
    assert found["stuck"].components == [] and found["stuck"].intervention is None
    assert found["stuck"].reruns == 1 and found["stuck"].counterfactual_dir == ""


def test_the_found_intervention_changes_exactly_the_found_components() -> None:
    oracle = Oracle({"two": [{"agent:A3", "input:input"}]})
    change = search_runs({"two": _items()}, oracle)["two"].intervention
    assert change is not None and change.kind == "combined"
    assert sorted(leaf.target for leaf in change.leaves) == ["A3", "input"]
