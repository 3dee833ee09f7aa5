"""Render one bundle as event rows: one row per execution event, in the order they happened.

Events are every meaningful SDK span (structural task/turn spans are left out), the status and
review entries of the runtime log (its handoff/tool-call entries repeat spans), and one row per
finding (summary and review-packet findings, de-duplicated). Failure markers are typed from
structure (span errors, tripped guardrails, tool outputs whose JSON reports findings or a failed
check, non-completed terminal states, findings), never from substrings like "retry" or "failed";
where a step has none, the failure markers of `markers` (tracebacks, non-zero exit codes, errors,
refusals in the full text of tool outputs and messages) give a `text_<name>` marker.

Bundles imported from chat logs or recorded elsewhere normalize the same way: each message is a
generation span of its agent; a user's message is a `custom` span `user_message` (agent `user`) whose
text is kept. A user-supplied anchor (`run.summary.anchor_step`) is carried as the trace's `user_anchor`.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from evswarm.macro.markers import text_marker
from evswarm.macro.shapes import SEPARATOR, joined

STRUCTURAL_CUSTOM = {"task", "turn"}
LOG_TYPES_FROM_SPANS = {"handoff", "tool_call", "function", "guardrail"}
KIND_PRIORITY = {
    "status": 0,
    "handoff": 1,
    "agent": 2,
    "generation": 3,
    "response": 3,
    "function": 4,
    "guardrail": 5,
    "custom": 6,
    "environment": 6,
    "review": 7,
    "finding": 8,
}
FAIL_KEYS = ("findings", "violations", "issues", "errors", "blocking_rules")
PASS_KEYS = ("ok", "passed", "valid", "approved", "buildable", "compliant")

_ID = re.compile(r"\b(?:span|run|call|evt|trace|cfg|pkt|fc|resp|msg)_[0-9A-Za-z_]{6,}\b")


def scrub(text: str) -> str:
    """Collapse whitespace and replace per-run identifiers, which only add noise to documents."""
    if "_" in text:  # every identifier has one
        text = _ID.sub("<id>", text)
    return " ".join(text.split())  # str.split and the regex class \s agree on what whitespace is


def as_json(value: Any) -> Any:
    """span_data / payload may arrive as a JSON string in the reference layout."""
    if isinstance(value, str | bytes) and value[:1] in ("{", "[", b"{", b"["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def as_str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _ts(value: Any) -> str:
    """ISO timestamps in one spelling ('Z' -> '+00:00') so that they sort as strings."""
    text = value if value.__class__ is str else as_str(value) or ""
    return text[:-1] + "+00:00" if text[-1:] == "Z" else text


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


HEAD_READ = 8
"""`scrub_clip` scrubs the first HEAD_READ * n characters of a long text before it scrubs the whole."""


def scrub_clip(text: str, n: int) -> str:
    """`scrub(text)` clipped to n characters, reading only the head of a long text where that suffices.

    Scrubbing is local: on the head of a text it gives the scrubbed whole up to the head's last whitespace
    (only the head's last word may be cut short). When that point lies past n, the clipped results agree."""
    if len(text) > HEAD_READ * n:
        head = scrub(text[: HEAD_READ * n])
        if head.rfind(" ") >= n:
            return head[: n - 1] + "…"
    return _clip(scrub(text), n)


def _compact(value: Any, n: int = 160) -> str:
    if value is None:
        return "no output"
    if not isinstance(value, str):
        value = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return scrub_clip(value, n)


def tool_marker(output: Any) -> str:
    """Classify a tool's output by its JSON structure: 'tool_finding', 'tool_check_failed' or ''."""
    parsed = as_json(output)
    if not isinstance(parsed, dict):
        return ""
    for key in FAIL_KEYS:
        value = parsed.get(key)
        if isinstance(value, list) and value:
            return "tool_finding"
    for key in PASS_KEYS:
        if parsed.get(key) is False:
            return "tool_check_failed"
    return ""


def _full_text(kind: str, data: dict[str, Any]) -> str:
    """The whole text a step says (a tool's output, an agent's or the user's messages): where failure
    markers are looked for."""
    if kind == "function":
        output = data.get("output")
        return output if isinstance(output, str) else orjson.dumps(output).decode() if output is not None else ""
    if kind in ("generation", "response"):
        output = as_json(data.get("output"))
        texts = []
        for item in output if isinstance(output, list) else []:
            if isinstance(item, dict) and item.get("type") == "message":
                texts += [str(c.get("text", "")) for c in item.get("content") or [] if isinstance(c, dict)]
        return "\n".join(texts)
    if kind == "custom":
        inner = data.get("data")
        return str(inner.get("text") or "") if isinstance(inner, dict) else ""
    return ""


def _generation_text(agent: str, data: dict[str, Any]) -> tuple[str, str | None, str | None, str]:
    """Render a model call: its reasoning summary and what it did. Returns (text, tool, call_id, shape)."""
    parts: list[str] = []
    shapes: list[str] = []
    tool = call_id = None
    output = as_json(data.get("output"))
    for item in output if isinstance(output, list) else []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "reasoning":
            summary = " ".join(str(s.get("text", "")) for s in item.get("summary") or [] if isinstance(s, dict))
            if summary:
                parts.append(f"thinks: {scrub_clip(summary, 160)}")
        elif kind == "function_call":
            tool, call_id = as_str(item.get("name")), as_str(item.get("call_id"))
            parts.append(f"calls {tool}({_compact(item.get('arguments'), 120)})")
            handoff = (tool or "").startswith("transfer_to_")  # the SDK's handoff tools: what they carry
            shapes.append(joined(item.get("arguments"), "handoff " if handoff else f"call {tool} "))
        elif kind == "message":
            texts = [str(c.get("text", "")) for c in item.get("content") or [] if isinstance(c, dict)]
            parts.append(f"says: {scrub_clip(' '.join(texts), 160)}")
            shapes.append(joined(" ".join(texts), "say "))
    text = f"{agent} model " + ("; ".join(parts) if parts else "call")
    return text, tool, call_id, SEPARATOR.join(shapes) or "call"


def _span_event(span: dict[str, Any]) -> dict[str, Any] | None:
    data = as_json(span.get("span_data"))
    data = data if isinstance(data, dict) else {}
    kind = str(span.get("span_type") or data.get("type") or "other")
    agent = as_str(span.get("agent_name")) or as_str(data.get("from_agent")) or as_str(data.get("name")) or "unknown"
    tool = call_id = source = target = None
    marker = ""
    shape = kind
    if kind == "custom":
        inner: dict[str, Any] = data["data"] if isinstance(data.get("data"), dict) else {}
        sub = str(inner.get("sdk_span_type") or data.get("name") or "")
        if sub in STRUCTURAL_CUSTOM:
            return None
        said = inner.get("text")
        text = f"{agent} {sub or 'custom step'}" + (f": {scrub_clip(str(said), 200)}" if said else "")
        shape = sub or "custom"
        if said:  # what a user or system message says (its words), as for an agent's message
            shape = SEPARATOR.join([shape, joined(str(said), f"{shape} ")])
    elif kind == "agent":
        tools = data.get("tools") or []
        text = f"agent {data.get('name') or agent} starts (tools: {', '.join(map(str, tools)) or 'none'})"
        shape = "start"
    elif kind in ("generation", "response"):
        text, tool, call_id, shape = _generation_text(agent, data)
    elif kind == "function":
        tool, call_id = as_str(data.get("name")) or as_str(data.get("tool_name")), as_str(data.get("call_id"))
        output = data.get("output")
        marker = tool_marker(output)
        text = f"{agent} tool {tool} -> {_compact(output)}"
        shape = joined(output)
    elif kind == "handoff":
        source, target = as_str(data.get("from_agent")) or agent, as_str(data.get("to_agent"))
        text = f"handoff {source} -> {target}"
        shape = f"to {target}"
    elif kind == "guardrail":
        tripped = bool(data.get("triggered"))
        marker = "guardrail_tripped" if tripped else ""
        text = f"guardrail {data.get('name')} {'TRIPPED' if tripped else 'passed'} in {agent}"
        shape = "tripped" if tripped else "passed"
    else:
        text = f"{agent} {kind} {_compact(data, 120)}"
    if span.get("error"):
        shape += " error"
        marker = "span_error"
        err = span["error"]
        message = err.get("message") if isinstance(err, dict) else err
        text += f" ERROR {scrub_clip(str(message), 120)}"
    if not marker and (found := text_marker(_full_text(kind, data))):
        marker = f"text_{found}"
    return {
        "event_id": as_str(span.get("span_id")),
        "parent_id": as_str(span.get("parent_span_id")),
        "ts": _ts(span.get("started_at")),
        "node_kind": kind,
        "agent_name": agent,
        "tool_name": tool,
        "call_id": call_id,
        "source_agent": source,
        "target_agent": target,
        "marker": marker,
        "text": text,
        "shape": shape,
    }


def _status_event(event: dict[str, Any]) -> dict[str, Any]:
    payload = as_json(event.get("payload"))
    payload = payload if isinstance(payload, dict) else {}
    kind = str(event.get("event_type"))
    agent = as_str(payload.get("active_agent")) or as_str(event.get("agent_name")) or "system"
    marker = ""
    if kind == "status":
        terminal = as_str(payload.get("terminal_state"))
        validation = as_str(payload.get("validation_outcome"))
        if terminal in ("failed", "blocked", "awaiting_review"):
            marker = terminal
        elif validation not in (None, "passed"):
            marker = f"validation_{validation}"
        fields = [
            f"{k}={payload[k]}"
            for k in (
                "run_status",
                "terminal_state",
                "validation_outcome",
                "triage_outcome",
                "selected_route",
                "review_status",
            )
            if payload.get(k) not in (None, "", [])
        ]
        text = f"status active={agent} " + " ".join(fields)
        shape = str(payload.get("terminal_state") or payload.get("run_status") or "status")
    elif kind == "environment":
        shape = joined(payload)
        text = f"environment event {_compact(payload, 140)}"
    else:
        shape = kind
        text = f"{kind} {agent} {_compact(payload, 140)}"
        if kind == "review":
            marker = "review"
    return {
        "event_id": as_str(event.get("event_id")),
        "parent_id": as_str(event.get("span_id")),
        "ts": _ts(event.get("timestamp")),
        "node_kind": kind if kind in KIND_PRIORITY else "log",
        "agent_name": agent,
        "tool_name": None,
        "call_id": None,
        "source_agent": as_str(event.get("source_agent")),
        "target_agent": as_str(event.get("target_agent")),
        "marker": marker,
        "text": text,
        "shape": shape,
    }


def collect_findings(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """Summary and review-packet findings, de-duplicated on (code, agent, span or message)."""
    run = bundle.get("run") or {}
    summary = run.get("summary") or {}
    packet = bundle.get("review_packet") or {}
    seen: set[tuple[Any, ...]] = set()
    out: list[dict[str, Any]] = []
    for finding in list(summary.get("findings") or []) + list(packet.get("findings") or []):
        if not isinstance(finding, dict):
            continue
        key = (
            finding.get("code"),
            finding.get("agent_name"),
            finding.get("span_id") or finding.get("message"),
        )
        if key in seen:
            continue
        seen.add(key)
        out.append(finding)
    return out


def log_aliases(bundle: dict[str, Any]) -> list[tuple[str, str]]:
    """(log entry id, span id) for runtime-log entries left out because a span records the same step."""
    out = []
    for entry in bundle.get("events") or []:
        if (
            isinstance(entry, dict)
            and str(entry.get("event_type")) in LOG_TYPES_FROM_SPANS
            and entry.get("event_id")
            and entry.get("span_id")
        ):
            out.append((str(entry["event_id"]), str(entry["span_id"])))
    return out


def bundle_events(bundle: dict[str, Any], run_id: str) -> list[dict[str, Any]]:
    """The ordered events of one trace, each a dict of event-table columns."""
    events: list[dict[str, Any]] = []
    for span in bundle.get("spans") or []:
        if isinstance(span, dict) and (row := _span_event(span)) is not None:
            events.append(row)
    for entry in bundle.get("events") or []:
        if isinstance(entry, dict) and str(entry.get("event_type")) not in LOG_TYPES_FROM_SPANS:
            events.append(_status_event(entry))
    findings = collect_findings(bundle)
    cited_spans = {str(f.get("span_id")) for f in findings if f.get("span_id") is not None}
    span_end = {
        span_id: _ts(s.get("ended_at"))
        for s in (bundle.get("spans") or [] if cited_spans else [])
        if isinstance(s, dict) and (span_id := str(s.get("span_id"))) in cited_spans
    }
    trace_end = _ts((bundle.get("trace") or {}).get("ended_at") or (bundle.get("run") or {}).get("updated_at"))
    for i, finding in enumerate(findings, start=1):
        severity = str(finding.get("severity") or "warning")
        cited = as_str(finding.get("span_id"))
        events.append(
            {
                "event_id": f"finding::{i}",
                "parent_id": cited if cited in span_end else None,
                "ts": span_end.get(cited or "", "") or trace_end,
                "node_kind": "finding",
                "agent_name": as_str(finding.get("agent_name")) or "review",
                "tool_name": None,
                "call_id": None,
                "source_agent": None,
                "target_agent": None,
                "marker": f"finding_{severity}" if severity in ("error", "warning") else "",
                "text": f"finding {finding.get('code')} ({severity}) by {finding.get('agent_name')}: "
                f"{scrub_clip(str(finding.get('message') or ''), 200)}",
                "shape": f"code={finding.get('code')} ; severity={severity}",
                "finding_code": as_str(finding.get("code")),
                "finding_severity": severity,
            }
        )
    order = sorted(
        range(len(events)),
        key=lambda i: (events[i]["ts"] or "~", KIND_PRIORITY.get(events[i]["node_kind"], 9), i),
    )
    ordered = [events[i] for i in order]
    for seq, row in enumerate(ordered):
        row["run_id"] = run_id
        row["seq"] = seq
        if not row.get("event_id"):
            row["event_id"] = f"{run_id}::event::{seq}"
    return ordered
