"""A verdict per split: a pattern whose failing runs have different explanations (`run_causes`) splits into
its causes, one per explaining change (single or combined), and each split is judged on its own runs.

The explanation of a run is the change seen to remove its symptoms, so a split's rate on its own runs
would be 100% by construction if it only restated that. It is judged on both arms of the contrast instead,
read from twins this verify already made (no re-run):

- a run of the split counts as flipped when its twin under the change shows none of its failing symptoms
  *and* its control re-run (nothing changed) still shows all of them: with nothing changed the failure
  stays, with the change it goes. A run whose control did not reproduce its failure does not count;
- the rate comes with the same 95% Wilson interval and verdict rule as a pattern's (`verdict.py`), so a
  split of a few runs is not `confirmed`, however clean its flips.

And it is tested where it can fail: the same change on the pattern's *other* failing re-run members. A
cause of its own runs should leave the others' symptoms in place; each one it removes too is listed in
`also_flips`, and the report says so. Those twins are reused, for every split, when the pattern's suspect
interventions or the search already made them (run, same change): free. The missing ones are re-run (`check`,
`CHECKS`): by default only for the splits confirmed on their own runs, the claims the report makes (`all`:
every split; `reuse`: none, no new re-run), packed into directories `counterfactual/split-<k>/` that hold each
run once (each graded once); a second verify finds them made. `check_reruns` says what each split's check
needed, `others_untested` which other runs it was not tried on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from evswarm.core.causes import TWINS_DIR, CauseRow, CounterfactualRunRow, RunCauseRow
from evswarm.counterfactual.search import component
from evswarm.counterfactual.verdict import verdict
from evswarm.world.intervention import Intervention

CHECKS = ("confirmed", "all", "reuse")
"""Which splits' changes are re-run on the pattern's other failing runs that no twin answers yet: those of
splits confirmed on their own runs, every split's, or none (only twins already made are read)."""

Seen = dict[tuple[str, str], tuple[bool, str]]
"""(run id, change's slug) -> (the twin flipped the run, where the twin is): every twin made so far."""
Checker = Callable[[int, dict[str, Intervention]], dict[str, tuple[bool, str]]]
"""Re-runs check directory `k`'s tests (run id -> change) and says, per run that re-ran, whether it flipped
and where its twin is (runs whose re-run failed are left out)."""


@dataclass(frozen=True)
class Split:
    """One cause of a pattern: the failing member runs one change explains, and the pattern's others."""

    pattern_id: int
    label: str
    change: Intervention
    runs: list[str]
    others: list[str]
    counterfactual_dir: str
    """Where its runs' twins are, when they share one directory (else empty)."""


def splits_of(labels: dict[int, str], rows: Sequence[RunCauseRow], changes: dict[str, Intervention]) -> list[Split]:
    """The splits of each pattern (`labels`: pattern id -> label): its explained failing runs (`rows`)
    grouped by the change that explains them (`changes`: run id -> change), most runs first."""
    failing: dict[int, list[str]] = {}
    groups: dict[tuple[int, str], list[RunCauseRow]] = {}
    for row in rows:
        failing.setdefault(row.pattern_id, []).append(row.run_id)
        if row.run_id in changes:
            groups.setdefault((row.pattern_id, changes[row.run_id].slug), []).append(row)
    found = []
    for (pattern_id, _), group in groups.items():
        mine = sorted(r.run_id for r in group)
        dirs = {r.counterfactual_dir for r in group}
        found.append(
            Split(
                pattern_id, labels.get(pattern_id, ""), changes[mine[0]], mine,
                sorted(set(failing[pattern_id]) - set(mine)), dirs.pop() if len(dirs) == 1 else "",
            )
        )  # fmt: skip
    return sorted(found, key=lambda s: (s.pattern_id, -len(s.runs), s.change.slug))


def seen_twins(twins: Sequence[CounterfactualRunRow], searched: Seen) -> Seen:
    """Every twin this verify made: the pattern interventions' (`twins`) and the search's (`searched`)."""
    seen = dict(searched)
    seen.update({(t.run_id, t.intervention): (t.flipped, t.counterfactual_dir) for t in twins})
    return seen


