"""The analysis tables (`evswarm analyze --out OUT`): written by `analyze`, read by the review app,
`verify`, `ab` and the benchmarks. Each table is `OUT/<name>.csv` and `OUT/<name>.json` (a list of
records); the JSON is the one readers use, the CSV is for people and spreadsheets.

Every table is a list of rows of one model below; `write_table` validates each row before writing and
`read_table` validates each row it reads, naming the file, row and field of a bad one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evswarm.core.errors import EvswarmError
from evswarm.core.io import atomic_write_bytes, atomic_write_json, load_json

NOISE = -1
"""`pattern_id` of traces that fit no pattern."""


class TableRow(BaseModel):
    """A row of an analysis table; `TABLE` is the file's base name."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)
    TABLE: ClassVar[str]


class PatternRow(TableRow):
    """One behavior pattern (or, with `pattern_id` -1, the traces that fit none)."""

    TABLE: ClassVar[str] = "patterns"
    pattern_id: int = Field(
        description="its id: the rank by impact at a chain's first analysis, kept while the pattern continues "
        "(`--previous`); -1 for unclustered traces"
    )
    label: str = Field(description="a readable name, unique within the analysis")
    label_basis: str = Field(description="what the name was built from")
    keywords: list[str] = Field(description="its most distinctive terms (class-based TF-IDF)")
    owner: str | None = Field(default=None, description="the agent most associated with it")
    owner_basis: str | None = Field(default=None, description="how the owner was chosen")
    trace_count: int
    """Traces in the pattern."""
    prevalence: float = Field(description="its traces / all traces of the batch")
    share_of_analyzed: float = Field(description="its traces / analyzed traces")
    severity: float = Field(description="mean severity of its traces")
    severity_weighted_prevalence: float = Field(description="its share of the batch's total severity")
    impact: float = Field(description="prevalence x severity (the ranking key)")
    dominant_case_type: str
    """The case type most of its traces have."""
    dominant_outcome: str
    """The outcome most of its traces end in."""
    top_suspect: str | None = Field(default=None, description="the component most often blamed in its traces")
    top_suspect_side: str | None = Field(default=None, description="agent, tool, environment or input")
    top_suspect_share: float | None = Field(default=None, description="share of its traces blaming it")
    representatives: list[str] = Field(default_factory=list, description="run ids nearest its centre")
    rank: int | None = Field(default=None, description="rank by impact, 1 = highest; 0 for unclustered traces")
    status: str | None = Field(
        default=None, description="against the previous analysis: new, continuing, returned, split or merged"
    )
    prevalence_then: float | None = Field(
        default=None, description="its prevalence in the previous analysis (parts: their parents'); None at step 1"
    )
    stability: float | None = Field(
        default=None, description="mean best-match Jaccard over bootstrap resamples (None when not measured)"
    )


class TracePatternRow(TableRow):
    """Which pattern each analyzed trace belongs to, and where its failure shows."""

    TABLE: ClassVar[str] = "trace_patterns"
    run_id: str
    """The trace."""
    pattern_id: int
    """Its pattern (-1: none)."""
    pattern: str = Field(description="the pattern's label")
    probability: float = Field(
        description="HDBSCAN membership strength in the clustering of all analyzed traces (with `--previous`, a "
        "trace that fits an earlier pattern's centre is assigned to it whatever this strength)"
    )
    case_type: str
    """The trace's case type."""
    run_outcome: str
    """How the trace ended."""
    agent_version_set: str
    """The version set it ran."""
    anchor_event_id: str | None = Field(description="the step where the trace's failure shows first")
    anchor_reason: str | None = Field(description="which rule chose the anchor")
    map_x: float
    """Trace-map position (first axis of the clustering space)."""
    map_y: float
    """Trace-map position (second axis)."""


