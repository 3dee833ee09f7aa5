"""Files other stages wrote beside a batch: grades (`eval_labels.jsonl`, read with
`evswarm.core.labels.read_labels`) and the analysis tables (`evswarm analyze --out OUT`, read with
`evswarm.core.analysis.read_table` and its row models). A missing file leaves its panel out; a bad label row
is skipped and recorded as an import error naming file, line and field; a bad analysis table is recorded
the same way and left out. Nothing here is fatal."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson

from evswarm.core.analysis import (
    AttributionRow,
    PatternRow,
    SuspectRow,
    SuspectStepRow,
    TableRow,
    TracePatternRow,
    read_table,
)
from evswarm.core.causes import CauseRow, CounterfactualRunRow, RunCauseRow
from evswarm.core.errors import EvswarmError
from evswarm.core.labels import LabelRow, read_labels
from evswarm.core.lineage import LineageStep, PatternLineage, lineage_path, read_lineage
from evswarm.review.store import Store

ANALYSIS_TABLES: tuple[type[TableRow], ...] = (
    PatternRow,
    TracePatternRow,
    SuspectRow,
    SuspectStepRow,
    AttributionRow,
    CounterfactualRunRow,
    CauseRow,
    RunCauseRow,
)
"""The analysis tables the review app reads (each `OUT/<table>.json`)."""

MAX_ERRORS = 20  # bad label rows recorded as import errors per load; the rest are counted in one more

R = TypeVar("R", bound=TableRow)


def _record(row: LabelRow) -> dict[str, Any]:
    return {
        "passed": row.promptfoo_pass,
        "failed": list(row.promptfoo_failed_checks),
        "scores": dict(row.promptfoo_check_scores),
        "rationales": dict(row.promptfoo_rationales),
        "score_mean": row.promptfoo_score_mean,
        "primary_finding": row.promptfoo_primary_finding,
        "status": row.grade_status.value,
        "findings": [f.model_dump(mode="json") for f in row.findings],
    }


def load_grades(path: Path, store: Store) -> int:
    """Replace the grades table with the rows of the label file; returns how many loaded. Bad rows are
    skipped and recorded as import errors (file:line and field)."""
    if not path.is_file():
        return 0
    errors: list[str] = []
    try:
        rows = read_labels(path, on_bad_row=errors.append)
    except EvswarmError as exc:  # the file itself cannot be read
        store.record_error(str(path), exc.message)
        return 0
    records = [
        (
            row.run_id,
            None if row.promptfoo_pass is None else int(row.promptfoo_pass),
            orjson.dumps(_record(row)).decode(),
        )
        for row in rows
    ]
    failures = [(row.run_id, rubric) for row in rows for rubric in row.promptfoo_failed_checks]
    with store.write() as conn:
        conn.execute("DELETE FROM grades")
        conn.execute("DELETE FROM grade_failures")
        conn.executemany("INSERT OR REPLACE INTO grades VALUES (?, ?, ?)", records)
        conn.executemany("INSERT OR IGNORE INTO grade_failures VALUES (?, ?)", failures)
    for message in errors[:MAX_ERRORS]:
        store.record_error(str(path), message)
    if len(errors) > MAX_ERRORS:
        store.record_error(str(path), f"{len(errors) - MAX_ERRORS} more bad row(s) were not recorded")
    return len(records)


def grade_for(store: Store, run_id: str) -> dict[str, Any] | None:
    row = store.reader().execute("SELECT record FROM grades WHERE run_id = ?", (run_id,)).fetchone()
    return None if row is None else dict(orjson.loads(row["record"]))


def all_grades(store: Store) -> dict[str, dict[str, Any]]:
    rows = store.reader().execute("SELECT run_id, record FROM grades").fetchall()
    return {row["run_id"]: orjson.loads(row["record"]) for row in rows}


@dataclass
class Tables:
    """The analysis tables, indexed for the trace view."""

    patterns: dict[int, PatternRow] = field(default_factory=dict)
    trace_patterns: dict[str, TracePatternRow] = field(default_factory=dict)
    suspects: dict[int, list[SuspectRow]] = field(default_factory=dict)
    suspect_steps: dict[str, list[SuspectStepRow]] = field(default_factory=dict)
    attribution: dict[str, AttributionRow] = field(default_factory=dict)
    twins: dict[str, list[CounterfactualRunRow]] = field(default_factory=dict)
    """Run id -> its counterfactual twins (`evswarm verify`), one per intervention."""
    causes: dict[tuple[int, str], CauseRow] = field(default_factory=dict)
    """(pattern id, intervention) -> the verdict of that intervention on that pattern."""
    run_causes: dict[str, RunCauseRow] = field(default_factory=dict)
    """Run id -> what explains it (`evswarm verify`: a pattern suspect's change, or the per-run search's)."""
    lineage: dict[int, PatternLineage] = field(default_factory=dict)
    """Pattern id -> its history over the chain of analyses (`OUT/lineage.json`)."""
    lineage_steps: list[LineageStep] = field(default_factory=list)
    """The analyses of that chain, oldest first."""


class Analysis:
    """Macro results for the trace view: each trace's behavior pattern, its attribution (suspect step with
    score parts, anchor, baselines), its top suspect steps, the components its pattern's traces blame, and
    its counterfactual twins with their verdicts (`evswarm verify`)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.tables = Tables()

    def paths(self) -> list[Path]:
        """The files whose change reloads the tables."""
        if self.directory is None:
            return []
        return [self.directory / f"{model.TABLE}.json" for model in ANALYSIS_TABLES] + [lineage_path(self.directory)]

    def _read(self, store: Store, model: type[R]) -> list[R] | None:
        """The table's rows; None (and an import error, unless the file is simply absent) when unreadable."""
        assert self.directory is not None
        path = self.directory / f"{model.TABLE}.json"
        store.clear_errors(str(path))
        if not path.is_file():
            return None
        try:
            return read_table(self.directory, model)
        except EvswarmError as exc:
            store.record_error(str(path), exc.message)
            return None

    def reload(self, store: Store) -> None:
        if self.directory is None:
            return
        tables = Tables()
        patterns = self._read(store, PatternRow)
        tables.patterns = {p.pattern_id: p for p in patterns or []}
        members = self._read(store, TracePatternRow)
        if members is not None:
            tables.trace_patterns = {m.run_id: m for m in members}
            with store.write() as conn:
                conn.execute("DELETE FROM patterns")
                conn.executemany(
                    "INSERT OR REPLACE INTO patterns VALUES (?, ?)",
                    [(m.run_id, m.pattern) for m in members],
                )
        for suspect in sorted(self._read(store, SuspectRow) or [], key=lambda s: (s.pattern_id, s.rank)):
            tables.suspects.setdefault(suspect.pattern_id, []).append(suspect)
        for step in sorted(self._read(store, SuspectStepRow) or [], key=lambda s: (s.run_id, s.rank)):
            tables.suspect_steps.setdefault(step.run_id, []).append(step)
        tables.attribution = {a.run_id: a for a in self._read(store, AttributionRow) or []}
        for twin in self._read(store, CounterfactualRunRow) or []:
            tables.twins.setdefault(twin.run_id, []).append(twin)
        tables.causes = {  # the pattern-level verdicts; a split's row shares its pattern and intervention
            (c.pattern_id, c.intervention): c for c in self._read(store, CauseRow) or [] if c.scope == "pattern"
        }
        tables.run_causes = {r.run_id: r for r in self._read(store, RunCauseRow) or []}
        self._read_lineage(store, tables)
        self.tables = tables

    def _read_lineage(self, store: Store, tables: Tables) -> None:
        """The chain's history of each pattern; an unreadable file is an import error, an absent one (an
        analysis made before lineage existed) leaves the history out."""
        assert self.directory is not None
        path = lineage_path(self.directory)
        store.clear_errors(str(path))
        if not path.is_file():
            return
        try:
            chain = read_lineage(self.directory)
        except EvswarmError as exc:
            store.record_error(str(path), exc.message)
            return
        tables.lineage = chain.by_id()
        tables.lineage_steps = chain.steps

    def pattern_of(self, store: Store, run_id: str) -> str | None:
        row = store.reader().execute("SELECT pattern FROM patterns WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else str(row["pattern"])
