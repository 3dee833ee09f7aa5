"""Turn bundle dicts into two tables: one row per trace, one row per execution event.

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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import pandas as pd

from evswarm.macro.markers import text_marker
from evswarm.macro.shapes import SEPARATOR, joined

OUTCOME_SEVERITY: dict[str, float] = {
    "completed": 1.0,
    "awaiting_review": 2.0,
    "blocked": 2.5,
    "failed": 3.0,
}
UNKNOWN_SEVERITY = 2.0
FINDING_RANK = {"error": 0, "warning": 1, "info": 2}
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
_WS = re.compile(r"\s+")


def scrub(text: str) -> str:
    """Collapse whitespace and replace per-run identifiers, which only add noise to documents."""
    return _WS.sub(" ", _ID.sub("<id>", text)).strip()


def _obj(value: Any) -> Any:
    """span_data / payload may arrive as a JSON string in the reference layout."""
    if isinstance(value, str | bytes) and value[:1] in ("{", "[", b"{", b"["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _ts(value: Any) -> str:
    """ISO timestamps in one spelling ('Z' -> '+00:00') so that they sort as strings."""
    text = _str(value) or ""
    return text[:-1] + "+00:00" if text.endswith("Z") else text


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _compact(value: Any, n: int = 160) -> str:
    if value is None:
        return "no output"
    if not isinstance(value, str):
        value = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return _clip(scrub(value), n)


def tool_marker(output: Any) -> str:
    """Classify a tool's output by its JSON structure: 'tool_finding', 'tool_check_failed' or ''."""
    parsed = _obj(output)
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
        output = _obj(data.get("output"))
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
    output = _obj(data.get("output"))
    for item in output if isinstance(output, list) else []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "reasoning":
            summary = " ".join(str(s.get("text", "")) for s in item.get("summary") or [] if isinstance(s, dict))
            if summary:
                parts.append(f"thinks: {_clip(scrub(summary), 160)}")
        elif kind == "function_call":
            tool, call_id = _str(item.get("name")), _str(item.get("call_id"))
            parts.append(f"calls {tool}({_compact(item.get('arguments'), 120)})")
            handoff = (tool or "").startswith("transfer_to_")  # the SDK's handoff tools: what they carry
            shapes.append(joined(item.get("arguments"), "handoff " if handoff else f"call {tool} "))
        elif kind == "message":
            texts = [str(c.get("text", "")) for c in item.get("content") or [] if isinstance(c, dict)]
            parts.append(f"says: {_clip(scrub(' '.join(texts)), 160)}")
            shapes.append(joined(" ".join(texts), "say "))
    text = f"{agent} model " + ("; ".join(parts) if parts else "call")
    return text, tool, call_id, SEPARATOR.join(shapes) or "call"


