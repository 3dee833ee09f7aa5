"""Import formats: detect what a payload is and turn it into canonical traces.

`to_traces(payload)` is the one entry point used by the webhook, the watched directory and the batch
loader, so every transport renders the same way. Whatever the payload, it either returns traces or raises
`ImportFormatError` with the reason, naming the field where it can (HTTP 422): the readers check types
before use, and any other failure of a reader is turned into an `ImportFormatError` too, so no payload
can crash the caller. Nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import orjson
from pydantic import ValidationError

from evswarm.core.formats.common import ImportFormatError, first_str
from evswarm.core.formats.evswarm_bundle import from_bundle
from evswarm.core.formats.openai_chat import read_messages
from evswarm.core.formats.otel import read_otel
from evswarm.core.formats.potato import read_steps
from evswarm.core.limits import MAX_NAME, MAX_STEPS, MAX_TEXT, DepthError, check_depth, clip, clip_name
from evswarm.core.steps import TRACE_ID_PATTERN, Trace

logger = logging.getLogger("evswarm.review")

__all__ = ["FORMATS", "ImportFormatError", "detect_format", "to_traces"]

FORMATS = ("auto", "evswarm", "potato", "openai", "otel")
_STEP_KEYS = ("trace", "steps", "conversation")


def _is_span(item: Any) -> bool:
    return isinstance(item, dict) and (
        ("traceId" in item and "spanId" in item)
        or ("trace_id" in item and "span_id" in item)
        or isinstance(item.get("context"), dict)
    )


_SPEAKERS = ("name", "speaker", "agent", "sender")
MESSAGE_KEYS = ("messages", "history", "chat_history")
"""Keys under which an object holds a chat log (OpenAI chat, or a multi-agent group chat)."""


def _is_message(item: Any) -> bool:
    if not isinstance(item, dict) or not ("content" in item or "tool_calls" in item):
        return False
    return "role" in item or (any(isinstance(item.get(k), str) for k in _SPEAKERS) and "text" not in item)


def chat_messages(payload: Any) -> list[Any] | None:
    """The message list of a chat payload (a list, or an object holding one under `MESSAGE_KEYS`)."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in MESSAGE_KEYS:
            if isinstance(payload.get(key), list):
                return list(payload[key])
    return None


def detect_format(payload: Any) -> str:
    """Name the format of a payload, or raise an error that says what was expected."""
    if isinstance(payload, dict):
        declared = payload.get("format")
        if isinstance(declared, str) and declared.startswith("evswarm.bundle"):
            return "evswarm"
        if "resourceSpans" in payload:
            return "otel"
        for key in MESSAGE_KEYS:
            messages = payload.get(key)
            if (
                isinstance(messages, list)
                and (not messages or _is_message(messages[0]))
                and (key == "messages" or messages)
            ):
                return "openai"
        spans = payload.get("spans")
        if isinstance(spans, list) and spans and _is_span(spans[0]):
            return "otel"
        for key in _STEP_KEYS:
            if isinstance(payload.get(key), list):
                return "potato"
        keys = [key[:40] for key in sorted(payload)[:12]]
        raise ImportFormatError(
            f"unrecognized payload (top-level keys: {keys}); expected an evswarm bundle "
            "(format: evswarm.bundle.v1), OTLP JSON (resourceSpans), a span list (spans), OpenAI chat "
            "(messages or history) or a step list (trace, steps or conversation)"
        )
    if isinstance(payload, list):
        if not payload:
            raise ImportFormatError("the payload is an empty list")
        if _is_message(payload[0]):
            return "openai"
        if _is_span(payload[0]):
            return "otel"
        return "potato"
    raise ImportFormatError(f"expected a JSON object or list, found {type(payload).__name__}")


def _content_id(payload: Any) -> str:
    digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"trace_{digest[:24]}"


def _envelope(payload: Any, trace: Trace) -> Trace:
    """Copy an envelope's id, title and metadata (if the payload is an object) onto the trace."""
    if not isinstance(payload, dict):
        trace.trace_id = _content_id(payload)
        return trace
    trace.trace_id = first_str(payload, "id", "trace_id", "run_id") or _content_id(payload)
    trace.title = first_str(payload, "title", "task_description", "task", "description", "name") or trace.title
    trace.task = first_str(payload, "task_description", "task", "description") or trace.task
    metadata: dict[str, Any] = payload["metadata"] if isinstance(payload.get("metadata"), dict) else {}
    merged = {**payload, **metadata}
    trace.case_type = first_str(merged, "case_type", "scenario_family") or trace.case_type
    trace.outcome = first_str(merged, "outcome", "status", "terminal_state") or trace.outcome
    trace.version_set = first_str(merged, "version_set", "agent_version_set") or trace.version_set
    trace.metadata.update({k: v for k, v in metadata.items() if isinstance(v, str | int | float | bool)})
    return trace


