"""The reference notebook's bundle layout and label file, read as a `TraceBundle` and `LabelRow`s.

The reference simulator wrote bundles without evswarm's `format` key, with `span_data`, event payloads
and trace metadata sometimes as JSON text, statuses outside our vocabulary ("accepted", "running") and
fewer summary fields. `reference_bundle` turns such a document into a valid `TraceBundle`, filling what
is missing from the run table row (`trace_results.jsonl`) or with neutral defaults. Nothing else in
evswarm knows about this layout.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from evswarm.core.bundle import RunStatus, TraceBundle
from evswarm.core.errors import BundleError, first_problem
from evswarm.core.labels import GradeStatus, LabelRow


def _decoded(value: Any) -> Any:
    """A JSON document given as text becomes the document; anything else is kept."""
    if isinstance(value, str | bytes) and value[:1] in ("{", "[", b"{", b"["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _status(*candidates: Any) -> str:
    for value in candidates:
        if value in RunStatus.__members__.values():
            return str(value)
    return RunStatus.UNKNOWN.value


def _dict(value: Any) -> dict[str, Any]:
    value = _decoded(value)
    return dict(value) if isinstance(value, dict) else {}


def _packet(value: Any, run_id: str) -> dict[str, Any] | None:
    packet = _dict(value)
    if not packet:
        return None
    decision = _dict(packet.get("decision"))
    return {
        **packet,
        "packet_id": str(packet.get("packet_id") or f"pkt_{run_id}"),
        "status": str(packet.get("status") or "pending"),
        "recommended_action": str(packet.get("recommended_action") or ""),
        "allowed_actions": list(packet.get("allowed_actions") or []),
        "summary": str(packet.get("summary") or ""),
        "requested_by": str(packet.get("requested_by") or ""),
        "requested_at": str(packet.get("requested_at") or ""),
        "decision": {"reviewer": "", "decided_at": "", **decision} if decision.get("decision") else None,
    }


def reference_bundle(data: dict[str, Any], run_row: dict[str, Any] | None, *, source: str) -> TraceBundle:
    """Validate a reference-layout bundle as a TraceBundle; a bad one raises a BundleError naming `source`."""
    row = run_row or {}
    run = _dict(data.get("run"))
    summary = _dict(run.get("summary"))
    trace = _dict(data.get("trace"))
    run_id = str(run.get("run_id") or row.get("run_id") or "")
    if not run_id:
        raise BundleError(f"{source}: field `run.run_id` is missing (not an evswarm or reference bundle)")
    status = _status(summary.get("terminal_state"), run.get("status"), row.get("final_status"), row.get("status"))
    for key in ("agent_version_set", "market_regime", "price_regime", "schedule_regime", "orchestrator_mode"):
        if summary.get(key) is None and row.get(key) is not None:
            summary[key] = row[key]
    summary.update(
        scenario_family=summary.get("scenario_family") or row.get("scenario_family") or "unknown",
        terminal_state=status,
        simulation_date=summary.get("simulation_date") or row.get("simulation_date") or "",
    )
    for key in ("loop_count", "retry_count", "arbitration_count"):
        if summary.get(key) is None and isinstance(row.get(key), int):
            summary[key] = row[key]
    config = _dict(run.get("config"))
    config.setdefault("customer", {"name": "", "region": str(row.get("customer_region") or "")})
    config["customer"].setdefault("name", "")
    config["customer"].setdefault("region", "")
    config.setdefault("vehicle", {"model": "", "trim": "", "wheels": ""})
    for key in ("model", "trim", "wheels"):
        config["vehicle"].setdefault(key, "")
    trace_id = str(trace.get("trace_id") or run.get("openai_trace_id") or f"trace_{run_id}")
    metadata = trace.get("metadata_json")
    document = {
        "run": {
            **run,
            "run_id": run_id,
            "config_id": str(run.get("config_id") or run_id),
            "status": status,
            "created_at": str(run.get("created_at") or ""),
            "updated_at": str(run.get("updated_at") or ""),
            "openai_trace_id": str(run.get("openai_trace_id") or trace_id),
            "summary": summary,
            "config": config,
        },
        "trace": {
            **trace,
            "trace_id": trace_id,
            "started_at": str(trace.get("started_at") or run.get("created_at") or ""),
            "ended_at": str(trace.get("ended_at") or run.get("updated_at") or ""),
            "workflow_name": str(trace.get("workflow_name") or "reference"),
            "metadata_json": metadata if isinstance(metadata, str) else orjson.dumps(metadata or {}).decode(),
        },
        "spans": [
            {**span, "trace_id": span.get("trace_id") or trace_id, "span_data": _dict(span.get("span_data"))}
            for span in data.get("spans") or []
            if isinstance(span, dict)
        ],
        "events": [
            {**event, "payload": _dict(event.get("payload"))}
            for event in data.get("events") or []
            if isinstance(event, dict)
        ],
        "environment_events": data.get("environment_events") or [],
        "review_packet": _packet(data.get("review_packet"), run_id),
    }
    try:
        return TraceBundle.model_validate(document)
    except ValidationError as exc:
        raise BundleError(f"{source}: {first_problem(exc)}") from exc


REFERENCE_RUBRICS = (
    "final_decision_quality",
    "market_drift_awareness",
    "policy_compliance_correctness",
    "review_appropriateness",
    "routing_specialist_activation",
)
"""The reference's rubrics, in the order its older label files name them `assertion_1` to `assertion_5`."""