def _span_event(span: dict[str, Any]) -> dict[str, Any] | None:
    data = _obj(span.get("span_data"))
    data = data if isinstance(data, dict) else {}
    kind = str(span.get("span_type") or data.get("type") or "other")
    agent = _str(span.get("agent_name")) or _str(data.get("from_agent")) or _str(data.get("name")) or "unknown"
    tool = call_id = source = target = None
    marker = ""
    shape = kind
    if kind == "custom":
        inner: dict[str, Any] = data["data"] if isinstance(data.get("data"), dict) else {}
        sub = str(inner.get("sdk_span_type") or data.get("name") or "")
        if sub in STRUCTURAL_CUSTOM:
            return None
        said = inner.get("text")
        text = f"{agent} {sub or 'custom step'}" + (f": {_clip(scrub(str(said)), 200)}" if said else "")
        shape = sub or "custom"
    elif kind == "agent":
        tools = data.get("tools") or []
        text = f"agent {data.get('name') or agent} starts (tools: {', '.join(map(str, tools)) or 'none'})"
        shape = "start"
    elif kind in ("generation", "response"):
        text, tool, call_id, shape = _generation_text(agent, data)
    elif kind == "function":
        tool, call_id = _str(data.get("name")) or _str(data.get("tool_name")), _str(data.get("call_id"))
        marker = tool_marker(data.get("output"))
        text = f"{agent} tool {tool} -> {_compact(data.get('output'))}"
        shape = joined(data.get("output"))
    elif kind == "handoff":
        source, target = _str(data.get("from_agent")) or agent, _str(data.get("to_agent"))
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
        text += f" ERROR {_clip(scrub(str(message)), 120)}"
    if not marker and (found := text_marker(_full_text(kind, data))):
        marker = f"text_{found}"
    return {
        "event_id": _str(span.get("span_id")),
        "parent_id": _str(span.get("parent_span_id")),
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
    payload = _obj(event.get("payload"))
    payload = payload if isinstance(payload, dict) else {}
    kind = str(event.get("event_type"))
    agent = _str(payload.get("active_agent")) or _str(event.get("agent_name")) or "system"
    marker = ""
    if kind == "status":
        terminal = _str(payload.get("terminal_state"))
        validation = _str(payload.get("validation_outcome"))
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
        "event_id": _str(event.get("event_id")),
        "parent_id": _str(event.get("span_id")),
        "ts": _ts(event.get("timestamp")),
        "node_kind": kind if kind in KIND_PRIORITY else "log",
        "agent_name": agent,
        "tool_name": None,
        "call_id": None,
        "source_agent": _str(event.get("source_agent")),
        "target_agent": _str(event.get("target_agent")),
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
    span_end = {str(s.get("span_id")): _ts(s.get("ended_at")) for s in bundle.get("spans") or [] if isinstance(s, dict)}
    trace_end = _ts((bundle.get("trace") or {}).get("ended_at") or (bundle.get("run") or {}).get("updated_at"))
    for i, finding in enumerate(collect_findings(bundle), start=1):
        severity = str(finding.get("severity") or "warning")
        cited = _str(finding.get("span_id"))
        events.append(
            {
                "event_id": f"finding::{i}",
                "parent_id": cited if cited in span_end else None,
                "ts": span_end.get(cited or "", "") or trace_end,
                "node_kind": "finding",
                "agent_name": _str(finding.get("agent_name")) or "review",
                "tool_name": None,
                "call_id": None,
                "source_agent": None,
                "target_agent": None,
                "marker": f"finding_{severity}" if severity in ("error", "warning") else "",
                "text": f"finding {finding.get('code')} ({severity}) by {finding.get('agent_name')}: "
                f"{_clip(scrub(str(finding.get('message') or '')), 200)}",
                "shape": f"code={finding.get('code')} ; severity={severity}",
                "finding_code": _str(finding.get("code")),
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


def _first(*values: Any) -> Any:
    """First value that is not None (a real 0, False or [] counts)."""
    return next((v for v in values if v is not None), None)


def trace_row(
    bundle: dict[str, Any], events: list[dict[str, Any]], run_row: dict[str, Any] | None, source: str
) -> dict[str, Any]:
    """One trace-table row: identity, outcome, context slices, counters and findings."""
    run = bundle.get("run") or {}
    summary = run.get("summary") or {}
    config = run.get("config") or {}
    trace = bundle.get("trace") or {}
    meta = _obj(trace.get("metadata_json"))
    meta = meta if isinstance(meta, dict) else {}
    row = run_row or {}
    findings = collect_findings(bundle)
    ranked = sorted(findings, key=lambda f: FINDING_RANK.get(str(f.get("severity")), 3))
    serious = [f for f in findings if str(f.get("severity")) in ("error", "warning")]
    status = str(_first(run.get("status"), summary.get("terminal_state"), row.get("status"), "unknown"))
    kinds = [e["node_kind"] for e in events]

    def pick(key: str, default: Any = None) -> Any:
        return _first(summary.get(key), meta.get(key), row.get(key), default)

    decision: dict[str, Any] = summary["final_decision"] if isinstance(summary.get("final_decision"), dict) else {}
    return {
        "run_id": str(run.get("run_id")),
        "source": source,
        "case_type": str(pick("scenario_family", "unknown")),
        "run_outcome": status,
        "terminal_state": str(pick("terminal_state", status)),
        "severity_weight": OUTCOME_SEVERITY.get(status, UNKNOWN_SEVERITY),
        "agent_version_set": str(pick("agent_version_set", "unknown")),
        "orchestrator_mode": str(pick("orchestrator_mode", "canonical")),
        "market_regime": str(pick("market_regime", "unknown")),
        "price_regime": str(pick("price_regime", "unknown")),
        "schedule_regime": str(pick("schedule_regime", "unknown")),
        "rogue_window_id": pick("rogue_window_id"),
        "simulation_date": pick("simulation_date"),
        "customer_region": _first((config.get("customer") or {}).get("region"), row.get("customer_region")),
        "vehicle_model": (config.get("vehicle") or {}).get("model"),
        "validation_outcome": pick("validation_outcome"),
        "review_status": str(pick("review_status", "not_required")),
        "selected_route": pick("selected_route"),
        "final_decision": decision.get("decision"),
        "decided_by": decision.get("decided_by"),
        "loop_count": int(_first(summary.get("loop_count"), row.get("loop_count"), 0) or 0),
        "retry_count": int(_first(summary.get("retry_count"), row.get("retry_count"), 0) or 0),
        "arbitration_count": int(_first(summary.get("arbitration_count"), row.get("arbitration_count"), 0) or 0),
        "specialists": list(pick("specialist_activations", []) or []),
        "environment_event_ids": list(pick("environment_event_ids", []) or []),
        "findings_count": len(findings),
        "serious_findings_count": len(serious),
        "finding_codes": [str(f.get("code")) for f in findings],
        "finding_agents": sorted({str(f.get("agent_name")) for f in findings if f.get("agent_name")}),
        "primary_finding": str(ranked[0].get("code")) if ranked else None,
        "has_error_finding": any(str(f.get("severity")) == "error" for f in findings),
        "event_count": len(events),
        "span_count": len(bundle.get("spans") or []),
        "handoff_count": kinds.count("handoff"),
        "tool_call_count": kinds.count("function"),
        "agent_count": len({e["agent_name"] for e in events}),
        "marker_count": sum(1 for e in events if e["marker"]),
        "started_at": trace.get("started_at"),
        "ended_at": trace.get("ended_at"),
        "user_anchor": _str(summary.get("anchor_step")),
    }


EVENT_COLUMNS = [
    "run_id",
    "seq",
    "event_id",
    "parent_id",
    "ts",
    "node_kind",
    "agent_name",
    "tool_name",
    "call_id",
    "source_agent",
    "target_agent",
    "marker",
    "text",
    "shape",
    "finding_code",
    "finding_severity",
]


@dataclass
class Normalized:
    traces: pd.DataFrame
    events: pd.DataFrame
    aliases: pd.DataFrame  # run_id, alias, event_id: log entries that point at a span row


def normalize(
    items: Iterable[tuple[str, dict[str, Any]]], run_rows: dict[str, dict[str, Any]] | None = None
) -> Normalized:
    """Build the trace and event tables from (source, bundle) pairs; later duplicates of a run id lose."""
    run_rows = run_rows or {}
    traces: list[dict[str, Any]] = []
    columns: dict[str, list[Any]] = {c: [] for c in EVENT_COLUMNS}
    seen: set[str] = set()
    aliases: list[tuple[str, str, str]] = []
    for source, bundle in items:
        run_id = str((bundle.get("run") or {}).get("run_id"))
        if run_id in seen:
            continue
        seen.add(run_id)
        events = bundle_events(bundle, run_id)
        traces.append(trace_row(bundle, events, run_rows.get(run_id), source))
        aliases.extend((run_id, a, e) for a, e in log_aliases(bundle))
        for col, values in columns.items():
            values.extend(e.get(col) for e in events)
    trace_df = pd.DataFrame(traces)
    if not trace_df.empty:
        trace_df = trace_df.sort_values("run_id", kind="stable").reset_index(drop=True)
    event_df = pd.DataFrame(columns)
    event_df["seq"] = event_df["seq"].astype("int64")
    for col in ("marker", "text", "shape", "agent_name"):
        event_df[col] = event_df[col].fillna("").astype(str)
    for col in (
        "tool_name",
        "call_id",
        "source_agent",
        "target_agent",
        "parent_id",
        "finding_code",
        "finding_severity",
    ):
        event_df[col] = event_df[col].astype(object).where(event_df[col].notna(), None)
    alias_df = pd.DataFrame(aliases, columns=["run_id", "alias", "event_id"])
    return Normalized(trace_df, event_df, alias_df)
