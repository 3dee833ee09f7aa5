"""The run table (`results.jsonl`): one row per run of a batch, written by `simulate`, read by `grade`,
`analyze` and the benchmarks. Its columns are the reference notebook's run table (`trace_results.jsonl`),
so a reader written for the reference reads ours; a run whose harness crashed has a row with
`status = "runner_error"` and no bundle.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

RUNNER_ERROR = "runner_error"


class ResultsRow(BaseModel):
    """One run of a batch. Fields other than the identity ones are None where they do not apply."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(description="the run's id (bundle `run.run_id`)")
    batch_index: int = Field(description="1-based position of the run in its batch")
    batch_label: str = Field(description="the batch's label (`evswarm-<seed>`)")
    batch_size: int = Field(description="runs requested in the batch")
    status: str = Field(description="terminal state (completed, awaiting_review, blocked, failed) or runner_error")
    final_status: str = Field(description="same as `status` (the reference keeps both)")
    bundle_path: str | None = Field(description="the bundle, relative to the batch directory; None: no bundle")
    error: str | None = Field(default=None, description="the error message, when the run failed")
    error_code: str | None = Field(default=None, description="a stable error code, when the run failed")
    error_message: str | None = Field(default=None, description="same as `error`")
    activation_slice: str | None = None
    active_competitors: list[str] = Field(default_factory=list, description="rivals named by competitor signals")
    agent_version_set: str | None = Field(default=None, description="the version set the run used")
    arbitration_count: int | None = None
    config_id: str | None = None
    environment_batch_id: str | None = None
    environment_event_ids: list[str] = Field(default_factory=list, description="dated signals in the world")
    factory_assignment: str | None = None
    failure_agent: str | None = Field(default=None, description="the agent active when a run failed")
    failure_model: str | None = None
    failure_parameter: str | None = None
    incentive_program: str | None = None
    input_manifest_path: str | None = None
    input_path: str | None = None
    input_shard_count: int | None = None
    input_shard_index: int | None = None
    loop_count: int | None = None
    market_regime: str | None = None
    openai_trace_id: str | None = None
    orchestrator_mode: str | None = None
    price_regime: str | None = None
    product_set: list[str] = Field(default_factory=list)
    promo_program: str | None = None
    review_decision: str | None = None
    review_hit: bool | None = None
    review_packet_id: str | None = None
    review_snapshot_packet_id: str | None = None
    review_snapshot_path: str | None = None
    review_status: str | None = None
    rogue_window_id: str | None = None
    runtime_backend: str | None = None
    scenario: str | None = None
    scenario_family: str | None = Field(default=None, description="the run's case type")
    schedule_regime: str | None = None
    simulation_date: str | None = None
    specialist_activations: list[str] = Field(default_factory=list)
    supplier_mix: list[str] = Field(default_factory=list)
    tariff_regime: str | None = None
    trace_family: str | None = None
    trace_id: str | None = None
    trace_name: str | None = None
    triage_outcome: str | None = None

    @property
    def has_bundle(self) -> bool:
        return self.bundle_path is not None