class LiftRow(TableRow):
    """How much more common a pattern is in one slice of the batch (Fisher's exact test, BH-corrected)."""

    TABLE: ClassVar[str] = "lift"
    slice: str = Field(description="the column sliced on (case_type, agent_version_set, ...)")
    value: str
    """The slice's value."""
    pattern_id: int
    """The pattern."""
    pattern: str
    """The pattern's label."""
    traces: int = Field(description="the pattern's traces in the slice")
    slice_traces: int
    """Analyzed traces in the slice."""
    pattern_traces: int
    """The pattern's traces."""
    slice_share: float
    """The pattern's share of the slice."""
    overall_share: float
    """The pattern's share of all analyzed traces."""
    lift: float
    """slice_share / overall_share."""
    share_ci_low: float
    """95% Wilson interval of slice_share, low end."""
    share_ci_high: float
    """95% Wilson interval of slice_share, high end."""
    p_value: float
    """Fisher's exact test, two-sided."""
    q_value: float
    """Benjamini-Hochberg adjusted p-value."""
    leads: bool = Field(description="significant, supported by enough traces, and a lift above 1")


class VersionCompareRow(TableRow):
    """A pattern's prevalence in one version set against the baseline version set."""

    TABLE: ClassVar[str] = "version_compare"
    pattern_id: int
    """The pattern."""
    pattern: str
    """The pattern's label."""
    baseline: str
    """The version set compared against."""
    version_set: str
    """The version set compared."""
    baseline_prevalence: float
    """The pattern's share of the baseline's runs."""
    prevalence: float
    """The pattern's share of this version's runs."""
    difference: float
    """prevalence - baseline_prevalence."""
    diff_ci_low: float
    """95% Newcombe interval of the difference, low end."""
    diff_ci_high: float
    """95% Newcombe interval of the difference, high end."""
    baseline_traces: int
    """The pattern's traces in the baseline."""
    traces: int
    """The pattern's traces in this version."""
    p_value: float
    """Fisher's exact test, two-sided."""
    q_value: float
    """Benjamini-Hochberg adjusted p-value."""
    change: str = Field(description="appears, vanishes, up, down or no clear change")


class SuspectRow(TableRow):
    """A suspect of one pattern: a component (agent, tool, environment or input) that is the top suspect
    of some of the pattern's traces. A pattern with two causes lists both, with their shares."""

    TABLE: ClassVar[str] = "suspects"
    pattern_id: int
    """The pattern."""
    pattern: str
    """The pattern's label."""
    rank: int = Field(description="1 = the component most often blamed in the pattern")
    component: str = Field(description="an agent name, a tool name, or `input`")
    side: str = Field(description="agent, tool, environment or input")
    traces: int = Field(description="the pattern's traces whose top suspect this is")
    share: float = Field(description="traces / the pattern's attributed traces")
    mean_score: float
    """Mean attribution score of those traces' top suspect steps."""
    example_step: str = Field(description="one such trace's suspect step (span or event id)")


class SuspectStepRow(TableRow):
    """One suspect step of one analyzed trace, with its score parts: what the review app links to."""

    TABLE: ClassVar[str] = "suspect_steps"
    run_id: str
    """The trace."""
    rank: int = Field(description="1 = the trace's top suspect")
    event_id: str = Field(description="the step's span or event id (`<run>::input` for the input)")
    seq: int = Field(description="the step's position in the trace (-1 for the input)")
    agent_name: str
    """The step's agent (`input` for the input)."""
    node_kind: str
    """generation, function, handoff, guardrail, environment or input."""
    tool_name: str
    """The step's tool, if any."""
    score: float
    """The step's attribution score (see `evswarm.macro.attribution`)."""
    deviation: float = Field(
        description="how much more often failing traces take this step than passing peers (for the input: how "
        "unlike passing peers' requests its request is)"
    )
    earliness: float = Field(description="1 / (1 + k) for the trace's k-th unusual step, else 0")
    proximity: float = Field(description="1 / (1 + hops) to the anchor over content edges")
    hop: int | None = Field(description="content hops to the anchor; None when no content route reaches it")
    anchor_event_id: str | None
    """Where the trace's failure shows."""


