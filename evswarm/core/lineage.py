"""The pattern lineage (`OUT/lineage.json`, format `evswarm.lineage.v1`): every pattern an analysis chain has
seen, with what `evswarm analyze --previous OLD_OUT` needs to recognise it in a later batch.

Written by `analyze` (always: the first analysis of a chain has one step), read by the next `analyze
--previous` and by the review app. A chain is a sequence of analyses, each made with `--previous` pointing
at the one before; the file of the last analysis carries the whole chain.

Per pattern it keeps its id and name, its centre in the embedding space (the unit mean of its members'
document embeddings, never the UMAP picture, which differs from run to run), its fit radius (the cosine
distance from that centre within which a trace counts as fitting it) and its history: one entry per
analysis since it first appeared, with its status then. `read_lineage` validates the whole file and names
the file and the field of the first problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evswarm.core.errors import EvswarmError, first_problem
from evswarm.core.io import atomic_write_json, load_json

LINEAGE_FORMAT: Literal["evswarm.lineage.v1"] = "evswarm.lineage.v1"
LINEAGE_FILE = "lineage.json"

Status = Literal["new", "continuing", "returned", "split", "merged", "gone"]
"""A pattern's status in one analysis against the analysis before it (the rules: `evswarm.macro.assignment`):

- `new`: made of traces that fit no earlier pattern's centre, grouped by the clustering;
- `continuing`: it is an earlier pattern again (same id, same name): enough of this batch's traces fit its
  centre, and they were assigned to it (`basis` "assignment"), not re-found by the clustering;
- `returned`: an earlier pattern that was gone is back (same id, same name), by assignment as well;
- `split`: on a new pattern, it is a part of an earlier pattern (`related`: that pattern) that the clustering
  sets apart; on an earlier pattern, its traces fell into several of this batch's clusters (`related`: the
  parts), and its id is retired;
- `merged`: on a new pattern, the clustering joins most of several earlier patterns' traces into it
  (`related`); on an earlier pattern, it was absorbed into another (`related`: the one it joined), and its id is
  retired;
- `gone`: too few of this batch's traces fit an earlier pattern's centre: fewer than the clustering's minimum
  cluster size, and either fewer than half of it or significantly fewer than before (its id stays reserved; it
  may return).
