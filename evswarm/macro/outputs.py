"""Write an analysis to its output directory: the tables (formats in `evswarm.core.analysis`), the pattern
lineage `lineage.json` (`evswarm.core.lineage`), the run manifest `analysis.json` (parameters, timings, notes,
skipped inputs) and the report."""

from __future__ import annotations

import importlib.metadata as md
import platform
from pathlib import Path
from typing import Any

import pandas as pd

from evswarm.core.analysis import (
    AttributionRow,
    LiftRow,
    PatternRow,
    SuspectRow,
    SuspectStepRow,
    TableRow,
    TracePatternRow,
    VersionCompareRow,
    read_optional_table,
    read_table,
    remove_table,
    rows_from_records,
    write_table,
)
from evswarm.core.causes import VERIFIED_TABLES, CauseRow, RunCauseRow
from evswarm.core.errors import EvswarmError
from evswarm.core.io import atomic_write_json
from evswarm.core.lineage import write_lineage
from evswarm.macro.result import AnalysisResult

PACKAGES = ("numpy", "pandas", "scikit-learn", "umap-learn", "hdbscan", "sentence-transformers", "plotly", "networkx")


def _frame(model: type[TableRow], df: pd.DataFrame) -> list[TableRow]:
    columns = [c for c in model.model_fields if c in df.columns]
    return list(rows_from_records(model, df[columns].to_dict("records"), source=f"the {model.TABLE} table"))


def write_tables(r: AnalysisResult) -> dict[str, list[Path]]:
    steps = r.suspect_steps
    frames: list[tuple[type[TableRow], pd.DataFrame]] = [
        (PatternRow, r.patterns),
        (TracePatternRow, r.assignments),
        (LiftRow, r.lift),
        (VersionCompareRow, r.version_compare),
        (SuspectRow, r.suspects),
        (SuspectStepRow, steps.assign(hop=steps.hop.astype("Int64")) if "hop" in steps else steps),
        (AttributionRow, r.attribution),
    ]
    rows = {model: _frame(model, df) for model, df in frames}
    r.extra["verified_kept"] = _same_patterns(r.out_dir, rows[PatternRow], rows[TracePatternRow])
    if not r.extra["verified_kept"]:
        for stale in VERIFIED_TABLES:
            remove_table(r.out_dir, stale)
    return {model.TABLE: write_table(r.out_dir, model, found) for model, found in rows.items()}


def _same_patterns(out_dir: Path, patterns: list[TableRow], members: list[TableRow]) -> bool:
    """True when OUT holds verdicts of `evswarm verify` made on exactly these patterns (same names, same
    member runs): re-analyzing an unchanged batch keeps them; any other analysis drops them."""
    if not (out_dir / f"{CauseRow.TABLE}.json").is_file():
        return False
    try:
        old_patterns = read_table(out_dir, PatternRow)
        old_members = read_table(out_dir, TracePatternRow)
        read_table(out_dir, CauseRow)  # the report renders them: unreadable verdicts are dropped, not fatal
        read_optional_table(out_dir, RunCauseRow)
    except EvswarmError:
        return False

    def names(rows: list[Any]) -> dict[int, str]:
        return {row.pattern_id: row.label for row in rows}

    def membership(rows: list[Any]) -> set[tuple[str, int]]:
        return {(row.run_id, row.pattern_id) for row in rows}

    return names(old_patterns) == names(patterns) and membership(old_members) == membership(members)


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:
            versions[package] = None
    return versions


def write_manifest(r: AnalysisResult) -> None:
    atomic_write_json(
        r.out_dir / "analysis.json",
        {
            "config": r.config.model_dump(mode="json"),
            "embedding_method": r.embedding_method,
            "timings_seconds": r.timings,
            "traces": len(r.traces),
            "analyzed": len(r.assignments),
            "scope": r.population.scope,
            "patterns": int((r.patterns.pattern_id > 0).sum()),
            "skipped": [{"source": s.source, "reason": s.reason} for s in r.skipped],
            "notes": r.notes,
            "python": platform.python_version(),
            "packages": _versions(),
            **r.extra,
        },
    )


def write_outputs(r: AnalysisResult) -> None:
    """Tables, manifest and report; every file is written atomically."""
    from evswarm.macro.report.html import write_report

    r.out_dir.mkdir(parents=True, exist_ok=True)
    r.table_paths = write_tables(r)
    if r.lineage is not None:
        write_lineage(r.out_dir, r.lineage)
    write_report(r)
    write_manifest(r)