class AttributionRow(TableRow):
    """The attribution of one analyzed trace: its top suspect, and the obvious baselines beside it."""

    TABLE: ClassVar[str] = "attribution"
    run_id: str
    """The trace."""
    suspect_event_id: str
    """The top suspect step."""
    suspect_seq: int
    """Its position in the trace (-1 for the input)."""
    suspect_agent: str = Field(description="the agent of the suspect step (`input` for the input)")
    suspect_kind: str
    """Its kind."""
    suspect_tool: str
    """Its tool, if any."""
    suspect_side: str = Field(description="agent, tool, environment or input")
    suspect_component: str = Field(description="the tool for a tool step, else the agent")
    suspect_rule: str | None = Field(
        None,
        description="which rule chose the suspect: `contrast with peers`, `nearest agent step to the anchor` "
        "(no step departs from passing peers) or `no agent step before the anchor`",
    )
    score: float
    """Its attribution score."""
    deviation: float
    """Its deviation part."""
    earliness: float
    """Its earliness part."""
    proximity: float
    """Its proximity part."""
    anchor_event_id: str | None
    """Where the failure shows."""
    anchor_rule: str | None = Field(description="which rule placed the anchor")
    unusual_steps: int = Field(description="steps before the anchor that few peers take")
    baseline_last_agent: str | None = Field(description="the last agent step before the anchor, hub aside")
    baseline_most_frequent_agent: str | None
    """The agent with the most steps."""
    baseline_first_agent: str | None
    """The first agent step's agent."""


ALL_TABLES: tuple[type[TableRow], ...] = (
    PatternRow,
    TracePatternRow,
    LiftRow,
    VersionCompareRow,
    SuspectRow,
    SuspectStepRow,
    AttributionRow,
)

R = TypeVar("R", bound=TableRow)


def _clean(value: Any) -> Any:
    """NaN (pandas' missing value) becomes None; numpy scalars become Python ones."""
    if isinstance(value, float) and math.isnan(value):
        return None
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, list | dict | str):
        return _clean(item())
    if isinstance(value, tuple):
        return list(value)
    return value


def rows_from_records(model: type[R], records: Iterable[dict[str, Any]], *, source: str) -> list[R]:
    """Validate records (e.g. `DataFrame.to_dict("records")`) as rows of `model`; errors name row and field."""
    out = []
    for number, record in enumerate(records, start=1):
        try:
            out.append(model.model_validate({k: _clean(v) for k, v in record.items()}))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise EvswarmError(f"{source}: row {number}: field `{where}`: {first['msg']}") from exc
    return out


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return value


def remove_table(out_dir: Path, model: type[TableRow]) -> None:
    """Delete OUT/<table>.{csv,json} if they exist."""
    for suffix in (".csv", ".json"):
        (out_dir / f"{model.TABLE}{suffix}").unlink(missing_ok=True)


def write_table(out_dir: Path, model: type[R], rows: Sequence[R]) -> list[Path]:
    """Write `rows` as OUT/<table>.json (records) and OUT/<table>.csv, atomically."""
    import csv
    import io

    name = model.TABLE
    records = [row.model_dump(mode="json") for row in rows]
    paths = [out_dir / f"{name}.csv", out_dir / f"{name}.json"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(model.model_fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _csv_cell(v) for k, v in record.items()} for record in records)
    atomic_write_bytes(paths[0], buffer.getvalue().encode("utf-8"))
    atomic_write_json(paths[1], records)
    return paths


def read_optional_table(out_dir: Path, model: type[R]) -> list[R]:
    """`read_table`, but no rows when the table was never written (an older verify had no run causes)."""
    return read_table(out_dir, model) if (out_dir / f"{model.TABLE}.json").is_file() else []


def read_table(out_dir: Path, model: type[R]) -> list[R]:
    """The rows of OUT/<table>.json; a missing file, or a bad row, raises an EvswarmError naming it."""
    path = out_dir / f"{model.TABLE}.json"
    if not path.is_file():
        raise EvswarmError(f"{path} is missing", hint="run `evswarm analyze DIR --out OUT` to write it")
    data = load_json(path)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise EvswarmError(f"{path}: expected a list of records")
    return rows_from_records(model, data, source=str(path))
