"""Ingestion that survives any input: a bad file, line or payload costs only itself, with a visible error."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from .bundles import make_bundle
from .helpers import import_errors, json_auth, run_id, wait_until
from .test_review_api import POTATO

NDJSON = {"Authorization": json_auth()["Authorization"], "Content-Type": "application/x-ndjson"}
POISON = {"messages": [{"role": "assistant", "tool_calls": 5}]}


def has_trace(client: Any, trace_id: str) -> bool:
    return bool(client.get(f"/api/traces/{trace_id}", headers=json_auth()).status_code == 200)


def errors_for(client: Any, source: Path | str) -> list[dict[str, Any]]:
    name = str(source)
    return [e for e in import_errors(client) if e["source"] == name or e["source"].startswith(name + ":")]


def test_a_poisoned_inbox_file_neither_stops_the_watcher_nor_the_next_start(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    inbox = batch / "inbox"
    inbox.mkdir()
    (inbox / "bad.jsonl").write_text(json.dumps(POISON) + "\n")
    client = make_client(batch)  # start-up does not fail because of the file
    (error,) = errors_for(client, inbox / "bad.jsonl")
    assert error["source"] == f"{inbox / 'bad.jsonl'}:1" and "messages[0].tool_calls" in error["message"]
    # the watcher is alive: a bad file, then a good one, both after start-up
    (inbox / "bad2.json").write_text(json.dumps(POISON))
    (inbox / "good.json").write_text(json.dumps({**POTATO, "id": "after-poison"}))
    wait_until(lambda: has_trace(client, "after-poison"), what="the good file to be ingested")
    wait_until(lambda: errors_for(client, inbox / "bad2.json"), what="the bad file's error")
    client.__exit__(None, None, None)
    restarted = make_client(batch)
    assert has_trace(restarted, "after-poison") and has_trace(restarted, run_id(0))


def test_a_bundle_with_a_wrongly_typed_span_is_an_error_and_the_rest_of_the_batch_loads(
    make_client, batch: Path
) -> None:  # type: ignore[no-untyped-def]
    broken = make_bundle(run_id(90))
    broken["spans"][1] = 5
    (batch / "bundles" / f"{run_id(90)}.json").write_text(json.dumps(broken))
    odd = make_bundle(run_id(91))
    odd["spans"][1]["span_data"]["output"][0]["summary"] = 5  # read leniently: no text from it
    odd["spans"][-1]["span_data"]["output"][1]["content"] = {"text": 7}
    (batch / "bundles" / f"{run_id(91)}.json").write_text(json.dumps(odd))
    client = make_client(batch)
    (error,) = errors_for(client, batch / "bundles" / f"{run_id(90)}.json")
    assert "`spans.1`" in error["message"]
    assert not has_trace(client, run_id(90))
    assert has_trace(client, run_id(91)) and has_trace(client, run_id(3))


def test_import_errors_clear_when_their_file_later_loads(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    inbox = batch / "inbox"
    client = make_client(batch)
    path = inbox / "fixme.jsonl"
    path.write_text(json.dumps(POISON) + "\n{nope\n")
    wait_until(lambda: len(errors_for(client, path)) == 2, what="two line errors")
    path.write_text(json.dumps({**POTATO, "id": "fixed-now"}) + "\n")
    wait_until(lambda: has_trace(client, "fixed-now"), what="the fixed file to load")
    assert errors_for(client, path) == []
    path.write_text("{nope\n")
    wait_until(lambda: errors_for(client, path), what="the new error")
    path.unlink()
    wait_until(lambda: not errors_for(client, path), what="the deleted file's error to go")


def test_the_inbox_does_not_follow_symlinks_out_of_its_directory(make_client, batch: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path / "secret.json"
    outside.write_text(json.dumps({**POTATO, "id": "outside-secret"}))
    inbox = batch / "inbox"
    inbox.mkdir()
    (inbox / "link.json").symlink_to(outside)
    (inbox / "passwd.json").symlink_to("/etc/passwd")
    (inbox / "inside.json").write_text(json.dumps({**POTATO, "id": "inside-1"}))
    (inbox / "alias.json").symlink_to(inbox / "inside.json")  # inside the directory: read
    (inbox / "subdir-link").symlink_to(tmp_path, target_is_directory=True)  # not walked into
    client = make_client(batch)
    assert not has_trace(client, "outside-secret") and has_trace(client, "inside-1")
    for name in ("link.json", "passwd.json"):
        (error,) = errors_for(client, inbox / name)
        assert "outside the watched directory" in error["message"]
    assert errors_for(client, inbox / "alias.json") == []
    assert not any("secret.json" in e["source"] for e in import_errors(client))


def test_inbox_files_over_the_size_limit_are_refused_and_jsonl_lines_are_held_to_it_one_by_one(
    make_client, batch: Path
) -> None:  # type: ignore[no-untyped-def]
    inbox = batch / "inbox"
    inbox.mkdir()
    big = {**POTATO, "id": "too-big", "trace": [{"speaker": "Agent", "text": "x" * 5000}]}
    (inbox / "big.json").write_text(json.dumps(big))
    lines = [json.dumps({**POTATO, "id": "line-1"}), json.dumps(big), json.dumps({**POTATO, "id": "line-3"})]
    (inbox / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    client = make_client(batch, max_body=2000)
    (error,) = errors_for(client, inbox / "big.json")
    assert "over the size limit of 2,000 bytes" in error["message"]
    (line_error,) = errors_for(client, inbox / "mixed.jsonl")
    assert line_error["source"].endswith("mixed.jsonl:2") and "size limit" in line_error["message"]
    assert has_trace(client, "line-1") and has_trace(client, "line-3") and not has_trace(client, "too-big")


def test_a_fifo_in_the_inbox_is_not_read_and_does_not_hang(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    inbox = batch / "inbox"
    inbox.mkdir()
    os.mkfifo(inbox / "pipe.json")
    client = make_client(batch)
    (error,) = errors_for(client, inbox / "pipe.json")
    assert "not a regular file" in error["message"]


def test_a_large_jsonl_file_is_streamed_line_by_line(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    inbox = batch / "inbox"
    inbox.mkdir()
    rows = [json.dumps({**POTATO, "id": f"many-{i}"}) for i in range(300)]
    (inbox / "many.jsonl").write_text("\n".join(rows) + "\n")  # ~90 kB: more than the limit, line by line
    client = make_client(batch, max_body=1000)
    assert client.get("/api/traces", params={"q": "many-"}, headers=json_auth()).json()["total"] == 300


@pytest.mark.parametrize(
    "payload, field",
    [
        (POISON, "messages[0].tool_calls"),
        ({"messages": [{"role": "assistant", "tool_calls": [{"function": 5}]}]}, "messages[0].tool_calls[0].function"),
        ({"messages": [{"role": "assistant", "tool_calls": ["x"]}]}, "messages[0].tool_calls[0]"),
        ({"messages": [{"role": "assistant", "content": None, "function_call": [1]}]}, "messages[0].function_call"),
        ({"messages": [{"role": {"a": 1}, "content": "x"}]}, "messages[0].role"),
        ({"resourceSpans": 5}, "$.resourceSpans"),
        ({"resourceSpans": ["s"]}, "resourceSpans[0]"),
        ({"resourceSpans": [{"scopeSpans": 5}]}, "resourceSpans[0].scopeSpans"),
        ({"resourceSpans": [{"scopeSpans": [{"spans": 5}]}]}, "resourceSpans[0].scopeSpans[0].spans"),
        ({"resourceSpans": [{"resource": 5, "scopeSpans": []}]}, "resourceSpans[0].resource"),
        (
            {"spans": [{"traceId": "a", "spanId": "b", "attributes": [{"key": "k", "value": {"arrayValue": 5}}]}]},
            "spans[0].attributes[0].value.arrayValue",
        ),
        ({"format": "evswarm.bundle.v1", "spans": [5]}, "`"),
        ("bundle-span-5", "spans.1"),
        ("bundle-span-data", "spans.2.span_data"),
    ],
)
def test_valid_json_of_the_wrong_shape_is_422_naming_the_field(make_client, batch: Path, payload, field) -> None:  # type: ignore[no-untyped-def]
    if payload == "bundle-span-5":
        payload = make_bundle()
        payload["spans"][1] = 5
    elif payload == "bundle-span-data":
        payload = make_bundle()
        payload["spans"][2]["span_data"] = "text"
    client = make_client(batch)
    response = client.post("/api/traces", content=json.dumps(payload), headers=json_auth())
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]


def _nested(depth: int) -> bytes:
    return b'{"id": "deep", "messages": [{"role": "user", "content": ' + b"[" * depth + b"]" * depth + b"}]}"


@pytest.mark.parametrize("depth", [70, 300, 1000])
def test_deep_nesting_is_422_at_any_depth_orjson_reads(make_client, batch: Path, depth: int) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    response = client.post("/api/traces", content=_nested(depth), headers=json_auth())
    assert response.status_code == 422 and "nested deeper than 64 levels" in response.json()["detail"]
    inbox = batch / "inbox" / f"deep{depth}.json"
    inbox.write_bytes(_nested(depth))
    client.app.state.review.ingestor.ingest_file(inbox, root=inbox.parent)
    assert "nested deeper than 64" in errors_for(client, inbox)[0]["message"]


def test_deep_json_and_huge_strings_inside_otel_attributes_are_shown_as_bounded_text(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    deep = "[" * 1000 + "]" * 1000
    attributes = {
        "openinference.span.kind": "LLM",
        "gen_ai.output.messages": deep,
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": "z" * 1_500_000,
        "llm.output_messages.1.message.role": "assistant",
        "llm.output_messages.1.message.content": deep,
    }
    payload = {"spans": [{"traceId": "deep-attr", "spanId": "s1", "name": "llm", "attributes": attributes}]}
    client = make_client(batch)
    response = client.post("/api/traces", content=json.dumps(payload), headers=json_auth())
    assert response.status_code == 201, response.text
    view = client.get("/api/traces/deep-attr", headers=json_auth()).json()
    texts = [card["text"] for card in view["panes"]["reasoning"]] + [view["panes"]["answer"]["text"]]
    assert any(t.startswith("z" * 1000) and "500,000 more characters not shown" in t for t in texts)
    assert deep in texts  # too deep to parse: kept as the string it was


def test_a_trace_cannot_take_over_a_simulated_runs_id_without_asking(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    chat = {"id": run_id(0), "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]}
    response = client.post("/api/traces", json=chat, headers=json_auth())
    assert response.status_code == 409 and "already holds a evswarm trace" in response.json()["detail"]
    assert client.get(f"/api/traces/{run_id(0)}", headers=json_auth()).json()["source_format"] == "evswarm"
    replaced = client.post("/api/traces?replace=true", json=chat, headers=json_auth())
    assert replaced.status_code == 201 and "replaced the evswarm trace" in replaced.json()["warning"]
    assert client.get(f"/api/traces/{run_id(0)}", params={"version": 1}, headers=json_auth()).status_code == 200


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_the_webhook_accepts_only_json_content_types(make_client, batch: Path, content_type) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    headers = {"Authorization": json_auth()["Authorization"]}
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post("/api/traces", content=json.dumps(POTATO), headers=headers)
    assert response.status_code == 415 and "application/json" in response.json()["detail"]
    ok = client.post(
        "/api/traces",
        content=json.dumps(POTATO),
        headers={**headers, "Content-Type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 201


def test_an_ndjson_batch_stores_the_good_lines_and_names_the_bad_ones(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    lines = [
        json.dumps({**POTATO, "id": "nd-1"}),
        "{nope",
        json.dumps(POISON),
        "",
        json.dumps({**POTATO, "id": "nd-5"}),
    ]
    response = client.post("/api/traces", content="\n".join(lines), headers=NDJSON)
    assert response.status_code == 207
    body = response.json()
    assert [t["trace_id"] for t in body["traces"]] == ["nd-1", "nd-5"]
    assert [(e["line"], e["status"]) for e in body["errors"]] == [(2, 400), (3, 422)]
    assert "messages[0].tool_calls" in body["errors"][1]["detail"]
    again = client.post("/api/traces", content="\n".join(lines[:1]), headers=NDJSON)
    assert again.status_code == 200 and again.json()["traces"][0]["status"] == "unchanged"
    failed = client.post("/api/traces", content="{nope\n{nope", headers=NDJSON)
    assert failed.status_code == 400 and len(failed.json()["errors"]) == 2
