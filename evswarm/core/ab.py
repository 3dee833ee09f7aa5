"""The A/B report (`ab.json`): written by `evswarm ab` and `evswarm compare`, read by CI and people.

Two arms, a base and a candidate, are compared check by check: each rubric's pass rate, every run passing
(`overall`), and each symptom pattern's prevalence (what the graders saw, in the frozen symptom
vocabulary); and, outside the gate, each step the agents take (behavior). Paired arms ran the same
scenarios, so each comparison is over pairs (exact McNemar test, Newcombe's paired interval); unpaired
arms are compared as independent samples (Fisher's exact test, Newcombe's interval). The gating checks
form one family under Holm's correction; the verdict says whether any of them regressed significantly
by more than the tolerance, and `exit_code` is what the command exits with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evswarm.core.errors import EvswarmError
from evswarm.core.io import atomic_write_json, load_json

AB_FORMAT = "evswarm.ab.v1"

CheckKind = Literal["overall", "rubric", "pattern", "behavior"]
Outcome = Literal["regressed", "tolerated", "improved", "tied"]


class ArmInfo(BaseModel):
    """One side of the comparison."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["base", "candidate"]
    batch_dir: str
    version_sets: list[str] = Field(description="the version sets its runs used")
    seed: int | None = Field(description="the batch seed (None: not made by `evswarm simulate`)")
    runs: int = Field(description="bundles in the batch")
    graded: int = Field(description="runs with a usable grade")
    agent_versions: dict[str, str] = Field(
        default_factory=dict, description="agent -> version hash, when every run of the arm ran the same"
    )


class Check(BaseModel):
    """One comparison: a rubric's pass rate, `overall`, a symptom pattern or a behavior's prevalence."""

    model_config = ConfigDict(extra="forbid")

    kind: CheckKind
    name: str = Field(description="rubric id, `overall`, symptom pattern key, or behavior")
    label: str = Field(description="the same, for people")
    higher_is_better: bool = Field(description="True for pass rates; False for patterns and behaviors")
    gates: bool = Field(description="counts toward the verdict and the exit code (behaviors do not)")
    n_base: int = Field(description="runs (unpaired) or pairs (paired) compared")
    n_candidate: int
    base_count: int = Field(description="passes (rubrics) or runs showing it (patterns, behaviors)")
    candidate_count: int
    base_rate: float
    candidate_rate: float
    difference: float = Field(description="candidate rate - base rate")
    ci_low: float = Field(description="95% interval of the difference")
    ci_high: float
    worse_pairs: int | None = Field(default=None, description="paired: pairs where only the candidate is worse")
    better_pairs: int | None = Field(default=None, description="paired: pairs where only the candidate is better")
    p_value: float = Field(description="exact McNemar (paired) or Fisher's exact (unpaired), two-sided")
    p_adjusted: float | None = Field(
        description="Holm-adjusted within its family (BH for behaviors); None when the check cannot reach "
        "significance at all and stays out of the family"
    )
    significant: bool
    presence: Literal["appears", "vanishes"] | None = Field(
        default=None, description="patterns and behaviors: absent in one arm, present in the other"
    )
    status: Literal["regressed", "improved", "changed", "no clear change"] = Field(
        description="`changed` for a behavior that differs significantly (behaviors are neither better nor worse)"
    )
    fails_gate: bool = Field(description="a significant regression larger than the tolerance")
    examples: list[str] = Field(default_factory=list, description="run ids that show the change")
    examples_in: Literal["both", "base", "candidate"] = Field(
        default="both", description="which arm's traces the examples are (paired runs share their ids)"
    )


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Outcome = Field(
        description="regressed (a check fails the gate), tolerated (significant regressions within the "
        "tolerance only), improved (significant improvements, nothing fails), tied (nothing differs)"
    )
    exit_code: int = Field(description="1 when the gate fails, else 0")
    headline: str = Field(description="one sentence, verdict first")
    regressions: list[str] = Field(default_factory=list, description="names of checks that fail the gate")
    tolerated: list[str] = Field(default_factory=list, description="significant regressions within tolerance")
    improvements: list[str] = Field(default_factory=list)
    family_size: int = Field(description="gating checks that could reach significance (Holm's family)")
    smallest_significant_difference: float = Field(
        description="the smallest difference these runs could show as significant at all (every discordant "
        "pair one way; paired) or at the base rate (unpaired)"
    )
    detectable_difference: float = Field(
        description="a difference the gate would catch 80% of the time, given the noisiest check's spread"
    )
    changed_behavior_runs: int | None = Field(
        default=None, description="paired: pairs whose steps differ between the arms"
    )


class ABReport(BaseModel):
    """`ab.json`."""

    model_config = ConfigDict(extra="forbid")

    format: str = AB_FORMAT
    mode: Literal["paired", "unpaired"]
    pairing: str = Field(description="why the arms are (not) paired, in a sentence")
    base: ArmInfo
    candidate: ArmInfo
    changes: list[str] = Field(description="what the candidate changes relative to the base, per agent")
    alpha: float
    max_regression: float = Field(description="tolerance in percentage points (0: any significant regression)")
    correction: str = "holm"
    pairs: int = Field(description="pairs compared (paired mode), else 0")
    checks: list[Check]
    verdict: Verdict
    notes: list[str] = Field(default_factory=list)


def write_ab_report(path: Path, report: ABReport) -> None:
    atomic_write_json(path, report.model_dump(mode="json"))


def read_ab_report(path: Path) -> ABReport:
    """An `ab.json`; a missing or invalid one raises an EvswarmError naming it."""
    from pydantic import ValidationError

    data = load_json(path)
    try:
        return ABReport.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EvswarmError(f"{path}: field `{where}`: {first['msg']}") from exc
