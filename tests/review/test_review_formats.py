"""Every import format becomes the same canonical steps, and the panes are built from them."""

from __future__ import annotations

import json

import pytest

from evswarm.core.formats import ImportFormatError, to_traces
from evswarm.core.steps import StepKind
from evswarm.review.panes import build_panes

from .bundles import FINAL_DECISION, make_bundle


def kinds(trace) -> list[str]:  # type: ignore[no-untyped-def]
    return [step.kind.value for step in trace.steps]


def test_bundle_steps_come_from_the_span_tree_with_results_paired_by_call_id() -> None:
    (trace,) = to_traces(make_bundle(case_type="pricing_exception_compound", version_set="v2"))
    assert trace.source_format == "evswarm"
    assert (trace.case_type, trace.version_set, trace.outcome) == (
        "pricing_exception_compound",
        "v2",
        "completed",
    )
    panes = build_panes(trace)
    quote = next(card for card in panes["calls"] if card["tool"] == "compute_quote")
    assert quote["agent"] == "PricingAgent"
    assert [json.loads(r["text"])["total"] for r in quote["results"]] == [48250.0]
    # the reasoning that led to the call shares its step number
    pricing_thought = next(c for c in panes["reasoning"] if "federal incentive" in c["text"])
    assert pricing_thought["cycle"] == quote["cycle"]
    handoffs = [card for card in panes["calls"] if card["kind"] == "handoff"]
    assert [h["tool"] for h in handoffs] == ["transfer_to_pricing_agent", "transfer_to_orchestrator"]
    assert "to PricingAgent" in handoffs[0]["results"][0]["text"]


def test_bundle_final_answer_is_the_last_message_and_carries_the_final_decision() -> None:
    (trace,) = to_traces(make_bundle())
    panes = build_panes(trace)
    answer = panes["answer"]
    assert answer["data"]["decision"] == "release"
    assert answer["agent"] == "Orchestrator"
    assert trace.answer_source == "final message of Orchestrator"
    # linked to the reasoning of the same model turn
    last_thought = panes["reasoning"][-1]
    assert "releasing the order" in last_thought["text"] and last_thought["cycle"] == answer["cycle"]
    assert all(card["kind"] != "answer" for card in panes["reasoning"] + panes["calls"])


def test_bundle_without_final_message_falls_back_to_run_summary_final_decision() -> None:
    (trace,) = to_traces(make_bundle(with_final_message=False))
    assert trace.answer_source.startswith("run.summary.final_decision")
    assert build_panes(trace)["answer"]["data"] == FINAL_DECISION


def test_invalid_bundle_is_refused_naming_the_field() -> None:
    bundle = make_bundle()
    del bundle["run"]["summary"]["scenario_family"]
    with pytest.raises(ImportFormatError, match="scenario_family"):
        to_traces(bundle)


def test_potato_speaker_text_steps_map_to_panes_without_keyword_traps() -> None:
    payload = {
        "id": "potato-1",
        "task_description": "weather",
        "trace": [
            {"speaker": "Agent (Thought)", "text": "I need the weather."},
            {"speaker": "Agent (Action)", "text": "get_weather(city='Paris')"},
            {"speaker": "Tool Response", "text": "sunny"},
            {"speaker": "Tool Error", "text": "rate limited"},
            {"speaker": "Agent (Final Answer)", "text": "It is sunny in Paris."},
        ],
    }
    (trace,) = to_traces(payload)
    assert trace.trace_id == "potato-1" and trace.title == "weather"
    assert kinds(trace) == ["reasoning", "tool_call", "tool_result", "error", "answer"]
    panes = build_panes(trace)
    assert panes["calls"][0]["tool"] == "get_weather"
    assert [r["text"] for r in panes["calls"][0]["results"]] == ["sunny"]
    assert panes["answer"]["text"] == "It is sunny in Paris."
    assert trace.answer_source == "explicit final-answer step"


