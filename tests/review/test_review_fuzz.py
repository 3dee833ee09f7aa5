"""Fuzzing each import format with type-confused JSON (Hypothesis), deep nesting and huge strings.

Every mutated payload goes to the webhook (which must answer 2xx or 4xx, never 500) and, as a file, to
the inbox reader (which must never raise, and must record an import error exactly when the webhook
refused the payload). At the end the watcher must still ingest a good file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .bundles import make_bundle
from .helpers import json_auth, wait_until
from .test_review_api import POTATO

DEEP = "__DEEP_NESTING__"
DEEP_STRING = "__DEEP_JSON_STRING__"

CHAT = {
    "id": "fuzz-chat",
    "title": "fuzzed chat",
    "metadata": {"case_type": "weather", "outcome": "completed"},
    "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "weather?"}]},
        {
            "role": "assistant",
            "name": "Planner",
            "content": "checking",
            "reasoning_content": "need a tool",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "name": "weather", "content": '{"sky": "sun"}'},
        {"role": "assistant", "content": "sunny"},
    ],
}


def _attr(key: str, value: Any) -> dict[str, Any]:
    kind = "intValue" if isinstance(value, int) else "stringValue"
    return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}


OTEL = {
    "resourceSpans": [
        {
            "resource": {"attributes": [_attr("service.name", "svc")]},
            "scopeSpans": [
                {
                    "spans": [
                        {
                            "traceId": "fuzz-otel",
                            "spanId": "a1",
                            "name": "agent",
                            "startTimeUnixNano": "1",
                            "status": {"code": "2", "message": "failed"},
                            "attributes": [_attr("openinference.span.kind", "AGENT"), _attr("agent.name", "P")],
                        },
                        {
                            "traceId": "fuzz-otel",
                            "spanId": "b1",
                            "parentSpanId": "a1",
                            "name": "llm",
                            "startTimeUnixNano": "2",
                            "attributes": [
                                _attr("openinference.span.kind", "LLM"),
                                _attr("llm.output_messages.0.message.role", "assistant"),
                                _attr("llm.output_messages.0.message.content", "need stock"),
                                _attr("llm.output_messages.0.message.tool_calls.0.tool_call.id", "t1"),
                                _attr("llm.output_messages.0.message.tool_calls.0.tool_call.function.name", "s"),
                                _attr(
                                    "gen_ai.output.messages",
                                    json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "x"}]}]),
                                ),
                                {"key": "list", "value": {"arrayValue": {"values": [{"intValue": "3"}]}}},
                            ],
                        },
                        {
                            "traceId": "fuzz-otel",
                            "spanId": "c1",
                            "parentSpanId": "a1",
                            "name": "tool",
                            "startTimeUnixNano": "3",
                            "attributes": [
                                _attr("openinference.span.kind", "TOOL"),
                                _attr("tool.name", "s"),
                                _attr("tool_call.id", "t1"),
                                _attr("output.value", "12"),
                            ],
                        },
                    ]
                }
            ],
        }
    ]
}

SPAN_LIST = {
    "spans": [
        {
            "trace_id": "fuzz-flat",
            "span_id": "s1",
            "name": "chat",
            "start_time": "2025-01-01T00:00:00Z",
            "attributes": {
                "gen_ai.operation.name": "chat",
                "gen_ai.completion.0.role": "assistant",
                "gen_ai.completion.0.content": "hello",
                "gen_ai.completion.0.tool_calls.0.name": "f",
            },
        }
    ]
}

STEPS = {
    **POTATO,
    "id": "fuzz-steps",
    "steps": [
        {"thought": "search", "action": {"tool": "search", "params": {"q": "ev"}}, "observation": "3"},
        {"step_type": "action", "content": "lookup(x=1)", "tool": "lookup"},
        "I should answer now",
    ],
}

BUNDLE = make_bundle("run_" + "f" * 32)

SAMPLES = {"openai": CHAT, "otel": OTEL, "otel-span-list": SPAN_LIST, "potato": POTATO, "potato-steps": STEPS}
SAMPLES["evswarm"] = BUNDLE

# Leaves of any JSON type, so that a mutation confuses types; plus the hostile specials.
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from([DEEP, DEEP_STRING, "x" * 1_200_000, "{", "[1, 2", '{"a": [1, {"b": null}]}', "2"])
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*path, index))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict) and head in value:
        return {**value, head: _replace(value[head], rest, new)}
    if isinstance(value, list) and isinstance(head, int) and head < len(value):
        return [*value[:head], _replace(value[head], rest, new), *value[head + 1 :]]
    return value  # an earlier mutation changed the shape here


@st.composite
def mutated(draw: st.DrawFn, sample: Any) -> bytes:
    """`sample` with one to three of its values (at any depth) replaced by arbitrary JSON, as bytes."""
    paths = list(_paths(sample))[1:][::-1]  # never the root; leaves first (Hypothesis favours early items)
    value = sample
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        value = _replace(value, draw(st.sampled_from(paths)), draw(VALUES))
    raw = json.dumps(value)
    raw = raw.replace(json.dumps(DEEP), "[" * 400 + "]" * 400)
    return raw.replace(json.dumps(DEEP_STRING), json.dumps("[" * 900 + "]" * 900)).encode()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_type_confused_payloads_never_break_the_webhook_or_the_inbox(make_client, batch: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    state = client.app.state.review
    inbox = batch / "inbox"
    drop = batch / "fuzz"  # read by the inbox's reader, but not watched: no race with the watcher
    drop.mkdir()
    counter = iter(range(10**6))
    statuses: list[int] = []

    @settings(
        max_examples=100,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(raw=mutated(SAMPLES[name]))
    def check(raw: bytes) -> None:
        response = client.post("/api/traces", content=raw, headers=json_auth())
        statuses.append(response.status_code)
        assert response.status_code in (200, 201, 400, 409, 413, 422), response.text
        if response.status_code >= 400:
            assert response.json()["detail"]
        path = drop / f"{name}-{next(counter)}.json"
        path.write_bytes(raw)
        state.ingestor.ingest_file(path, root=drop)  # must not raise
        recorded = [e for e in state.store.errors(limit=5) if e["source"] == str(path)]
        assert bool(recorded) == (response.status_code >= 400), (response.status_code, recorded)

    check()
    assert any(s >= 400 for s in statuses) and len(statuses) >= 100
    good = {**POTATO, "id": f"alive-after-{name}"}
    (inbox / f"zz-alive-{name}.json").write_text(json.dumps(good))
    wait_until(
        lambda: client.get(f"/api/traces/alive-after-{name}", headers=json_auth()).status_code == 200,
        what="the watcher to ingest a good file after the fuzzing",
    )