def control_reproduced(twins: Sequence[CounterfactualRunRow]) -> set[str]:
    """Runs whose control re-run still shows every failing symptom of the original."""
    return {
        t.run_id
        for t in twins
        if t.intervention == "control" and t.symptoms_before and set(t.symptoms_before) <= set(t.symptoms_after)
    }


def checks_needed(splits: Sequence[Split], seen: Seen) -> list[dict[str, Intervention]]:
    """The (other run, split's change) pairs no twin answers yet, packed into check directories that hold
    each run at most once (the first that has room, in the splits' order: the same packing on a second
    verify, so it finds its twins)."""
    rounds: list[dict[str, Intervention]] = []
    for split in splits:
        for run_id in split.others:
            if (run_id, split.change.slug) in seen:
                continue
            room = next((r for r in rounds if run_id not in r), None)
            if room is None:
                room = {}
                rounds.append(room)
            room[run_id] = split.change
    return rounds


def split_verdicts(
    splits: Sequence[Split], seen: Seen, control_ok: set[str], check: Checker, which: str = "confirmed"
) -> list[CauseRow]:
    """One `CauseRow` (scope split) per split: judged on its own runs, tested on the pattern's others
    (re-running through `check` only the pairs `seen` does not answer, for the splits `which` names:
    see `CHECKS`)."""
    if which not in CHECKS:
        raise ValueError(f"split check {which!r} is not one of {', '.join(CHECKS)}")
    own = {(s.pattern_id, s.change.slug): _own(s, seen, control_ok) for s in splits}
    checked = [
        s
        for s in splits
        if which == "all" or (which == "confirmed" and own[s.pattern_id, s.change.slug][0] == "confirmed")
    ]
    needed = checks_needed(checked, seen)
    for number, tests in enumerate(needed, start=1):
        seen.update({(r, tests[r].slug): outcome for r, outcome in check(number, tests).items()})
    cost = {(r, change.slug) for tests in needed for r, change in tests.items()}
    return [_row(s, seen, control_ok, cost, own[s.pattern_id, s.change.slug]) for s in splits]


def _flips(run_id: str, slug: str, seen: Seen, control_ok: set[str]) -> bool:
    """The change's twin of the run shows none of its symptoms, and its control still shows them all."""
    return seen.get((run_id, slug), (False, ""))[0] and run_id in control_ok


def _own(split: Split, seen: Seen, control_ok: set[str]) -> tuple[str, float, float, int]:
    """The split's verdict on its own runs: (verdict, interval low, interval high, runs flipped)."""
    n_flipped = sum(1 for r in split.runs if _flips(r, split.change.slug, seen, control_ok))
    return (*verdict(split.change.kind, n_flipped, len(split.runs)), n_flipped)


def _row(
    split: Split, seen: Seen, control_ok: set[str], cost: set[tuple[str, str]], own: tuple[str, float, float, int]
) -> CauseRow:
    slug = split.change.slug
    found, low, high, n_flipped = own
    tested = [r for r in split.others if (r, slug) in seen]
    return CauseRow(
        pattern_id=split.pattern_id, pattern=split.label, intervention=slug, kind=split.change.kind,
        target=split.change.target, description=split.change.describe(), runs=len(split.runs), flipped=n_flipped,
        flip_rate=round(n_flipped / len(split.runs), 4), ci_low=round(low, 4), ci_high=round(high, 4),
        verdict=found, explains=split.runs, counterfactual_dir=split.counterfactual_dir, scope="split",
        components=[component(c) for c in split.change.leaves], others=len(tested),
        also_flips=[r for r in tested if _flips(r, slug, seen, control_ok)],
        others_untested=len(split.others) - len(tested),
        check_reruns=sum(1 for r in split.others if (r, slug) in cost),
    )  # fmt: skip


def check_dir(number: int) -> str:
    """Where check directory `number`'s twins go, relative to the analysis directory."""
    return f"{TWINS_DIR}/split-{number}"
