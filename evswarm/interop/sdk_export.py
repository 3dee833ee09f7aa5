"""Agents SDK trace exports (`Trace.export()` and `Span.export()` dicts, as a processor of the user's own
would dump them) -> bundles, one per trace id. Spans keep their SDK types (agent, generation, function,
handoff, guardrail, custom), so they read exactly like spans evswarm records itself."""

from __future__ import annotations

from typing import Any

from evswarm.core.formats import ImportFormatError


def _items(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, dict) and ("spans" in payload or "traces" in payload):
        spans, traces = payload.get("spans") or [], payload.get("traces") or []
        return [i for i in [*traces, *spans] if isinstance(i, dict)]
    if isinstance(payload, dict):
        return [payload]
    if isinstance(payload, list):
        out: list[dict[str, Any]] = []
        for item in payload:
            out += _items(item) if isinstance(item, dict | list) else []
        return out
    raise ImportFormatError("expected Agents SDK span exports (objects with `span_data`)")


def read_sdk_export(payload: Any) -> list[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """(trace id, trace export or {}, span exports) per trace id, in order of first appearance."""
    traces: dict[str, dict[str, Any]] = {}
    spans: dict[str, list[dict[str, Any]]] = {}
    for index, item in enumerate(_items(payload)):
        trace_id = item.get("trace_id") if item.get("object") != "trace" else item.get("id")
        if not isinstance(trace_id, str) or not trace_id:
            raise ImportFormatError(f"span export {index}: no `trace_id`")
        if item.get("object") == "trace":
            traces[trace_id] = item
            spans.setdefault(trace_id, [])
        else:
            if not isinstance(item.get("span_data"), dict) or not item.get("id"):
                raise ImportFormatError(f"span export {index}: expected `id` and a `span_data` object")
            spans.setdefault(trace_id, []).append(item)
    if not any(spans.values()):
        raise ImportFormatError("the Agents SDK export holds no spans")
    return [(trace_id, traces.get(trace_id, {}), items) for trace_id, items in spans.items() if items]
