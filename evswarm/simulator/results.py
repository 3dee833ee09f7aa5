"""Building the run table rows (`results.jsonl`) and the batch summary (`run_summary.json`) from bundles.
Both formats are defined in `evswarm.core.results` and `evswarm.core.summary`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from evswarm.core.bundle import Bundle
from evswarm.core.results import RUNNER_ERROR, ResultsRow
from evswarm.core.summary import BatchSummary


def results_row(bundle: Bundle, *, batch_label: str, batch_size: int, index: int) -> ResultsRow:
    """One row of the run table, with every reference column (null where it does not apply)."""
    run, summary = bundle.run, bundle.run.summary
    packet = bundle.review_packet
    competitors = [str(e.details["rival"]) for e in bundle.environment_events if e.details.get("rival")]
    return ResultsRow(
        **{
            "activation_slice": None,
            "active_competitors": competitors,
            "agent_version_set": summary.agent_version_set,
            "arbitration_count": summary.arbitration_count,
            "batch_index": index + 1,
            "batch_label": batch_label,
            "batch_size": batch_size,
            "bundle_path": f"bundles/{run.run_id}.json",
            "config_id": run.config_id,
            "environment_batch_id": f"env_{batch_label}",
            "environment_event_ids": summary.environment_event_ids,
            "error": summary.error_message,
            "error_code": summary.error_code,
            "error_message": summary.error_message,
            "factory_assignment": summary.factory_assignment,
            "failure_agent": summary.failure_agent,
            "failure_model": "policy/" + summary.failure_agent if summary.failure_agent else None,
            "failure_parameter": None,
            "final_status": run.status,
            "incentive_program": summary.incentive_program,
            "input_manifest_path": "batch.json",
            "input_path": None,
            "input_shard_count": 1,
            "input_shard_index": 1,
            "loop_count": summary.loop_count,
            "market_regime": summary.market_regime,
            "openai_trace_id": run.openai_trace_id,
            "orchestrator_mode": summary.orchestrator_mode,
            "price_regime": summary.price_regime,
            "promo_program": summary.promo_program,
            "review_decision": summary.review_decision,
            "review_hit": packet is not None,
            "review_packet_id": packet.packet_id if packet else None,
            "review_snapshot_packet_id": None,
            "review_snapshot_path": None,
            "review_status": summary.review_status,
            "product_set": [run.config.vehicle.model],
            "rogue_window_id": summary.rogue_window_id,
            "run_id": run.run_id,
            "runtime_backend": "sdk",
            "scenario": summary.scenario_family,
            "scenario_family": summary.scenario_family,
            "schedule_regime": summary.schedule_regime,
            "simulation_date": summary.simulation_date,
            "specialist_activations": summary.specialist_activations,
            "status": run.status,
            "supplier_mix": summary.supplier_mix,
            "tariff_regime": summary.tariff_regime,
            "trace_family": summary.trace_family,
            "trace_id": bundle.trace.trace_id,
            "trace_name": f"evswarm/{batch_label}/{index:05d}",
            "triage_outcome": summary.triage_outcome,
        }
    )


def runner_error_row(run_id: str, index: int, *, batch_label: str, batch_size: int, error: str) -> ResultsRow:
    """A run whose harness crashed: no bundle, a row that says why (the reference's runner_error)."""
    return ResultsRow(
        batch_index=index + 1,
        batch_label=batch_label,
        batch_size=batch_size,
        bundle_path=None,
        run_id=run_id,
        status=RUNNER_ERROR,
        final_status=RUNNER_ERROR,
        error=error,
        error_code=RUNNER_ERROR,
        error_message=error,
    )


def _distribution(values: Iterable[int]) -> dict[str, int]:
    return {str(k): v for k, v in sorted(Counter(values).items())}


@dataclass(frozen=True)
class RunFacts:
    """The few facts of a run that the batch summary counts (kept instead of whole bundles)."""

    status: str
    labels: dict[str, str]
    agents: frozenset[str]
    handoffs: int
    function_spans: int
    loops: bool
    arbitrated: bool
    triaged: bool
    reviewed: bool
    rogue: bool
    shadow: bool
    trace_family: str


COUNTED = (
    "scenario_family",
    "agent_version_set",
    "orchestrator_mode",
    "market_regime",
    "price_regime",
    "schedule_regime",
)


def run_facts(bundle: Bundle) -> RunFacts:
    summary = bundle.run.summary
    return RunFacts(
        status=bundle.run.status,
        labels={key: str(getattr(summary, key)) for key in COUNTED},
        agents=frozenset(s.agent_name for s in bundle.spans if s.span_type == "agent" and s.agent_name),
        handoffs=sum(s.span_type == "handoff" for s in bundle.spans),
        function_spans=sum(s.span_type == "function" for s in bundle.spans),
        loops=summary.loop_count > 0,
        arbitrated=summary.arbitration_count > 0,
        triaged=summary.triage_outcome is not None,
        reviewed=bundle.review_packet is not None,
        rogue=summary.rogue_window_id is not None,
        shadow=summary.orchestrator_mode == "shadow",
        trace_family=summary.trace_family,
    )


def batch_summary(
    runs: list[RunFacts], *, batch_label: str, seed: int, requested: int, runner_errors: int
) -> BatchSummary:
    """Counts by status, case type, version set, regime and agent, plus handoff and tool-span distributions."""

    def count(key: str) -> dict[str, int]:
        return dict(sorted(Counter(r.labels[key] for r in runs).items()))

    def rate(flag: str) -> float:
        return round(sum(getattr(r, flag) for r in runs) / max(len(runs), 1), 3)

    families = Counter(r.trace_family for r in runs)
    top_family, top_count = families.most_common(1)[0] if families else (None, 0)
    statuses = Counter(r.status for r in runs)
    if runner_errors:
        statuses["runner_error"] = runner_errors
    return BatchSummary(
        **{
            "batch_label": batch_label,
            "seed": seed,
            "count": requested,
            "requested_runs": requested,
            "bundle_count": len(runs),
            "status_counts": dict(sorted(statuses.items())),
            "scenario_counts": count("scenario_family"),
            "agent_version_set_counts": count("agent_version_set"),
            "orchestrator_mode_counts": count("orchestrator_mode"),
            "market_regime_counts": count("market_regime"),
            "price_regime_counts": count("price_regime"),
            "schedule_regime_counts": count("schedule_regime"),
            "agent_activation_run_counts": dict(sorted(Counter(a for r in runs for a in r.agents).items())),
            "handoff_count_distribution": _distribution(r.handoffs for r in runs),
            "function_tool_span_count_distribution": _distribution(r.function_spans for r in runs),
            "loop_rate": rate("loops"),
            "arbitration_rate": rate("arbitrated"),
            "triage_rate": rate("triaged"),
            "review_snapshot_count": sum(r.reviewed for r in runs),
            "rogue_window_rate": rate("rogue"),
            "shadow_mode_rate": rate("shadow"),
            "trace_family_count": len(families),
            "top_trace_family": top_family,
            "top_trace_family_share": round(top_count / max(len(runs), 1), 3),
        }
    )
