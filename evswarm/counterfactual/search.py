"""The per-run cause search: for a failing run that none of its pattern's suspects explains, find the
minimal set of its components whose change makes its failing symptoms go away, by group testing
(minimal: no component of it can be left unchanged; not necessarily the smallest such set, nor all
of the run's causes: a run whose symptoms go away when one of its two faults is reverted gets that one).

The candidates are what the run's own trace shows: every agent that acted in it, every tool it called,
its environment and its input, each with the intervention `plan.interventions_for` makes for such a
component. The search first changes all of them at once. When even that leaves a symptom, the run is
not explained by anything an intervention can change (say, a grader's mistake) and the search stops
after one re-run. Otherwise it halves the set until one component is left, and when neither half alone
flips the run, it keeps one half changed while it narrows the other (the usual binary search for every
necessary element), so a run that needs two changes gets both. A run with one cause among n candidates
costs about 1 + 2 log2(n) re-runs; a set already tested for the run is never re-run.

All runs search at once, in rounds: each round re-runs one set per run, in one batch directory
(`counterfactual/search-<round>/`, graded once), so the worker pool and the grader start once a round.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path

from evswarm.core.bundle import Bundle
from evswarm.core.causes import TWINS_DIR
from evswarm.world.intervention import Intervention

Candidate = tuple[str, Intervention]
"""A component as `side:name`, and the intervention that changes it."""
Search = Generator[list[Candidate], bool, list[Candidate]]
"""A search: yields a set to test, receives whether changing it flipped the run, returns the set found."""

Tester = Callable[[int, dict[str, Intervention]], dict[str, tuple[bool, str]]]
"""Re-runs round `k`'s tests (run id -> intervention) and says, per run, whether it flipped and where its
twin is (relative to the analysis directory)."""


def component(change: Intervention) -> str:
    """The component a single intervention changes, as `side:name` (an agent's revert and resample both
    change the agent)."""
    side = "agent" if change.kind in ("agent", "resample") else change.kind
    return f"{side}:{change.target}"


def candidates(bundle: Bundle, agent_change: Callable[[str], Intervention]) -> list[Candidate]:
    """The run's components, in the order its trace first shows them: agents, then tools, then its
    environment and input. `agent_change` makes the intervention that changes one agent."""
    agents: dict[str, None] = {}
    tools: dict[str, None] = {}
    for span in bundle.spans:
        if span.agent_name:
            agents.setdefault(span.agent_name)
        if span.span_type == "function" and isinstance(span.span_data.get("name"), str):
            tools.setdefault(span.span_data["name"])
    changes = [
        *(agent_change(name) for name in agents),
        *(Intervention(kind="tool", target=name) for name in tools),
        Intervention(kind="environment", target="environment"),
        Intervention(kind="input", target="input"),
    ]
    return [(component(change), change) for change in changes]


def search(items: list[Candidate]) -> Search:
    """The whole set first, then `_narrow` (see the module docstring). Returns [] when the whole set
    does not flip the run."""
    if not items or not (yield items):
        return []
    return (yield from _narrow(items, []))


def _narrow(items: list[Candidate], fixed: list[Candidate]) -> Search:
    """A subset S of `items` such that changing S with `fixed` flips the run; `items` + `fixed` must."""
    if len(items) == 1:
        return items
    half = len(items) // 2
    first, second = items[:half], items[half:]
    if (yield first + fixed):
        return (yield from _narrow(first, fixed))
    if (yield second + fixed):
        return (yield from _narrow(second, fixed))
    left = yield from _narrow(first, fixed + second)
    right = yield from _narrow(second, fixed + left)
    return left + right


@dataclass
class Found:
    """What the search found for one run."""

    components: list[str] = field(default_factory=list)
    intervention: Intervention | None = None
    counterfactual_dir: str = ""
    reruns: int = 0
    tested: dict[str, tuple[bool, str]] = field(default_factory=dict)
    """Every change re-run on the run (its intervention's slug) -> whether it flipped, where its twin is."""


def _key(items: list[Candidate]) -> frozenset[str]:
    return frozenset(name for name, _ in items)


def search_runs(runs: dict[str, list[Candidate]], test: Tester) -> dict[str, Found]:
    """Search every run of `runs` (run id -> its candidates) at once, one round at a time; `test` re-runs
    a round. The set found for a run is always one tested exactly and seen to flip it (`_narrow` returns
    S only after S + fixed flipped, and `fixed` is empty at the top), so its twin shows it."""
    found = {run_id: Found() for run_id in runs}
    tried: dict[str, dict[frozenset[str], tuple[bool, str]]] = {run_id: {} for run_id in runs}
    searches: dict[str, Search] = {run_id: search(items) for run_id, items in runs.items()}
    asking: dict[str, list[Candidate]] = {}

    def advance(run_id: str, answer: bool | None) -> None:
        """Step the run's search past every question already answered; park it on the next new one."""
        try:
            ask = next(searches[run_id]) if answer is None else searches[run_id].send(answer)
            while _key(ask) in tried[run_id]:
                ask = searches[run_id].send(tried[run_id][_key(ask)][0])
            asking[run_id] = ask
        except StopIteration as done:
            asking.pop(run_id, None)
            _settle(found[run_id], done.value, tried[run_id])

    for run_id in runs:
        advance(run_id, None)
    round_no = 0
    while asking:
        round_no += 1
        questions = dict(asking)
        changes = {r: Intervention.together([i for _, i in s]) for r, s in questions.items()}
        outcome = test(round_no, changes)
        for run_id, items in questions.items():
            tried[run_id][_key(items)] = outcome[run_id]
            found[run_id].reruns += 1
            found[run_id].tested[changes[run_id].slug] = outcome[run_id]
            advance(run_id, outcome[run_id][0])
    return found


def _settle(found: Found, items: list[Candidate], tried: dict[frozenset[str], tuple[bool, str]]) -> None:
    """Record the set a finished search returned (nothing, when it returned no set)."""
    if not items:
        return
    flipped, where = tried[_key(items)]
    assert flipped, "a search returned a set that did not flip its run"
    found.components = [name for name, _ in items]
    found.intervention = Intervention.together([i for _, i in items])
    found.counterfactual_dir = where


def round_dir(analysis: Path, round_no: int) -> Path:
    """Where round `round_no`'s re-runs go."""
    return analysis / TWINS_DIR / f"search-{round_no}"