def test_potato_thought_action_observation_and_step_type_shapes() -> None:
    triples = [
        {
            "thought": "search first",
            "action": {"tool": "search", "params": {"q": "ev"}},
            "observation": "3 results",
        },
        {"thought": "done", "action": "finish(answer='EVs are great')"},
    ]
    (trace,) = to_traces({"id": "tao", "steps": triples})
    assert kinds(trace) == ["reasoning", "tool_call", "tool_result", "reasoning", "answer"]
    assert json.loads(trace.steps[1].arguments or "") == {"q": "ev"}
    typed = [
        {"step_type": "thought", "content": "plan"},
        {"step_type": "action", "content": "lookup(x=1)"},
        {"step_type": "observation", "content": "found"},
        {"step_type": "critique", "content": "hmm"},
        {"step_type": "final_answer", "content": "42"},
    ]
    (trace,) = to_traces({"id": "typed", "steps": typed})
    assert kinds(trace) == ["reasoning", "tool_call", "tool_result", "reasoning", "answer"]
    assert trace.steps[3].label == "critique"  # an unknown type is kept and labelled, not dropped


def test_potato_unknown_step_is_an_error_naming_its_index() -> None:
    with pytest.raises(ImportFormatError, match="step 1"):
        to_traces({"id": "bad", "trace": [{"speaker": "A", "text": "ok"}, {"foo": 1}]})


def test_openai_parallel_tool_calls_pair_results_by_id_and_answer_is_last_reply() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": "I'll check both.",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                },
                {
                    "id": "c2",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Rome"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "c2", "content": "Rome: rain"},
        {"role": "tool", "tool_call_id": "c1", "content": "Paris: sun"},
        {"role": "assistant", "content": "Paris is sunny, Rome is rainy."},
    ]
    (trace,) = to_traces({"id": "chat-1", "messages": messages, "metadata": {"case_type": "weather"}})
    assert trace.case_type == "weather"
    panes = build_panes(trace)
    by_city = {json.loads(c["arguments"])["city"]: [r["text"] for r in c["results"]] for c in panes["calls"]}
    assert by_city == {"Paris": ["Paris: sun"], "Rome": ["Rome: rain"]}
    assert panes["answer"]["text"] == "Paris is sunny, Rome is rainy."
    thought = next(c for c in panes["reasoning"] if c["text"] == "I'll check both.")
    assert {c["cycle"] for c in panes["calls"]} == {thought["cycle"]}


def _otlp(trace_id: str, spans: list[dict]) -> dict:  # type: ignore[type-arg]
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                "scopeSpans": [{"spans": spans}],
            }
        ]
    }


def _attrs(values: dict) -> list[dict]:  # type: ignore[type-arg]
    return [
        {"key": k, "value": {"stringValue": v} if isinstance(v, str) else {"intValue": str(v)}}
        for k, v in values.items()
    ]


