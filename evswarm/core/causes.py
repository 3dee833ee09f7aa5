"""The tables `evswarm verify` adds beside an analysis: each tested intervention's verdict on a pattern,
and each split's verdict on its own runs (`causes`), each member run's twin under each intervention
(`counterfactual_runs`), and what explains each failing member run (`run_causes`). Written by the
counterfactual stage, read by the report, the demo's summary and the review app."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field

from evswarm.core.analysis import TableRow

TWINS_DIR = "counterfactual"
"""Where `evswarm verify` puts re-run bundles, inside the analysis directory: `<TWINS_DIR>/<intervention>/`
for a pattern suspect's change, `<TWINS_DIR>/search-<round>/` for a round of the per-run cause search,
`<TWINS_DIR>/split-<k>/` for the split checks (a split's change on the pattern's other failing runs)."""


class CauseRow(TableRow):
    """A verified cause: one intervention re-run over a pattern's member runs (`scope` pattern), or over
    the failing member runs it explains, one cause of a pattern that splits into several (`scope` split,
    `counterfactual/splits.py`). Tables written before splits existed have no `scope` and read as
    `pattern` rows."""

    TABLE: ClassVar[str] = "causes"
    pattern_id: int
    """The pattern."""
    pattern: str
    """The pattern's label."""
    intervention: str
    """The intervention's name (`agent-PricingAgent`, `tool-get_tariffs`, `control`, ...)."""
    kind: str
    """control, agent, resample, tool, environment or input."""
    target: str
    """The agent, tool, `environment` or `input` intervened on."""
    description: str
    """What the intervention changes, in words."""
    runs: int
    """Member runs re-executed."""
    flipped: int
    """Re-runs in which none of the run's failing symptoms remain."""
    flip_rate: float
    """flipped / runs."""
    ci_low: float
    """95% Wilson interval of the flip rate, low end."""
    ci_high: float
    """95% Wilson interval of the flip rate, high end."""
    verdict: str
    """confirmed, partial or rejected (for a control: reproduced or not reproduced)."""
    explains: list[str]
    """Member runs this intervention is the best explanation of."""
    counterfactual_dir: str
    """Where the re-run bundles are, relative to the analysis directory (for a split found by the search,
    whose runs' twins sit in several rounds: empty, and each run's `run_causes` row says where)."""
    scope: Literal["pattern", "split"] = "pattern"
    """`pattern`: the verdict over the pattern's re-run member runs; `split`: over `explains`, the failing
    member runs this intervention explains (a run counts as flipped when its twin under the change shows
    none of its symptoms and its control re-run still shows them all)."""
    components: list[str] = Field(default_factory=list)
    """The components the intervention changes, as `side:name` (several for a combined change)."""
    others: int = 0
    """For a split: the pattern's other failing re-run members the same change was tested on."""
    also_flips: list[str] = Field(default_factory=list)
    """For a split: those of the other members the change flips too (a split whose change also removes
    other runs' symptoms is not a cause of its own runs alone)."""
    others_untested: int = 0
    """For a split: the pattern's other failing re-run members the change was not tried on (no twin had
    it, and the split check did not re-run it: `evswarm verify --split-check`)."""
    check_reruns: int = 0
    """For a split: twins its check on the other members needed that neither the pattern's interventions
    nor the search had made (what the split verdict cost in re-runs; the same on a second verify, which
    finds them made)."""


class CounterfactualRunRow(TableRow):
    """One member run re-executed under one intervention: its twin, and whether its symptoms went away."""

    TABLE: ClassVar[str] = "counterfactual_runs"
    run_id: str
    """The original run (its twin has the same id, in `counterfactual_dir`)."""
    pattern_id: int
    """The pattern it belongs to."""
    intervention: str
    """The intervention's name."""
    flipped: bool
    """None of the run's failing symptoms remain in the twin."""
    symptoms_before: list[str]
    """The run's failing symptom kinds."""
    symptoms_after: list[str]
    """The twin's failing symptom kinds."""
    identical: bool
    """The twin's bundle is byte for byte the original (what a control must show)."""
    counterfactual_dir: str
    """Where the twin is, relative to the analysis directory."""


class RunCauseRow(TableRow):
    """What explains one member run: a minimal change found that makes its failing symptoms go away."""

    TABLE: ClassVar[str] = "run_causes"
    run_id: str
    """The run."""
    pattern_id: int
    """The pattern it belongs to."""
    found_by: str
    """`pattern`: one of the pattern's suspect interventions flipped it; `search`: the per-run search over
    every component of its trace found the change; `none`: nothing tried flipped it."""
    intervention: str
    """The explaining intervention's name (empty when `found_by` is `none`)."""
    components: list[str]
    """The components changed, as `side:name` (`agent:PricingAgent`, `tool:get_tariffs`, `input:input`);
    more than one when only changing them together removes the symptoms."""
    description: str
    """What the change is, in words."""
    reruns: int
    """Re-runs the search spent on this run (0 when a pattern intervention explained it)."""
    counterfactual_dir: str
    """Where the twin that shows it is, relative to the analysis directory (empty when unexplained)."""
    symptoms_before: list[str]
    """The run's failing symptom kinds."""
    symptoms_after: list[str]
    """Its twin's failing symptom kinds (none of the run's own; empty when unexplained)."""


VERIFIED_TABLES: tuple[type[TableRow], ...] = (CauseRow, CounterfactualRunRow, RunCauseRow)
"""Tables `evswarm verify` adds to an analysis; a new analysis removes them (their pattern ids are stale)."""

REPORT_VERIFIED_START = "<!-- evswarm:verified:start -->"
"""The report's verified-causes section sits between these two markers; `verify` replaces what is between."""
REPORT_VERIFIED_END = "<!-- evswarm:verified:end -->"


@dataclass(frozen=True)
class Explanation:
    """How many failing runs of a pattern one change explains (`explanations`)."""

    pattern_id: int
    changed: str
    """The components changed, joined with " + " ("nothing found" for unexplained runs)."""
    found_by: str
    runs: int
    reruns: int


def explanations(rows: Iterable[RunCauseRow]) -> list[Explanation]:
    """`run_causes` counted per (pattern, change, how it was found): by pattern, most runs first."""
    counts: dict[tuple[int, str, str], list[int]] = {}
    for row in rows:
        key = (row.pattern_id, " + ".join(sorted(row.components)) or "nothing found", row.found_by)
        tally = counts.setdefault(key, [0, 0])
        tally[0] += 1
        tally[1] += row.reruns
    found = [Explanation(p, changed, how, n, reruns) for (p, changed, how), (n, reruns) in counts.items()]
    return sorted(found, key=lambda e: (e.pattern_id, -e.runs, e.changed))
