"""The HTTP API: auth, size limit, formats, idempotency, versioning, durability, filters, annotations."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest

from .bundles import make_bundle
from .helpers import TOKEN, auth, import_errors, json_auth, run_id, write_analysis

POTATO = {
    "id": "hook-1",
    "task_description": "posted",
    "trace": [
        {"speaker": "Agent (Thought)", "text": "think"},
        {"speaker": "Agent (Action)", "text": "lookup(q='x')"},
        {"speaker": "Environment", "text": "found"},
        {"speaker": "Agent (Final Answer)", "text": "done"},
    ],
}


def db_counts(client) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    conn = client.app.state.review.store.reader()
    return (
        conn.execute("SELECT COUNT(*) FROM trace_versions").fetchone()[0],
        conn.execute("SELECT COUNT(*) FROM feed").fetchone()[0],
    )


def annotator(client, name: str = "alice") -> str:  # type: ignore[no-untyped-def]
    response = client.post("/api/annotators", json={"name": name}, headers=auth())
    assert response.status_code == 201
    return str(response.json()["token"])


def test_batch_bundles_and_grades_load_at_start(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    listing = client.get("/api/traces", headers=auth()).json()
    assert listing["total"] == 4
    view = client.get(f"/api/traces/{run_id(1)}", headers=auth()).json()
    assert view["case_type"] == "pricing_exception_compound"
    failed = [r for r in view["grades"]["rubrics"] if not r["passed"]]
    assert [r["rubric"] for r in failed] == ["final_decision_quality"]
    # the rationale cites span ..._0005 (the compute_quote result): linked to that step
    assert failed[0]["cites"] == [f"span_{run_id(1)[-8:]}_0005"]
    assert view["findings"][0]["cites"] == [f"span_{run_id(1)[-8:]}_0005"]


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong-token"}, 401),
        ({"Authorization": "Basic " + TOKEN}, 401),
    ],
)
def test_ingestion_requires_the_bearer_token(make_client, batch: Path, headers, status) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    before = db_counts(client)
    response = client.post("/api/traces", json=POTATO, headers=headers)
    assert response.status_code == status
    assert db_counts(client) == before


def test_annotator_tokens_cannot_ingest_and_server_token_cannot_label(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    token = annotator(client)
    assert client.post("/api/traces", json=POTATO, headers=auth(token)).status_code == 403
    labels = {"version": 1, "labels": {"note": "x"}}
    assert client.post(f"/api/traces/{run_id(0)}/annotations", json=labels, headers=auth()).status_code == 403
    assert client.post(f"/api/traces/{run_id(0)}/annotations", json=labels).status_code == 401
    assert client.post("/api/annotators", json={"name": "eve"}, headers=auth(token)).status_code == 403


def test_x_api_key_header_is_accepted(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    assert client.post("/api/traces", json=POTATO, headers={"X-API-Key": TOKEN}).status_code == 201


def test_body_over_the_limit_is_refused_before_parsing(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch, max_body=2000)
    before = db_counts(client)
    big = {**POTATO, "trace": [{"speaker": "Agent", "text": "x" * 5000}]}
    response = client.post("/api/traces", content=json.dumps(big), headers=json_auth())
    assert response.status_code == 413 and "limit" in response.json()["detail"]

    def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: the streamed size is checked
        for _ in range(10):
            yield b" " * 500

    response = client.post("/api/traces", content=chunks(), headers=json_auth())
    assert response.status_code == 413
    assert db_counts(client) == before


@pytest.mark.parametrize(
    "body, status, words",
    [
        (b"", 400, "empty body"),
        (b'{"id": "x", "trace": [{"speaker": "A", "te', 400, "not valid JSON"),
        (b"{nope}", 400, "not valid JSON"),
        (b'{"hello": 1}', 422, "unrecognized payload"),
        (b'{"id": "../../etc/passwd", "trace": [{"speaker": "A", "text": "t"}]}', 422, "invalid trace id"),
    ],
)
def test_bad_bodies_get_a_clear_4xx_and_leave_the_db_untouched(make_client, batch: Path, body, status, words) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    before = db_counts(client)
    response = client.post("/api/traces", content=body, headers=json_auth())
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert db_counts(client) == before


def test_unknown_format_parameter_is_refused(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    response = client.post("/api/traces?format=yaml", json=POTATO, headers=auth())
    assert response.status_code == 422 and "unknown format" in response.json()["detail"]


def _openai() -> dict:  # type: ignore[type-arg]
    return {
        "id": "chat-7",
        "messages": [
            {"role": "user", "content": "price?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "k1", "type": "function", "function": {"name": "quote", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "k1", "content": "100"},
            {"role": "assistant", "content": "It costs 100."},
        ],
    }


def _otel() -> dict:  # type: ignore[type-arg]
    return {
        "spans": [
            {
                "traceId": "otel-1",
                "spanId": "s1",
                "name": "llm",
                "attributes": {"openinference.span.kind": "LLM", "output.value": "otel answer"},
            }
        ]
    }


@pytest.mark.parametrize(
    "payload, trace_id, answer",
    [
        (POTATO, "hook-1", "done"),
        (_openai(), "chat-7", "It costs 100."),
        (_otel(), "otel-1", "otel answer"),
        (make_bundle("run_" + "b" * 32), "run_" + "b" * 32, None),
    ],
)
def test_each_format_posted_to_the_webhook_renders(make_client, batch: Path, payload, trace_id, answer) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    response = client.post("/api/traces", json=payload, headers=auth())
    assert response.status_code == 201, response.text
    assert response.json()["trace_id"] == trace_id and response.json()["status"] == "created"
    view = client.get(f"/api/traces/{trace_id}", headers=auth()).json()
    assert view["panes"]["answer"] is not None
    if answer is not None:
        assert view["panes"]["answer"]["text"] == answer
    assert client.get("/api/traces", params={"q": trace_id}, headers=auth()).json()["rows"][0]["trace_id"] == trace_id


def test_same_content_is_a_no_op_and_new_content_a_new_version(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    first = client.post("/api/traces", json=POTATO, headers=auth())
    assert (first.status_code, first.json()["version"]) == (201, 1)
    pretty = json.dumps(POTATO, indent=4).encode()  # same content, other bytes
    again = client.post("/api/traces", content=pretty, headers=json_auth())
    assert (again.status_code, again.json()["status"], again.json()["version"]) == (200, "unchanged", 1)

    token = annotator(client)
    saved = client.post(
        "/api/traces/hook-1/annotations",
        headers=auth(token),
        json={"version": 1, "labels": {"answer_helpfulness": 4}},
    )
    assert saved.status_code == 201

    changed = {
        **POTATO,
        "trace": [*POTATO["trace"][:-1], {"speaker": "Agent (Final Answer)", "text": "changed"}],
    }
    second = client.post("/api/traces", json=changed, headers=auth())
    assert second.status_code == 201
    assert (second.json()["status"], second.json()["version"], second.json()["stale_annotations"]) == (
        "new_version",
        2,
        1,
    )
    latest = client.get("/api/traces/hook-1", headers=auth()).json()
    assert latest["version"] == 2 and latest["panes"]["answer"]["text"] == "changed"
    old = client.get("/api/traces/hook-1", params={"version": 1}, headers=auth()).json()
    assert old["panes"]["answer"]["text"] == "done" and old["latest_version"] == 2
    labels = client.get("/api/traces/hook-1/annotations", headers=auth(token)).json()["labels"]
    assert labels[0]["version"] == 1 and labels[0]["stale"] is True
    assert labels[0]["content_hash"] == old["content_hash"] != latest["content_hash"]


def test_traces_and_labels_survive_a_restart(make_client, tmp_path: Path, batch: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "elsewhere" / "review.sqlite"
    client = make_client(batch, db=db)
    assert client.post("/api/traces", json=POTATO, headers=auth()).status_code == 201
    token = annotator(client)
    client.post("/api/traces/hook-1/annotations", headers=auth(token), json={"version": 1, "labels": {"note": "kept"}})
    client.__exit__(None, None, None)

    reopened = make_client(batch, db=db, token="another-token-123")
    assert (
        reopened.get("/api/traces/hook-1", headers=auth("another-token-123")).json()["panes"]["answer"]["text"]
        == "done"
    )
    assert reopened.get("/api/traces", headers=auth("another-token-123")).json()["total"] == 5
    rows = reopened.get("/api/annotations/export", headers=auth(token)).text.splitlines()
    assert json.loads(rows[0])["value"] == "kept"
    assert reopened.post("/api/traces", json=POTATO, headers=auth("another-token-123")).json()["status"] == "unchanged"


def test_list_filters_and_search(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)

    def ids(**params: str) -> list[str]:
        return [r["trace_id"] for r in client.get("/api/traces", params=params, headers=auth()).json()["rows"]]

    assert ids(case_type="pricing_exception_compound") == [run_id(3), run_id(1)]
    assert ids(outcome="awaiting_review", version_set="v2_pricing") == [run_id(3), run_id(1)]
    assert ids(failed_rubric="final_decision_quality") == [run_id(3), run_id(1)]
    assert ids(q=run_id(2)[-6:]) == [run_id(2)]
    assert ids(q="100%_") == []
    token = annotator(client)
    client.post(
        f"/api/traces/{run_id(0)}/annotations",
        headers=auth(token),
        json={"version": 1, "labels": {"note": "n"}},
    )
    assert ids(annotated="yes") == [run_id(0)]
    assert run_id(0) not in ids(annotated="no")
    page = client.get("/api/traces", params={"limit": 3, "offset": 3}, headers=auth()).json()
    assert page["total"] == 4 and len(page["rows"]) == 1
    facets = client.get("/api/facets", headers=auth()).json()
    assert facets["case_type"] == ["clean_simple", "pricing_exception_compound"]
    assert client.get("/api/traces", params={"limit": 100000}, headers=auth()).status_code == 422


def test_unknown_and_path_like_trace_ids_are_404(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    assert client.get("/api/traces/nope", headers=auth()).status_code == 404
    assert client.get("/api/traces/..%2F..%2Fetc", headers=auth()).status_code == 404
    assert client.get(f"/api/traces/{run_id(0)}", params={"version": 9}, headers=auth()).status_code == 404


def test_labels_are_validated_against_schemes_and_steps(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    token = annotator(client)
    url = f"/api/traces/{run_id(0)}/annotations"

    def post(body: dict) -> tuple[int, str]:  # type: ignore[type-arg]
        response = client.post(url, json=body, headers=auth(token))
        return response.status_code, response.text

    assert post({"version": 1, "labels": {"reasoning_quality": 9}})[0] == 422
    assert post({"version": 1, "labels": {"final_decision_quality": "maybe"}})[0] == 422
    assert post({"version": 1, "labels": {"nonsense": 1}})[0] == 422
    assert post({"version": 1, "labels": {"note": "x"}, "step_ids": ["no-such-step"]})[0] == 422
    assert post({"version": 3, "labels": {"note": "x"}})[0] == 404
    assert post({"version": 1, "content_hash": "0" * 64, "labels": {"note": "x"}})[0] == 409
    status, _ = post(
        {
            "version": 1,
            "labels": {"reasoning_quality": 4, "final_decision_quality": "pass"},
            "step_ids": [f"span_{run_id(0)[-8:]}_0004.0"],
        }
    )
    assert status == 201
    labels = client.get(url, headers=auth(token)).json()["labels"]
    assert {(r["scheme"], r["value"]) for r in labels} == {
        ("reasoning_quality", 4),
        ("final_decision_quality", "pass"),
    }
    assert labels[0]["step_ids"] == [f"span_{run_id(0)[-8:]}_0004.0"]


def test_export_and_agreement(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    tokens = {name: annotator(client, name) for name in ("alice", "bob")}
    votes = {"alice": ["pass", "fail", "pass", "fail"], "bob": ["pass", "fail", "fail", "fail"]}
    for name, values in votes.items():
        for index, value in enumerate(values):
            response = client.post(
                f"/api/traces/{run_id(index)}/annotations",
                headers=auth(tokens[name]),
                json={"version": 1, "labels": {"final_decision_quality": value}},
            )
            assert response.status_code == 201
    csv_rows = list(csv.DictReader(io.StringIO(client.get("/api/annotations/export?format=csv", headers=auth()).text)))
    assert len(csv_rows) == 8 and {r["annotator"] for r in csv_rows} == {"alice", "bob"}
    assert all(len(r["content_hash"]) == 64 for r in csv_rows)
    assert client.get("/api/annotations/export").status_code == 401
    report = client.get("/api/agreement", headers=auth()).json()
    row = next(r for r in report["agreement"] if r["scheme"] == "final_decision_quality")
    # alice vs bob: observed 3/4, expected (2*1 + 2*3)/16 = 0.5 -> kappa 0.5
    assert row["cohen_kappa_mean"] == pytest.approx(0.5)
    assert row["items_multi"] == 4 and row["annotators"] == 2
    assert row["fleiss_kappa"] is not None and row["krippendorff_alpha"] is not None
    calibration = next(r for r in report["calibration"] if r["rubric"] == "final_decision_quality")
    # promptfoo fails runs 1 and 3; the humans' majority: pass, fail, (tie), fail
    assert calibration["traces"] == 3 and calibration["ties"] == 1
    assert calibration["human_pass_promptfoo_pass"] == 1 and calibration["human_fail_promptfoo_fail"] == 2
    assert calibration["agreement"] == 1.0


def test_watched_directory_ingests_pretty_json_and_jsonl_in_subfolders(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    inbox = batch / "inbox"
    client = make_client(batch, watch=[inbox])
    nested = inbox / "team" / "day1"
    nested.mkdir(parents=True)
    (nested / "one.json").write_text(json.dumps({**POTATO, "id": "watch-1"}, indent=2))
    lines = [json.dumps({**POTATO, "id": "watch-2"}), "{broken", json.dumps({**POTATO, "id": "watch-3"})]
    (inbox / "more.jsonl").write_text("\n".join(lines) + "\n")
    deadline = time.monotonic() + 20
    found: set[str] = set()
    while time.monotonic() < deadline and len(found) < 3:
        found = {
            r["trace_id"] for r in client.get("/api/traces", params={"q": "watch-"}, headers=auth()).json()["rows"]
        }
        time.sleep(0.1)  # polling the API for the watcher's result
    assert found == {"watch-1", "watch-2", "watch-3"}
    errors = client.get("/api/status", headers=auth()).json()["import_errors"]
    assert any(e["source"].endswith("more.jsonl:2") and "not valid JSON" in e["message"] for e in errors)


def test_restart_skips_unchanged_files_and_ingests_new_ones(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch, watch=[batch / "inbox"])
    client.__exit__(None, None, None)
    (batch / "inbox" / "late.json").write_text(json.dumps({**POTATO, "id": "late-1"}))
    reopened = make_client(batch, watch=[batch / "inbox"])
    assert reopened.get("/api/traces/late-1", headers=auth()).status_code == 200
    assert db_counts(reopened)[0] == 5


def test_analysis_tables_are_read_through_the_core_models(make_client, batch: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    analysis = write_analysis(tmp_path / "analysis", [run_id(1), run_id(3)])
    client = make_client(batch, analysis=analysis)
    assert client.get("/api/traces", params={"pattern": "pricing drift"}, headers=auth()).json()["total"] == 2
    view = client.get(f"/api/traces/{run_id(1)}", headers=auth()).json()
    assert view["pattern"] == "pricing drift" and view["pattern_info"]["id"] == 1
    attribution = view["attribution"]
    assert attribution["suspect_agent"] == "PricingAgent" and attribution["anchor_rule"] == "cited by a grade"
    assert attribution["suspect_rule"] == "contrast with peers"
    assert (attribution["deviation"], attribution["earliness"], attribution["proximity"]) == (0.9, 1.0, 0.5)
    assert attribution["baseline_most_frequent_agent"] == "Orchestrator"
    # the suspect step links to the panes' steps: the PricingAgent turn (span 4) and the quote (span 5)
    suspect_span, anchor_span = f"span_{run_id(1)[-8:]}_0004", f"span_{run_id(1)[-8:]}_0005"
    assert attribution["cites"] and all(step.startswith(suspect_span) for step in attribution["cites"])
    assert attribution["anchor_cites"] == [anchor_span]
    assert [s["agent_name"] for s in view["suspect_steps"]] == ["PricingAgent", "Orchestrator"]
    assert [(s["component"], s["share"]) for s in view["pattern_suspects"]] == [
        ("PricingAgent", 0.75),
        ("compute_quote", 0.25),
    ]
    assert client.get(f"/api/traces/{run_id(0)}", headers=auth()).json()["attribution"] is None


def test_a_bad_analysis_table_is_an_import_error(make_client, batch: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    analysis = write_analysis(tmp_path / "analysis", [run_id(1)])
    (analysis / "suspects.json").write_text('[{"pattern_id": 1')  # half-written
    (analysis / "attribution.json").write_text('[{"run_id": "x", "score": "high"}]')  # not an attribution row
    client = make_client(batch, analysis=analysis)
    view = client.get(f"/api/traces/{run_id(1)}", headers=auth()).json()
    assert view["pattern"] == "pricing drift" and view["suspect_steps"]
    assert view["attribution"] is None and view["pattern_suspects"] == []
    errors = {e["source"]: e["message"] for e in import_errors(client)}
    assert "row 1: field" in errors[str(analysis / "attribution.json")]
    assert str(analysis / "suspects.json") in errors
    write_analysis(analysis, [run_id(1)])  # the next analysis run fixes both: the errors clear
    client.app.state.review.analysis.reload(client.app.state.review.store)
    assert client.get(f"/api/traces/{run_id(1)}", headers=auth()).json()["attribution"] is not None
    assert not [e for e in import_errors(client) if e["source"].startswith(str(analysis))]


def test_bad_label_rows_are_import_errors_naming_line_and_field(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    labels = batch / "eval_labels.jsonl"
    lines = labels.read_text().splitlines()
    broken = json.loads(lines[1])
    broken["promptfoo_pass"] = "maybe"
    lines[1] = json.dumps(broken)
    lines.insert(2, "{not json")
    labels.write_text("\n".join(lines) + "\n")
    client = make_client(batch)
    messages = [e["message"] for e in import_errors(client)]
    assert any(":2: field `promptfoo_pass`" in m for m in messages), messages
    assert any(":3: not valid JSON" in m for m in messages), messages
    assert client.get(f"/api/traces/{run_id(0)}", headers=auth()).json()["grades"] is not None
    assert client.get(f"/api/traces/{run_id(1)}", headers=auth()).json()["grades"] is None


def test_security_headers_forbid_inline_script(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    page = client.get(f"/traces/{run_id(0)}")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text.replace('<script src="/static/', "")
