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

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

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
    """Reserved (the reference's column; always None)."""
    active_competitors: list[str] = Field(default_factory=list, description="rivals named by competitor signals")
    agent_version_set: str | None = Field(default=None, description="the version set the run used")
    arbitration_count: int | None = None
    """Arbitrations in the run."""
    config_id: str | None = None
    """`cfg_<seed>_<index>`."""
    environment_batch_id: str | None = None
    """`env_<batch label>`."""
    environment_event_ids: list[str] = Field(default_factory=list, description="dated signals in the world")
    factory_assignment: str | None = None
    """The factory of the final decision."""
    failure_agent: str | None = Field(default=None, description="the agent active when a run failed")
    failure_model: str | None = None
    """The model of the agent active when the run failed."""
    failure_parameter: str | None = None
    """Reserved (the reference's column; always None)."""
    incentive_program: str | None = None
    """The first applied incentive."""
    input_manifest_path: str | None = None
    """The batch manifest, relative to the batch."""
    input_path: str | None = None
    """Reserved (the reference's column; always None)."""
    input_shard_count: int | None = None
    """Shards of the batch's input (always 1)."""
    input_shard_index: int | None = None
    """This run's shard (always 1)."""
    loop_count: int | None = None
    """Repeated handoffs."""
    market_regime: str | None = None
    """The market regime of the order date."""
    openai_trace_id: str | None = None
    """The SDK trace id."""
    orchestrator_mode: str | None = None
    """canonical or shadow."""
    price_regime: str | None = None
    """The price regime of the order date."""
    product_set: list[str] = Field(default_factory=list)
    """The models on the order."""
    promo_program: str | None = None
    """The first applied promotion."""
    review_decision: str | None = None
    """The reviewer's decision, if any."""
    review_hit: bool | None = None
    """Whether a review packet was opened."""
    review_packet_id: str | None = None
    """The review packet, if any."""
    review_snapshot_packet_id: str | None = None
    """Reserved (the reference's column; always None)."""
    review_snapshot_path: str | None = None
    """Reserved (the reference's column; always None)."""
    review_status: str | None = None
    """not_required, pending, approved or rejected."""
    rogue_window_id: str | None = None
    """The rogue window dating this run, if any."""
    runtime_backend: str | None = None
    """Always `sdk`."""
    scenario: str | None = None
    """The case type (the reference's name)."""
    scenario_family: str | None = Field(default=None, description="the run's case type")
    schedule_regime: str | None = None
    """The schedule regime of the order date."""
    simulation_date: str | None = None
    """The order date."""
    specialist_activations: list[str] = Field(default_factory=list)
    """Specialists that ran."""
    supplier_mix: list[str] = Field(default_factory=list)
    """Primary suppliers of the components."""
    tariff_regime: str | None = None
    """The first applied tariff."""
    trace_family: str | None = None
    """The run's trace family."""
    trace_id: str | None = None
    """The SDK trace id."""
    trace_name: str | None = None
    """`evswarm/<batch label>/<index>`."""
    triage_outcome: str | None = None
    """How an escalation was classified, if any."""

    @property
    def has_bundle(self) -> bool:
        return self.bundle_path is not None
