"""An OpenTelemetry span exporter (on the official `opentelemetry-sdk`) that appends OTLP JSON to a file:
one `{"resourceSpans": [...]}` line per export batch, ids in hex and times as strings of nanoseconds, as
the OTLP/JSON encoding specifies. Test and fixture tooling only."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import StatusCode


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [_value(v) for v in value]}}
    return {"stringValue": str(value)}


def _attributes(attributes: Any) -> list[dict[str, Any]]:
    return [{"key": key, "value": _value(value)} for key, value in (attributes or {}).items()]


def _span(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    status = {"code": {StatusCode.OK: 1, StatusCode.ERROR: 2}.get(span.status.status_code, 0)}
    if span.status.description:
        status["message"] = span.status.description
    out = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
        "name": span.name,
        "kind": int(span.kind.value) + 1,
        "startTimeUnixNano": str(span.start_time),
        "endTimeUnixNano": str(span.end_time),
        "attributes": _attributes(span.attributes),
        "events": [
            {"name": e.name, "timeUnixNano": str(e.timestamp), "attributes": _attributes(e.attributes)}
            for e in span.events
        ],
        "status": status,
    }
    if span.parent is not None:
        out["parentSpanId"] = f"{span.parent.span_id:016x}"
    return out


class OtlpJsonFileExporter(SpanExporter):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        by_scope: dict[tuple[str, str], list[dict[str, Any]]] = {}
        resource = spans[0].resource.attributes if spans else {}
        for span in spans:
            scope = span.instrumentation_scope
            key = (scope.name if scope else "", (scope.version or "") if scope else "")
            by_scope.setdefault(key, []).append(_span(span))
        line = {
            "resourceSpans": [
                {
                    "resource": {"attributes": _attributes(resource)},
                    "scopeSpans": [
                        {"scope": {"name": name, "version": version}, "spans": items}
                        for (name, version), items in by_scope.items()
                    ],
                }
            ]
        }
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, sort_keys=True) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None