def test_otlp_openinference_spans_become_reasoning_calls_and_answer() -> None:
    trace_id = "5b8efff798038103d269b633813fc60c"
    spans = [
        {
            "traceId": trace_id,
            "spanId": "a1",
            "name": "agent run",
            "startTimeUnixNano": "1",
            "attributes": _attrs({"openinference.span.kind": "AGENT", "agent.name": "Planner"}),
        },
        {
            "traceId": trace_id,
            "spanId": "b1",
            "parentSpanId": "a1",
            "name": "llm",
            "startTimeUnixNano": "2",
            "attributes": _attrs(
                {
                    "openinference.span.kind": "LLM",
                    "llm.output_messages.0.message.role": "assistant",
                    "llm.output_messages.0.message.content": "Need stock data.",
                    "llm.output_messages.0.message.tool_calls.0.tool_call.id": "t1",
                    "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "stock",
                    "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"s": 1}',
                }
            ),
        },
        {
            "traceId": trace_id,
            "spanId": "c1",
            "parentSpanId": "a1",
            "name": "tool",
            "startTimeUnixNano": "3",
            "attributes": _attrs(
                {
                    "openinference.span.kind": "TOOL",
                    "tool.name": "stock",
                    "tool_call.id": "t1",
                    "output.value": "12 units",
                }
            ),
        },
        {
            "traceId": trace_id,
            "spanId": "d1",
            "parentSpanId": "a1",
            "name": "http",
            "startTimeUnixNano": "4",
            "attributes": _attrs({"http.method": "GET"}),
        },
        {
            "traceId": trace_id,
            "spanId": "e1",
            "parentSpanId": "a1",
            "name": "llm",
            "startTimeUnixNano": "5",
            "attributes": _attrs(
                {
                    "openinference.span.kind": "LLM",
                    "llm.output_messages.0.message.role": "assistant",
                    "llm.output_messages.0.message.content": "12 units in stock.",
                }
            ),
        },
    ]
    (trace,) = to_traces(_otlp(trace_id, spans))
    assert trace.trace_id == trace_id
    assert trace.metadata["ignored_spans"] == 1  # counted, not dropped silently
    panes = build_panes(trace)
    assert panes["calls"][0]["tool"] == "stock" and panes["calls"][0]["results"][0]["text"] == "12 units"
    assert panes["calls"][0]["agent"] == "Planner"
    assert panes["answer"]["text"] == "12 units in stock."


def test_flat_genai_spans_are_accepted() -> None:
    spans = [
        {
            "trace_id": "t-9",
            "span_id": "s1",
            "name": "chat",
            "start_time": "2025-01-01T00:00:00Z",
            "attributes": {
                "gen_ai.operation.name": "chat",
                "gen_ai.completion.0.role": "assistant",
                "gen_ai.completion.0.content": "Hello there.",
            },
        }
    ]
    (trace,) = to_traces({"spans": spans})
    assert trace.steps[0].kind is StepKind.ANSWER and trace.steps[0].text == "Hello there."


def test_otel_without_genai_or_openinference_spans_is_refused_with_reason() -> None:
    spans = [{"traceId": "abc", "spanId": "s1", "name": "GET /", "attributes": _attrs({"http.method": "GET"})}]
    with pytest.raises(ImportFormatError, match="no OpenInference or GenAI spans"):
        to_traces(_otlp("abc", spans))


@pytest.mark.parametrize("bad_id", ["../../../../tmp/pwned", "a/b", "x" * 200, "..", "id with space"])
def test_trace_ids_that_could_be_paths_are_refused(bad_id: str) -> None:
    spans = [
        {
            "traceId": bad_id,
            "spanId": "s1",
            "name": "llm",
            "attributes": _attrs({"openinference.span.kind": "LLM", "output.value": "hi"}),
        }
    ]
    with pytest.raises(ImportFormatError, match="invalid trace id"):
        to_traces(_otlp(bad_id, spans))
    with pytest.raises(ImportFormatError, match="invalid trace id"):
        to_traces({"id": bad_id, "trace": [{"speaker": "Agent", "text": "hi"}]})


@pytest.mark.parametrize(
    "payload, reason",
    [
        ({"hello": "world"}, "unrecognized payload"),
        ({"format": "other.v1"}, "unrecognized payload"),
        ([], "empty list"),
        ("just a string", "expected a JSON object or list"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "unknown role"),
    ],
)
def test_unrecognized_payloads_say_why(payload: object, reason: str) -> None:
    with pytest.raises(ImportFormatError, match=reason):
        to_traces(payload)


def test_same_payload_gives_the_same_canonical_trace() -> None:
    bundle = make_bundle()
    first = to_traces(bundle)[0].model_dump()
    second = to_traces(json.loads(json.dumps(bundle)))[0].model_dump()
    assert first == second


def test_steps_without_ids_get_a_content_derived_trace_id() -> None:
    steps = [{"speaker": "Agent", "text": "hello"}]
    assert to_traces(steps)[0].trace_id == to_traces(list(steps))[0].trace_id
    assert to_traces(steps)[0].trace_id.startswith("trace_")
