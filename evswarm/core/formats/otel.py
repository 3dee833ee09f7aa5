"""OpenTelemetry / OpenInference JSON spans -> canonical traces (one per trace id).

Accepts an OTLP JSON export (`resourceSpans`), or a flat list of spans (OTLP field names, snake_case, or
the Python SDK's `to_json()` shape with `context`). LLM spans (OpenInference `llm.output_messages.*`,
GenAI `gen_ai.completion.*` or `gen_ai.output.messages`) give reasoning, calls and messages; TOOL /
`execute_tool` spans give results, paired by tool call id. Spans with neither convention are counted in
the trace's metadata (`ignored_spans`), not dropped silently; a trace with no such span is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evswarm.core.formats.common import (
    ImportFormatError,
    as_text,
    first_str,
    get_dict,
    get_list,
    opt_str,
    type_name,
)
from evswarm.core.limits import MAX_STEPS, loads_bounded
from evswarm.core.steps import Step, StepKind, Trace


@dataclass
class _Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start: tuple[float, str]
    attrs: dict[str, Any]
    error: str | None
    service: str | None


def _any_value(value: Any, where: str) -> Any:
    """An OTLP AnyValue as a plain value (an intValue that is not an integer stays as given)."""
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        raw = value["intValue"]
        text = raw if isinstance(raw, str) else None
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if text is not None and text.lstrip("-").isascii() and text.lstrip("-").isdigit() and len(text) <= 20:
            return int(text)
        return raw
    if "arrayValue" in value:
        items = get_list(get_dict(value, "arrayValue", where), "values", f"{where}.arrayValue")
        return [_any_value(v, f"{where}.arrayValue.values[{i}]") for i, v in enumerate(items)]
    if "kvlistValue" in value:
        return _attributes(get_dict(value, "kvlistValue", where).get("values"), f"{where}.kvlistValue.values")
    return value


def _attributes(raw: Any, where: str) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, list):
        return {
            str(a.get("key")): _any_value(a.get("value"), f"{where}[{i}].value")
            for i, a in enumerate(raw)
            if isinstance(a, dict)
        }
    return {}


def _time(value: Any) -> tuple[float, str]:
    try:
        return (float(value), "")
    except (TypeError, ValueError):
        return (0.0, str(value or ""))


def _error(span: dict[str, Any]) -> str | None:
    status = span.get("status") or {}
    if not isinstance(status, dict):
        return None
    code = (opt_str(status.get("code", status.get("status_code"))) or "").upper()
    if code in ("2", "STATUS_CODE_ERROR", "ERROR"):
        return as_text(status.get("message") or status.get("description") or "error")
    return None


def _span(raw: Any, service: str | None, where: str) -> _Span:
    if not isinstance(raw, dict):
        raise ImportFormatError(f"{where}: expected a span object")
    context: dict[str, Any] = raw["context"] if isinstance(raw.get("context"), dict) else {}
    trace_id = first_str(raw, "traceId", "trace_id") or first_str(context, "trace_id")
    span_id = first_str(raw, "spanId", "span_id") or first_str(context, "span_id")
    if not trace_id or not span_id:
        raise ImportFormatError(f"{where}: a span needs a trace id and a span id")
    return _Span(
        trace_id=trace_id.removeprefix("0x"),
        span_id=span_id.removeprefix("0x"),
        parent_id=(first_str(raw, "parentSpanId", "parent_span_id", "parent_id") or "").removeprefix("0x") or None,
        name=opt_str(raw.get("name")) or "",
        start=_time(raw.get("startTimeUnixNano", raw.get("start_time_unix_nano", raw.get("start_time")))),
        attrs=_attributes(raw.get("attributes"), f"{where}.attributes"),
        error=_error(raw),
        service=service,
    )


def _objects(items: list[Any], where: str) -> list[dict[str, Any]]:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ImportFormatError(f"`{where}[{index}]`: expected an object, found {type_name(item)}")
    return items


def collect_spans(payload: Any) -> list[_Span]:
    """All spans of an OTLP export or a flat span list."""
    spans: list[_Span] = []
    if isinstance(payload, dict) and "resourceSpans" in payload:
        for r_index, resource_spans in enumerate(_objects(get_list(payload, "resourceSpans", "$"), "resourceSpans")):
            r_where = f"resourceSpans[{r_index}]"
            resource = get_dict(resource_spans, "resource", r_where)
            service = opt_str(_attributes(resource.get("attributes"), f"{r_where}.resource").get("service.name"))
            scopes = _objects(get_list(resource_spans, "scopeSpans", r_where), f"{r_where}.scopeSpans")
            for s_index, scope in enumerate(scopes):
                s_where = f"{r_where}.scopeSpans[{s_index}]"
                for index, raw in enumerate(get_list(scope, "spans", s_where)):
                    spans.append(_span(raw, service, f"{s_where}.spans[{index}]"))
                    if len(spans) > MAX_STEPS:
                        raise ImportFormatError(f"more than {MAX_STEPS:,} spans in one payload")
    else:
        items = get_list(payload, "spans", "$") if isinstance(payload, dict) else payload
        if not isinstance(items, list):
            raise ImportFormatError(f"expected a list of spans, found {type_name(items)}")
        if len(items) > MAX_STEPS:
            raise ImportFormatError(f"`spans`: {len(items):,} spans, more than the {MAX_STEPS:,} allowed")
        for index, raw in enumerate(items):
            spans.append(_span(raw, None, f"spans[{index}]"))
    if not spans:
        raise ImportFormatError("the OpenTelemetry payload holds no spans")
    return spans


def _indexed(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """`prefix.0.role`, `prefix.0.content`, ... -> [{role, content}, ...] in index order."""
    groups: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        if key.startswith(prefix):
            number, _, rest = key[len(prefix) :].partition(".")
            if number.isascii() and number.isdigit() and len(number) <= 9:
                groups.setdefault(int(number), {})[rest] = value
    return [groups[n] for n in sorted(groups)]


def _kind(span: _Span) -> str | None:
    attrs = span.attrs
    oi_kind = str(attrs.get("openinference.span.kind", "")).upper()
    operation = str(attrs.get("gen_ai.operation.name", ""))
    keys = list(attrs)
    if (
        oi_kind == "LLM"
        or operation in ("chat", "text_completion", "generate_content")
        or any(k.startswith(("llm.output_messages.", "gen_ai.completion.", "gen_ai.output.messages")) for k in keys)
    ):
        return "llm"
    if oi_kind == "TOOL" or operation == "execute_tool" or "tool.name" in attrs or "gen_ai.tool.name" in attrs:
        return "tool"
    if oi_kind == "AGENT" or operation in ("invoke_agent", "create_agent") or "gen_ai.agent.name" in attrs:
        return "agent"
    if oi_kind in ("CHAIN", "RETRIEVER", "EMBEDDING", "RERANKER", "GUARDRAIL", "EVALUATOR"):
        return "chain"
    return None


def _llm_outputs(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    """Output messages as [{role, content, reasoning, calls: [{id, name, arguments}]}]."""
    messages: list[dict[str, Any]] = []
    for group in _indexed(attrs, "llm.output_messages."):
        calls = [
            {
                "id": c.get("tool_call.id"),
                "name": c.get("tool_call.function.name"),
                "arguments": c.get("tool_call.function.arguments"),
            }
            for c in _indexed(group, "message.tool_calls.")
        ]
        messages.append({"role": group.get("message.role"), "content": group.get("message.content"), "calls": calls})
    for group in _indexed(attrs, "gen_ai.completion."):
        calls = [
            {"id": c.get("id"), "name": c.get("name"), "arguments": c.get("arguments")}
            for c in _indexed(group, "tool_calls.")
        ]
        messages.append({"role": group.get("role"), "content": group.get("content"), "calls": calls})
    raw = attrs.get("gen_ai.output.messages")
    if isinstance(raw, str):
        raw = loads_bounded(raw, max_chars=len(raw))  # bounded in depth; the body limit bounds its size
    for message in raw if isinstance(raw, list) else []:
        if not isinstance(message, dict):
            continue
        parts_value = message.get("parts")
        parts = [p for p in parts_value if isinstance(p, dict)] if isinstance(parts_value, list) else []
        messages.append(
            {
                "role": message.get("role"),
                "content": "\n".join(as_text(p.get("content", "")) for p in parts if p.get("type") == "text"),
                "reasoning": "\n".join(as_text(p.get("content", "")) for p in parts if p.get("type") == "reasoning"),
                "calls": [p for p in parts if p.get("type") == "tool_call"],
            }
        )
    if not messages and attrs.get("output.value") is not None:
        messages.append({"role": "assistant", "content": attrs.get("output.value"), "calls": []})
    return messages


class _TraceBuilder:
    def __init__(self, spans: list[_Span]) -> None:
        self.spans = sorted(spans, key=lambda s: s.start)
        self.by_id = {s.span_id: s for s in spans}
        self.steps: list[Step] = []
        self.open_calls: dict[str, Step] = {}
        self.ignored = 0

    def agent_of(self, span: _Span) -> str | None:
        current: _Span | None = span
        for _ in range(64):
            if current is None:
                break
            name = first_str(current.attrs, "agent.name", "gen_ai.agent.name")
            if name:
                return name
            if _kind(current) == "agent" and current.name:
                return current.name
            current = self.by_id.get(current.parent_id or "")
        return span.service

    def llm(self, span: _Span, agent: str | None) -> None:
        for m_index, message in enumerate(_llm_outputs(span.attrs)):
            base = f"{span.span_id}.{m_index}"
            common = {"agent": agent, "group": span.span_id, "span_id": span.span_id}
            if message.get("reasoning"):
                self.steps.append(
                    Step(
                        step_id=f"{base}.reasoning",
                        kind=StepKind.REASONING,
                        text=as_text(message["reasoning"]),
                        **common,
                    )
                )
            calls = message.get("calls") or []
            content = message.get("content")
            if content:
                kind = StepKind.REASONING if calls else StepKind.MESSAGE
                self.steps.append(Step(step_id=base, kind=kind, label="assistant", text=as_text(content), **common))
            for c_index, call in enumerate(calls):
                call_id = opt_str(call.get("id")) or f"{base}.call{c_index}"
                step = Step(
                    step_id=f"{base}.call{c_index}",
                    kind=StepKind.TOOL_CALL,
                    tool=opt_str(call.get("name")) or "tool",
                    arguments=as_text(call.get("arguments")),
                    call_id=call_id,
                    **common,
                )
                self.open_calls[call_id] = step
                self.steps.append(step)

    def tool(self, span: _Span, agent: str | None) -> None:
        attrs = span.attrs
        name = first_str(attrs, "tool.name", "gen_ai.tool.name") or span.name
        call_id = first_str(attrs, "tool_call.id", "gen_ai.tool.call.id", "tool.call_id")
        if call_id is None or call_id not in self.open_calls:
            arguments = attrs.get("input.value", attrs.get("tool.parameters", attrs.get("gen_ai.tool.call.arguments")))
            call_id = call_id or f"{span.span_id}.call"
            self.steps.append(
                Step(
                    step_id=f"{span.span_id}.call",
                    kind=StepKind.TOOL_CALL,
                    agent=agent,
                    tool=name,
                    arguments=as_text(arguments),
                    call_id=call_id,
                    span_id=span.span_id,
                )
            )
        self.open_calls.pop(call_id, None)
        output = attrs.get("output.value", attrs.get("gen_ai.tool.call.result"))
        self.steps.append(
            Step(
                step_id=span.span_id,
                kind=StepKind.TOOL_RESULT,
                agent=agent,
                tool=name,
                text=as_text(output),
                call_id=call_id,
                span_id=span.span_id,
                error=span.error,
            )
        )

    def build(self) -> tuple[list[Step], str]:
        for span in self.spans:
            kind = _kind(span)
            agent = self.agent_of(span)
            if kind == "llm":
                self.llm(span, agent)
            elif kind == "tool":
                self.tool(span, agent)
            elif kind is None:
                self.ignored += 1
            if span.error and kind != "tool":
                self.steps.append(
                    Step(
                        step_id=f"{span.span_id}.error",
                        kind=StepKind.ERROR,
                        agent=agent,
                        label=span.name or "error",
                        text=span.error,
                        span_id=span.span_id,
                    )
                )
        if self.ignored == len(self.spans):
            found = sorted({k for s in self.spans for k in s.attrs})[:12]
            raise ImportFormatError(
                f"no OpenInference or GenAI spans among {len(self.spans)} span(s) "
                f"(attribute keys seen: {found}); "
                "expected `openinference.span.kind` or `gen_ai.*` attributes"
            )
        return self.steps, self.answer()

    def answer(self) -> str:
        for step in reversed(self.steps):
            if step.kind in (StepKind.TOOL_CALL, StepKind.TOOL_RESULT):
                break
            if step.kind is StepKind.MESSAGE:
                step.kind = StepKind.ANSWER
                return "last LLM message with no tool call after it"
        roots = [s for s in self.spans if s.parent_id not in self.by_id]
        for root in roots[::-1]:
            if root.attrs.get("output.value") is not None and _kind(root) != "llm":
                self.steps.append(
                    Step(
                        step_id=f"{root.span_id}.output",
                        kind=StepKind.ANSWER,
                        agent=self.agent_of(root),
                        text=as_text(root.attrs["output.value"]),
                        span_id=root.span_id,
                    )
                )
                return "root span output.value"
        return "none"


def read_otel(payload: Any) -> list[Trace]:
    """One canonical trace per trace id in the payload."""
    by_trace: dict[str, list[_Span]] = {}
    for span in collect_spans(payload):
        by_trace.setdefault(span.trace_id, []).append(span)
    traces = []
    for trace_id, spans in by_trace.items():
        builder = _TraceBuilder(spans)
        steps, answer_source = builder.build()
        roots = [s for s in builder.spans if s.parent_id not in builder.by_id]
        root = roots[0] if roots else builder.spans[0]
        attrs = root.attrs
        traces.append(
            Trace(
                trace_id=trace_id,
                source_format="otel",
                title=root.name,  # a string: _span made it one
                task=as_text(attrs.get("input.value", "")) if _kind(root) != "llm" else "",
                case_type=first_str(attrs, "evswarm.case_type", "case_type"),
                outcome=first_str(attrs, "evswarm.outcome", "outcome") or ("failed" if root.error else None),
                version_set=first_str(attrs, "evswarm.version_set", "version_set", "service.version"),
                metadata={"service": root.service, "spans": len(spans), "ignored_spans": builder.ignored},
                answer_source=answer_source,
                steps=steps,
            )
        )
    return traces