def _rubric(name: Any) -> str:
    text = str(name)
    number = text.removeprefix("assertion_")
    if text.startswith("assertion_") and number.isdigit() and 1 <= int(number) <= len(REFERENCE_RUBRICS):
        return REFERENCE_RUBRICS[int(number) - 1]
    return text


def reference_label(row: dict[str, Any]) -> LabelRow:
    """A label row of the reference notebook's file (written by an LLM judge: no findings, no grade
    status) as ours: graded, with the failed rubrics and scores it gives and no structured findings."""
    failed = row.get("promptfoo_failed_checks") or []
    failed = [_rubric(f) for f in (failed if isinstance(failed, list) else [failed])]
    scores = _dict(row.get("promptfoo_check_scores"))
    rationales = _dict(row.get("promptfoo_rationales"))
    passed = _flag(row.get("promptfoo_pass"), "promptfoo_pass")
    return LabelRow(
        run_id=str(row["run_id"]),
        case_type=row.get("case_type"),
        run_outcome=row.get("run_outcome"),
        agent_version_set=row.get("agent_version_set"),
        promptfoo_pass=passed,
        promptfoo_failed_checks=list(dict.fromkeys(failed)),
        promptfoo_score_mean=row.get("promptfoo_score_mean"),
        promptfoo_check_scores={_rubric(k): float(v) for k, v in scores.items() if isinstance(v, int | float)},
        promptfoo_rationales={_rubric(k): str(v) for k, v in rationales.items()},
        promptfoo_primary_finding=_rubric(failed[0]) if failed else None,
        grade_status=GradeStatus.GRADED,
    )


_FLAGS: dict[object, bool] = {True: True, False: False, "true": True, "false": False, "True": True, "False": False}
"""Accepted spellings (1 and 0 match True and False as keys)."""


def _flag(value: Any, field: str) -> bool | None:
    """A yes/no column: a JSON bool (or 0/1, or "true"/"false"); anything else is a ValueError naming it."""
    if value is None:
        return None
    if isinstance(value, bool | int | str) and value in _FLAGS:
        return _FLAGS[value]
    raise ValueError(f"`{field}` must be true or false, not {value!r}")


def is_reference_label(row: dict[str, Any]) -> bool:
    """A label row in the reference's shape (its columns, none of evswarm's bookkeeping)."""
    return "grade_status" not in row and "promptfoo_pass" in row and isinstance(row.get("run_id"), str)