def _check_id(trace: Trace) -> Trace:
    if not TRACE_ID_PATTERN.match(trace.trace_id):
        raise ImportFormatError(
            f"invalid trace id {trace.trace_id[:80]!r}: use 1-128 letters, digits, '_', '-', '.' or ':' "
            "(starting with a letter or digit)"
        )
    return trace


_STEP_TEXTS = ("text", "arguments", "error")
_STEP_NAMES = ("step_id", "agent", "label", "tool", "call_id", "group", "span_id", "timestamp")


def _bound(trace: Trace) -> Trace:
    """Cap every text field (MAX_TEXT) and every name or id (MAX_NAME) of a trace, in place (only fields
    over their limit are touched: this runs on every payload)."""
    if len(trace.steps) > MAX_STEPS:
        raise ImportFormatError(f"the trace has {len(trace.steps):,} steps, more than the {MAX_STEPS:,} allowed")
    if len(trace.title) > MAX_NAME:
        trace.title = clip_name(trace.title) or ""
    if len(trace.task) > MAX_TEXT:
        trace.task = clip(trace.task)
    for name in ("case_type", "outcome", "version_set"):
        value = getattr(trace, name)
        if value is not None and len(value) > MAX_NAME:
            setattr(trace, name, clip_name(value))
    if any(len(key) > MAX_NAME or (isinstance(v, str) and len(v) > MAX_NAME) for key, v in trace.metadata.items()):
        trace.metadata = {
            key[:MAX_NAME]: clip_name(value) if isinstance(value, str) else value
            for key, value in trace.metadata.items()
        }
    for step in trace.steps:
        fields = step.__dict__
        for name in _STEP_TEXTS:
            value = fields[name]
            if value is not None and len(value) > MAX_TEXT:
                setattr(step, name, clip(value))
        for name in _STEP_NAMES:
            value = fields[name]
            if value is not None and len(value) > MAX_NAME:
                setattr(step, name, clip_name(value))
    return trace


def to_traces(payload: Any, fmt: str = "auto", *, depth_checked: bool = False) -> list[Trace]:
    """Canonical traces from one payload (an OTLP export may hold several). `depth_checked`: the payload
    was parsed by `parse_json`, which already held it to the depth limit.

    Raises ImportFormatError, and nothing else, for any payload that cannot be read.
    """
    if fmt not in FORMATS:
        raise ImportFormatError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    try:
        if not depth_checked:
            check_depth(payload)
    except DepthError as exc:
        raise ImportFormatError(str(exc)) from exc
    try:
        return [_bound(trace) for trace in _read(payload, fmt)]
    except ImportFormatError:
        raise
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ImportFormatError(f"a value of the wrong type for `{where}` of a step: {first['msg']}") from exc
    except RecursionError as exc:
        raise ImportFormatError("the payload is nested too deeply to read") from exc
    except Exception as exc:  # a reader bug must cost one payload, never the server
        logger.warning("import reader failed on a %s payload", fmt, exc_info=True)
        raise ImportFormatError(
            f"the payload could not be read as {fmt}: {type(exc).__name__}: {str(exc)[:200]}"
        ) from exc


def _read(payload: Any, fmt: str) -> list[Trace]:
    found = detect_format(payload) if fmt == "auto" else fmt
    if found == "evswarm":
        if not isinstance(payload, dict):
            raise ImportFormatError("an evswarm bundle must be a JSON object")
        return [_check_id(from_bundle(payload))]
    if found == "otel":
        return [_check_id(t) for t in read_otel(payload)]
    if found == "openai":
        messages = chat_messages(payload)
        if messages is None:
            raise ImportFormatError("expected `messages` (or `history`) to be a list")
        steps, answer = read_messages(messages)
        return [
            _check_id(
                _envelope(
                    payload,
                    Trace(trace_id="pending", source_format="openai", steps=steps, answer_source=answer),
                )
            )
        ]
    items: Any = payload
    if isinstance(payload, dict):
        items = next((payload[k] for k in _STEP_KEYS if isinstance(payload.get(k), list)), None)
    if not isinstance(items, list):
        raise ImportFormatError("expected a step list under `trace`, `steps` or `conversation`")
    steps, answer = read_steps(items)
    return [
        _check_id(
            _envelope(payload, Trace(trace_id="pending", source_format="potato", steps=steps, answer_source=answer))
        )
    ]
