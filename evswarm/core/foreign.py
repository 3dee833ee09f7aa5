"""Bundles of runs the simulator did not make (recorded in a user's own app, or imported), and the batch
directory they go into.

Such a bundle has no oracle and no causal record, and neutral values where the EV schema asks for an
order (empty customer and vehicle). Its run is `completed`, `failed` or `unknown` as the source says;
`run.summary` keeps the source's id and title (`source_id`, `title`), and, when the user supplied one, the
step where the failure shows (`anchor_step`, a span id). Spans made from a foreign step carry the step's
position in the source (`source_step`: the message index of a chat log, the step index of a step list)
beside the span, so a label that names a step by its position finds it.

`ForeignBatch` writes bundles and the run table (`results.jsonl`) into a batch directory, resumably: rows
already in the run table are kept, a bundle is written atomically, and the run table is rewritten (also
atomically) on every `flush`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from evswarm.core.bundle import Bundle, RunStatus, SpanRecord
from evswarm.core.errors import EvswarmError
from evswarm.core.io import atomic_write_bytes, atomic_write_jsonl, bundle_bytes, iter_jsonl
from evswarm.core.layout import BatchLayout
from evswarm.core.results import ResultsRow

EPOCH = "2026-01-01T00:00:00+00:00"
"""Start of the synthetic clock of a source with no usable times (steps one second apart)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


def run_id_for(source_id: str) -> str:
    """The run id (and bundle file stem) of a foreign trace: `run_` + the source id made file-safe."""
    cleaned = _UNSAFE.sub("_", source_id).strip("._-") or "trace"
    cleaned = cleaned.removeprefix("run_")
    return f"run_{cleaned[:120]}"


