"""Reads need a token; the live stream takes a single-use ticket; only known Host names are answered;
annotators export only their own labels; CSV cells cannot run as formulas; numbers past 64 bits are 4xx."""

from __future__ import annotations

import csv
import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from evswarm.review.annotations import neutralise
from evswarm.review.tickets import TicketBook

from .helpers import TOKEN, LiveServer, auth, run_id, wait_until, write_batch

READS = [
    "/api/traces",
    f"/api/traces/{run_id(0)}",
    "/api/traces/stream",
    "/api/facets",
    "/api/agreement",
    "/api/config",
    "/api/status",
]
PAGES = ["/", f"/traces/{run_id(0)}", "/agreement", "/static/app.css", "/static/common.js"]


def annotator(client: Any, name: str) -> str:
    response = client.post("/api/annotators", json={"name": name}, headers=auth())
    assert response.status_code == 201
    return str(response.json()["token"])


@pytest.mark.parametrize(
    "path", [*READS, f"/api/traces/{run_id(0)}/annotations", "/api/annotations/export", "/api/whoami"]
)
def test_every_read_route_needs_a_token(make_client, batch: Path, path: str) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    assert client.get(path).status_code == 401
    assert client.get(path, headers=auth("not-a-real-token")).status_code == 401


@pytest.mark.parametrize("path", [p for p in READS if not p.endswith("/stream")])
def test_reads_answer_the_server_token_and_annotator_tokens(make_client, batch: Path, path: str) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    token = annotator(client, "alice")
    assert client.get(path, headers=auth()).status_code == 200
    assert client.get(path, headers=auth(token)).status_code == 200


