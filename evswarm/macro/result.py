"""What one analysis computed (`AnalysisResult`): the tables the report draws and `analyze` writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evswarm.core.lineage import Lineage
from evswarm.macro.config import AnalyzeConfig
from evswarm.macro.load import BatchSource, Skipped
from evswarm.macro.population import Population
from evswarm.macro.stability import Stability
from evswarm.macro.tables import EVENT_COLUMNS, trace_events


@dataclass
class AnalysisResult:
    """Everything `analyze` computed, plus where it wrote it."""

    out_dir: Path
    report_path: Path
    table_paths: dict[str, list[Path]]
    traces: pd.DataFrame
    """One row per trace of the batch (normalized, with grade columns)."""
    events: pd.DataFrame
    """One row per step of every trace (`tables.TABLE_COLUMNS`, without each step's text: see
    `trace_events`)."""
    assignments: pd.DataFrame
    """One row per analyzed trace: its pattern, anchor and map position."""
    patterns: pd.DataFrame
    lift: pd.DataFrame
    version_prevalence: pd.DataFrame
    version_compare: pd.DataFrame
    suspects: pd.DataFrame
    """Per pattern: components blamed in its traces, with shares."""
    suspect_steps: pd.DataFrame
    """Per analyzed trace: its top suspect steps with score parts."""
    attribution: pd.DataFrame
    """Per analyzed trace: its top suspect and the baselines."""
    skipped: list[Skipped]
    bad_label_rows: list[str]
    """Label rows that could not be read (file, line and field), skipped."""
    notes: list[str]
    timings: dict[str, float]
    config: AnalyzeConfig
    embedding_method: str
    population: Population
    documents: pd.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)
    lineage: Lineage | None = None
    """The chain of analyses this one ends (written as OUT/lineage.json)."""
    stability: Stability | None = None
    """Bootstrap stability of the clustering (None when `stability_runs` is 0)."""
    source: BatchSource | None = None
    """Where the batch's bundles are (for `trace_events`)."""
    render_cache: Path | None = None

    def trace_events(self, run_ids: Iterable[str]) -> pd.DataFrame:
        """The full events of some traces, with each step's text, read again from their bundles (from the
        render cache where it has them): for the few traces the report tells in full."""
        wanted = set(run_ids)
        sources = self.traces.loc[self.traces.run_id.isin(wanted), "source"].astype(str).tolist()
        if self.source is None or not sources:  # no bundles to read: the steps without their text
            return self.events[self.events.run_id.isin(wanted)].reindex(columns=EVENT_COLUMNS)
        return trace_events(self.source, sources, self.render_cache)