def clock(index: int) -> str:
    """The synthetic time of the index-th step."""
    hours, rest = divmod(index, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"2026-01-01T{hours % 24:02d}:{minutes:02d}:{seconds:02d}+00:00"


def _just_after(timestamp: str) -> str:
    """An ISO timestamp one millisecond later (the same text when it does not parse)."""
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return timestamp
    return (moment + timedelta(milliseconds=1)).isoformat()


def foreign_bundle(
    *,
    run_id: str,
    trace_id: str,
    status: RunStatus,
    spans: list[SpanRecord],
    workflow: str,
    source_id: str,
    title: str = "",
    task: str = "",
    case_type: str | None = None,
    version_set: str | None = None,
    anchor_step: str | None = None,
    metadata: dict[str, Any] | None = None,
    final_agent: str | None = None,
) -> Bundle:
    """A bundle (no oracle, no causal record) for a run recorded or imported from elsewhere.

    A final `status` event records how the run ended (the terminal step of a failed run); it is dated one
    millisecond after the last span ends, so that it sorts after every step (a step with no duration
    starts when it ends)."""
    started = spans[0].started_at if spans else EPOCH
    ended = max((s.ended_at for s in spans), default=EPOCH)
    summary: dict[str, Any] = {
        "scenario_family": case_type or "unknown",
        "terminal_state": status.value,
        "simulation_date": started[:10],
        "agent_version_set": version_set or "unknown",
        "source_id": source_id,
        "title": title,
    }
    if anchor_step is not None:
        summary["anchor_step"] = anchor_step
    event = {
        "event_id": f"evt_{run_id}_end",
        "event_type": "status",
        "timestamp": _just_after(ended),
        "agent_name": final_agent,
        "payload": {"run_status": status.value, "terminal_state": status.value, "active_agent": final_agent},
    }
    return Bundle.model_validate(
        {
            "run": {
                "run_id": run_id,
                "config_id": source_id,
                "status": status.value,
                "created_at": started,
                "updated_at": ended,
                "openai_trace_id": trace_id,
                "summary": summary,
                "config": {
                    "customer": {"name": "", "region": ""},
                    "vehicle": {"model": "", "trim": "", "wheels": ""},
                    "notes": task,
                    "metadata": metadata or {},
                },
            },
            "trace": {
                "trace_id": trace_id,
                "started_at": started,
                "ended_at": ended,
                "workflow_name": workflow,
                "metadata_json": orjson.dumps({"source_id": source_id, "title": title}).decode(),
            },
            "spans": [s.model_dump(mode="json") for s in spans],
            "events": [event],
        }
    )


def _agent_of(kind: str, data: dict[str, Any]) -> str | None:
    if kind == "agent":
        return str(data.get("name") or "") or None
    if kind == "handoff":
        return str(data.get("from_agent") or "") or None
    return None


def sdk_spans(span_exports: Iterable[dict[str, Any]], trace_id: str, *, id_prefix: str) -> list[SpanRecord]:
    """SpanRecords from the Agents SDK's span exports (`Span.export()`: id, parent_id, started_at, ended_at,
    span_data, error), in start order, with ids `<id_prefix>_<n>` and each span's agent taken from the
    nearest agent span above it."""
    exports = sorted((e for e in span_exports if isinstance(e, dict)), key=lambda e: str(e.get("started_at") or ""))
    ids = {str(e.get("id")): f"{id_prefix}_{n:04d}" for n, e in enumerate(exports)}
    agent_of: dict[str, str | None] = {}
    records = []
    for export in exports:
        data = dict(export.get("span_data") or {})
        kind = str(data.get("type") or "custom")
        parent = str(export.get("parent_id") or "")
        agent = _agent_of(kind, data) or agent_of.get(parent)
        agent_of[str(export.get("id"))] = agent if kind != "handoff" else agent_of.get(parent, agent)
        started = str(export.get("started_at") or EPOCH)
        error = export.get("error")
        records.append(
            SpanRecord(
                span_id=ids[str(export.get("id"))],
                parent_span_id=ids.get(parent),
                trace_id=trace_id,
                started_at=started,
                ended_at=str(export.get("ended_at") or started),
                span_type=kind,
                agent_name=agent,
                error=error if isinstance(error, dict) else None,
                span_data=data,
            )
        )
    return records


class ForeignBatch:
    """A batch directory that recorded or imported bundles go into (see the module docstring)."""

    def __init__(self, root: Path, *, label: str) -> None:
        self.layout = BatchLayout(Path(root))
        self.label = label
        self.rows: dict[str, ResultsRow] = {}
        if self.layout.root.exists() and not self.layout.root.is_dir():
            raise EvswarmError(f"{self.layout.root} is a file, not a directory")
        if self.layout.results.is_file():
            for number, raw in iter_jsonl(self.layout.results):
                try:
                    row = ResultsRow.model_validate(raw)
                except ValueError as exc:
                    raise EvswarmError(f"{self.layout.results}:{number}: not a run-table row ({exc})") from exc
                self.rows[row.run_id] = row

    def has(self, run_id: str) -> bool:
        return run_id in self.rows and self.layout.bundle_path(run_id).is_file()

    def add(self, bundle: Bundle) -> bool:
        """Write one bundle (atomically) and its run-table row; False when an identical bundle is there."""
        run_id = bundle.run.run_id
        path = self.layout.bundle_path(run_id)
        data = bundle_bytes(bundle)
        unchanged = path.is_file() and path.read_bytes() == data
        if not unchanged:
            atomic_write_bytes(path, data)
        previous = self.rows.get(run_id)
        index = previous.batch_index if previous else len(self.rows) + 1
        summary = bundle.run.summary
        self.rows[run_id] = ResultsRow(
            run_id=run_id,
            batch_index=index,
            batch_label=self.label,
            batch_size=len(self.rows) + (0 if previous else 1),
            status=bundle.run.status.value,
            final_status=bundle.run.status.value,
            bundle_path=str(path.relative_to(self.layout.root)),
            agent_version_set=summary.agent_version_set,
            scenario_family=summary.scenario_family,
            trace_id=bundle.trace.trace_id,
            trace_name=str(getattr(summary, "title", "") or bundle.trace.workflow_name),
            failure_agent=summary.failure_agent,
            error=summary.error_message,
            error_message=summary.error_message,
            error_code=summary.error_code,
        )
        return not unchanged

    def flush(self) -> None:
        """Rewrite the run table (every row, in batch order) atomically."""
        rows = sorted(self.rows.values(), key=lambda r: r.batch_index)
        size = len(rows)
        atomic_write_jsonl(
            self.layout.results, (r.model_copy(update={"batch_size": size}).model_dump(mode="json") for r in rows)
        )


def status_from_spans(spans: list[SpanRecord]) -> RunStatus:
    """How an SDK run ended, from its spans: `failed` when an agent span records an error (the run raised:
    turn limit, tripped guardrail, a crash), else `completed`."""
    return RunStatus.FAILED if any(s.span_type == "agent" and s.error for s in spans) else RunStatus.COMPLETED


def first_user_text(spans: list[SpanRecord]) -> str:
    """The first user message a model saw (the run's request), or ""."""
    for span in spans:
        items = span.span_data.get("input") if span.span_type in ("generation", "response") else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("role") == "user":
                content = item.get("content")
                if isinstance(content, str):
                    return content
                if isinstance(content, list):
                    return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def sdk_bundle(
    trace_id: str,
    trace_export: dict[str, Any],
    span_exports: list[dict[str, Any]],
    *,
    run_id: str,
    source_id: str,
    status: RunStatus | None = None,
    anchor: str | None = None,
) -> Bundle:
    """The bundle of one SDK trace; `status` None: from the spans (see `status_from_spans`)."""
    spans = sdk_spans(span_exports, trace_id, id_prefix=f"span_{run_id.removeprefix('run_')}")
    for position, span in enumerate(spans):
        setattr(span, "source_step", position)  # noqa: B010 - an extra field of an open record
    request = first_user_text(spans)
    anchor_span = None
    if anchor is not None:
        anchor_span = next((s.span_id for s in spans if anchor in (str(s.source_step), s.span_id)), None)  # type: ignore[attr-defined]
        if anchor_span is None:
            raise ValueError(f"the anchor {anchor!r} names no step of the trace")
    agents = [s.agent_name for s in spans if s.agent_name]
    metadata = trace_export.get("metadata")
    return foreign_bundle(
        run_id=run_id,
        trace_id=trace_id,
        status=status or status_from_spans(spans),
        spans=spans,
        workflow=str(trace_export.get("workflow_name") or "agents-sdk"),
        source_id=source_id,
        title=" ".join(request.split())[:120] or str(trace_export.get("workflow_name") or source_id),
        task=request,
        anchor_step=anchor_span,
        metadata={"source_format": "agents-sdk", **(metadata if isinstance(metadata, dict) else {})},
        final_agent=agents[-1] if agents else None,
    )