def test_pages_and_health_load_without_a_token_and_health_tells_no_data(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    for path in PAGES:
        assert client.get(path).status_code == 200, path
    health = client.get("/api/health")
    assert health.status_code == 200 and set(health.json()) == {"ok", "loading"}


def test_import_errors_are_listed_for_the_server_token_only(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    (batch / "inbox").mkdir()
    (batch / "inbox" / "bad.json").write_text("{nope")
    client = make_client(batch)
    token = annotator(client, "alice")
    mine = client.get("/api/status", headers=auth(token)).json()
    assert mine["import_error_count"] == 1 and "import_errors" not in mine
    assert client.get("/api/status", headers=auth()).json()["import_errors"][0]["source"].endswith("bad.json")


def test_public_read_opens_reads_but_not_labels_or_exports(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch, public_read=True)
    for path in READS:
        if not path.endswith("/stream"):
            assert client.get(path).status_code == 200, path
    assert client.get("/api/traces", headers=auth("wrong-token")).status_code == 401
    assert client.get("/api/annotations/export").status_code == 401
    labels = {"version": 1, "labels": {"note": "x"}}
    assert client.post(f"/api/traces/{run_id(0)}/annotations", json=labels).status_code == 401


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8765", "127.0.0.1.nip.io", "attacker.localhost.example"]
)
def test_requests_for_unknown_host_names_are_refused(make_client, batch: Path, host: str) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    assert client.get("/api/traces", headers={**auth(), "Host": host}).status_code == 400
    assert client.get("/", headers={"Host": host}).status_code == 400


def test_local_names_the_given_host_and_allowed_hosts_are_answered(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch, host="0.0.0.0", allow_hosts=["review.lan"])
    for host in ("127.0.0.1:8765", "localhost", "localhost:9", "review.lan:8765"):
        assert client.get("/api/traces", headers={**auth(), "Host": host}).status_code == 200, host
    assert client.get("/", headers={"Host": "0.0.0.0"}).status_code == 400
    named = make_client(batch, host="review-box")
    assert named.get("/", headers={"Host": "review-box:80"}).status_code == 200


def test_stream_tickets_are_needed_single_use_and_expire(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    assert client.post("/api/traces/stream/ticket").status_code == 401
    assert client.get("/api/traces/stream", params={"ticket": "tkt_made_up"}).status_code == 401
    clock = [0.0]
    book = TicketBook(ttl=60, clock=lambda: clock[0])
    first, second = book.issue("alice", "annotator"), book.issue("bob", "annotator")
    assert book.redeem(first) is not None and book.redeem(first) is None  # single use
    clock[0] = 61.0
    assert book.redeem(second) is None  # expired


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(write_batch(tmp_path_factory.mktemp("auth") / "batch", count=2), extra={"body_timeout": 1.0})
    yield server
    server.stop()


def test_a_ticket_opens_the_stream_once(live: LiveServer) -> None:
    ticket = httpx.post(f"{live.url}/api/traces/stream/ticket", headers=auth()).json()["ticket"]
    url = f"{live.url}/api/traces/stream"
    with httpx.stream("GET", url, params={"ticket": ticket}, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert next(response.iter_lines()).strip() == "event: connected"
    assert httpx.get(url, params={"ticket": ticket}, timeout=10).status_code == 401  # used up
    assert httpx.get(url, timeout=10).status_code == 401


def _raw_request(live: LiveServer, body: bytes, declared: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", live.port), timeout=15)
    head = (
        f"POST /api/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    return sock


def test_a_stalled_body_gets_408_and_a_disconnect_leaves_no_traceback(live: LiveServer) -> None:
    with _raw_request(live, b'{"id": "sta', 500) as sock:
        received = b""
        while chunk := sock.recv(4096):  # the server answers after its 1 s body timeout, then closes
            received += chunk
    answer = received.decode()
    assert answer.startswith("HTTP/1.1 408") and "stalled" in answer
    sock = _raw_request(live, b'{"id": "gone', 500)
    sock.close()
    wait_until(lambda: "client disconnected" in live.log_path.read_text(), what="the disconnect to be logged")
    assert httpx.get(f"{live.url}/api/traces", headers=auth()).status_code == 200
    assert "Traceback" not in live.log_path.read_text()


@pytest.mark.parametrize(
    "path, params",
    [
        ("/api/traces", {"offset": str(2**70)}),
        ("/api/traces", {"offset": "١٢٣"}),
        (f"/api/traces/{run_id(0)}", {"version": str(2**64)}),
        (f"/api/traces/{run_id(0)}", {"version": "²"}),
        ("/api/traces/stream", {"after": str(2**63)}),
    ],
)
def test_numbers_past_64_bits_or_not_ascii_digits_are_422(make_client, batch: Path, path: str, params: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    client = make_client(batch)
    assert client.get(path, params=params, headers=auth()).status_code == 422


@pytest.mark.parametrize("value", [b"99999999999999999999999", b"\xb2", b"12a", b"-1"])
def test_a_bad_last_event_id_is_400(make_client, batch: Path, value: bytes) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    response = client.get("/api/traces/stream", headers={**auth(), "Last-Event-ID": value})  # type: ignore[dict-item]
    assert response.status_code == 400 and "Last-Event-ID" in response.json()["detail"]


def test_annotators_export_only_their_own_labels_and_the_server_token_all(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    tokens = {name: annotator(client, name) for name in ("alice", "bob")}
    for name, token in tokens.items():
        response = client.post(
            f"/api/traces/{run_id(0)}/annotations",
            headers=auth(token),
            json={"version": 1, "labels": {"note": f"{name}'s secret note", "reasoning_quality": 3}},
        )
        assert response.status_code == 201
    alice = [
        json.loads(line)
        for line in client.get("/api/annotations/export", headers=auth(tokens["alice"])).text.splitlines()
    ]
    assert {r["annotator"] for r in alice} == {"alice"} and len(alice) == 2
    alice_csv = client.get("/api/annotations/export?format=csv", headers=auth(tokens["alice"])).text
    assert "bob" not in alice_csv
    everyone = client.get("/api/annotations/export", headers=auth()).text.splitlines()
    assert {json.loads(line)["annotator"] for line in everyone} == {"alice", "bob"}


FORMULAS = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\tlead", "\rlead"]


def test_csv_cells_that_would_be_formulas_are_neutralised(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    assert [neutralise(v) for v in FORMULAS] == ["'" + v for v in FORMULAS]
    assert neutralise("plain = text") == "plain = text" and neutralise(4) == 4
    client = make_client(batch)
    token = annotator(client, "mallory")
    for index, note in enumerate(FORMULAS[:4]):
        client.post(
            f"/api/traces/{run_id(index)}/annotations",
            headers=auth(token),
            json={"version": 1, "labels": {"note": note}},
        )
    rows = list(csv.DictReader(io.StringIO(client.get("/api/annotations/export?format=csv", headers=auth()).text)))
    assert sorted(r["value"] for r in rows) == sorted("'" + v for v in FORMULAS[:4])
    assert all(not r["value"].startswith(("=", "+", "-", "@")) for r in rows)
