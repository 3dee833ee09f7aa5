"""The batch summary (`run_summary.json`): counts over a batch, written by `simulate`.

Its keys are the reference notebook's aggregate keys plus evswarm's. It counts what the runs did
(statuses, case types, agents, handoffs); it never counts the causes of failures, which only the
benchmarks may read.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SUMMARY_FORMAT: Literal["evswarm.batch-summary.v2"] = "evswarm.batch-summary.v2"


class BatchSummary(BaseModel):
    """Counts and rates over the bundles of one batch."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    format: Literal["evswarm.batch-summary.v2"] = SUMMARY_FORMAT
    """Always `evswarm.batch-summary.v2`."""
    batch_label: str
    """`evswarm-<seed>`."""
    seed: int
    """The batch seed."""
    count: int = Field(description="runs requested (the reference's name)")
    requested_runs: int
    """Runs requested."""
    bundle_count: int = Field(description="runs that produced a bundle")
    bundle_dir: str = "bundles"
    """Where the bundles are, relative to the batch."""
    results_path: str = "results.jsonl"
    """The run table, relative to the batch."""
    database_path: str = "trace_snapshot.sqlite"
    """The SQLite snapshot, relative to the batch."""
    status_counts: dict[str, int] = Field(description="runs per terminal state (and runner_error)")
    scenario_counts: dict[str, int] = Field(description="runs per case type")
    agent_version_set_counts: dict[str, int]
    """Runs per version set."""
    orchestrator_mode_counts: dict[str, int]
    """Runs per orchestrator mode."""
    market_regime_counts: dict[str, int]
    """Runs per market regime."""
    price_regime_counts: dict[str, int]
    """Runs per price regime."""
    schedule_regime_counts: dict[str, int]
    """Runs per schedule regime."""
    agent_activation_run_counts: dict[str, int] = Field(description="runs in which each agent ran")
    handoff_count_distribution: dict[str, int] = Field(description="runs per number of handoffs")
    function_tool_span_count_distribution: dict[str, int] = Field(description="runs per number of tool spans")
    loop_rate: float = Field(description="share of runs that repeated a handoff")
    arbitration_rate: float
    """Share of runs with an arbitration."""
    triage_rate: float
    """Share of runs with an escalation triage."""
    review_snapshot_count: int
    """Runs with a review packet."""
    rogue_window_rate: float = Field(description="share of runs dated inside a version set's rogue window")
    shadow_mode_rate: float
    """Share of runs in shadow mode."""
    trace_family_count: int
    """Distinct trace families."""
    top_trace_family: str | None
    """The most common trace family."""
    top_trace_family_share: float
    """Its share of the runs."""