"""
Basis = Literal["assignment", "clustering"]
"""How a pattern's traces were found in one analysis: `assignment` (they fit an earlier pattern's centre and
were given to it) or `clustering` (HDBSCAN grouped them; every pattern of a chain's first analysis)."""
RETIRED: frozenset[str] = frozenset({"split", "merged"})
"""Statuses that end an earlier pattern's life when they are its latest entry."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class LineageStep(_Model):
    """One analysis of the chain."""

    step: int = Field(ge=1, description="1 for the first analysis of the chain, then 2, 3, ...")
    batch: str = Field(description="the batch directory analyzed, as given")
    previous: str | None = Field(description="the analysis it continued (`--previous`), as given; None for step 1")
    traces: int = Field(ge=0, description="traces in the batch")
    analyzed: int = Field(ge=0, description="traces analyzed (the failing ones)")
    fitted: int = Field(ge=0, description="analyzed traces that fit an earlier pattern's centre (0 at step 1)")
    assigned: int = Field(
        default=0, ge=0, description="analyzed traces placed in continuing patterns by assignment (0 at step 1)"
    )
    clustered: int = Field(
        default=0, ge=0, description="analyzed traces in patterns the clustering found (new, split, merged)"
    )


class PatternState(_Model):
    """A pattern in one analysis."""

    step: int = Field(ge=1)
    """The analysis (`LineageStep.step`)."""
    status: Status
    """See `Status`."""
    label: str
    """Its name then."""
    trace_count: int = Field(ge=0, description="its traces then (0 when gone, split or merged away)")
    prevalence: float = Field(ge=0, le=1, description="its traces / all traces of that batch")
    fitted: int = Field(ge=0, description="that batch's analyzed traces that fit its centre (0 at its first step)")
    fits_own: int | None = Field(
        default=None,
        ge=0,
        description="that batch's analyzed traces that fit the centre and radius stored from that batch, the count "
        "a later batch's `fitted` is compared with (None in files written before it was kept)",
    )
    related: list[int] = Field(description="the patterns it split from or into, merged from or into")
    basis: Basis = Field(default="clustering", description="how its traces were found then (see `Basis`)")


class PatternLineage(_Model):
    """One pattern of the chain and its history."""

    pattern_id: int = Field(ge=1, description="its id, kept while it continues, never reused")
    label: str
    """Its name (kept while it continues)."""
    centroid: list[float] = Field(description="unit mean of its members' document embeddings (last seen)")
    radius: float = Field(ge=0, le=2, description="a trace fits it within this cosine distance of the centroid")
    history: list[PatternState] = Field(min_length=1, description="one entry per analysis since it appeared")

    @property
    def latest(self) -> PatternState:
        return self.history[-1]

    @property
    def retired(self) -> bool:
        """Split or merged away: its id is never matched again."""
        return self.latest.status in RETIRED

    @model_validator(mode="after")
    def _steps_increase(self) -> PatternLineage:
        steps = [s.step for s in self.history]
        if steps != sorted(set(steps)):
            raise ValueError(f"history steps must increase, found {steps}")
        return self


class Lineage(_Model):
    """The whole chain."""

    format: Literal["evswarm.lineage.v1"] = LINEAGE_FORMAT
    """Always `evswarm.lineage.v1`."""
    embedder: str = Field(description="the embedding model key the centroids live in (must match to continue)")
    dimensions: int = Field(ge=1, description="length of every centroid")
    fit_quantile: float = Field(gt=0, le=1, description="the member-distance quantile each radius is")
    steps: list[LineageStep] = Field(min_length=1)
    """The analyses of the chain, oldest first."""
    next_id: int = Field(ge=1, description="the id the next new pattern gets (ids are never reused)")
    patterns: list[PatternLineage]
    """Every pattern the chain has seen, in id order."""

    @model_validator(mode="after")
    def _consistent(self) -> Lineage:
        if [s.step for s in self.steps] != list(range(1, len(self.steps) + 1)):
            raise ValueError("steps must be numbered 1, 2, 3, ... in order")
        ids = [p.pattern_id for p in self.patterns]
        if len(set(ids)) != len(ids):
            raise ValueError("pattern ids must be unique")
        if ids and self.next_id <= max(ids):
            raise ValueError(f"next_id {self.next_id} must be above every pattern id (max {max(ids)})")
        for p in self.patterns:
            if len(p.centroid) != self.dimensions:
                raise ValueError(
                    f"pattern {p.pattern_id}: centroid has {len(p.centroid)} values, dimensions is {self.dimensions}"
                )
            if p.latest.step > len(self.steps):
                raise ValueError(f"pattern {p.pattern_id}: history names step {p.latest.step} of {len(self.steps)}")
        return self

    @property
    def step(self) -> int:
        """The number of the latest analysis."""
        return len(self.steps)

    def by_id(self) -> dict[int, PatternLineage]:
        return {p.pattern_id: p for p in self.patterns}


def lineage_path(out_dir: Path) -> Path:
    return out_dir / LINEAGE_FILE


def read_lineage(out_dir: Path) -> Lineage:
    """The lineage of the analysis in `out_dir`; a missing directory or file, another format or an invalid field
    raises an EvswarmError naming the file and the field."""
    path = lineage_path(out_dir)
    if not out_dir.is_dir():
        raise EvswarmError(
            f"{out_dir} is not an analysis directory (it does not exist)",
            hint="pass an earlier `evswarm analyze --out OUT` directory",
        )
    if not path.is_file():
        older = (out_dir / "patterns.json").is_file()
        raise EvswarmError(
            f"{path} is missing" + (": the analysis was made by an evswarm without pattern lineage" if older else ""),
            hint="analyze that batch again (`evswarm analyze DIR --out OUT`) to write it, then use it as --previous",
        )
    data = load_json(path)
    if not isinstance(data, dict):
        raise EvswarmError(f"{path}: expected a JSON object, found {type(data).__name__}")
    found = data.get("format")
    if found != LINEAGE_FORMAT:
        raise EvswarmError(f"{path}: field `format`: is {found!r}, expected {LINEAGE_FORMAT!r}")
    try:
        return Lineage.model_validate(data)
    except ValidationError as exc:
        raise EvswarmError(f"{path}: {first_problem(exc)}") from exc


def write_lineage(out_dir: Path, lineage: Lineage) -> Path:
    """Write OUT/lineage.json atomically; returns its path."""
    path = lineage_path(out_dir)
    atomic_write_json(path, lineage.model_dump(mode="json"))
    return path
