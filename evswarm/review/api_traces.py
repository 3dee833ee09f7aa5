"""Trace routes: list with filters, facets, one trace and the live stream. Every read needs a token
(or --public-read); the stream also takes a single-use ticket, since EventSource cannot send headers."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sse_starlette.sse import EventSourceResponse

from evswarm.core.steps import TRACE_ID_PATTERN
from evswarm.review.auth import Principal, principal, reader, stream_reader
from evswarm.review.http import MAX_INT64, json_response, state_of
from evswarm.review.view import trace_view

router = APIRouter()

MAX_PAGE = 200
_FEED_ID = re.compile(r"^[0-9]{1,18}$")

_state = state_of
_json = json_response


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Filters:
    """The list's filters (query parameters), shared by the list, next/previous and the queue."""

    def __init__(
        self,
        case_type: str | None = None,
        outcome: str | None = None,
        failed_rubric: str | None = None,
        pattern: str | None = None,
        version_set: str | None = None,
        annotated: str | None = Query(None, pattern="^(yes|no)$"),
        q: str | None = Query(None, max_length=200),
    ) -> None:
        self.values = {
            "case_type": case_type,
            "outcome": outcome,
            "failed_rubric": failed_rubric,
            "pattern": pattern,
            "version_set": version_set,
            "annotated": annotated,
            "q": q,
        }

    def where(self) -> tuple[list[str], list[Any]]:
        """SQL conditions on `traces t` and their parameters. The search matches ids, titles, case types,
        outcomes, version sets, agent and tool names, the steps' text and pattern names."""
        v = self.values
        where: list[str] = []
        params: list[Any] = []
        for column in ("case_type", "outcome", "version_set"):
            if v[column]:
                where.append(f"t.{column} = ?")
                params.append(v[column])
        if v["failed_rubric"]:
            where.append("EXISTS (SELECT 1 FROM grade_failures f WHERE f.rubric = ? AND f.run_id = t.trace_id)")
            params.append(v["failed_rubric"])
        if v["pattern"]:
            where.append("EXISTS (SELECT 1 FROM patterns p WHERE p.pattern = ? AND p.run_id = t.trace_id)")
            params.append(v["pattern"])
        if v["annotated"]:
            exists = "EXISTS (SELECT 1 FROM annotations a WHERE a.trace_id = t.trace_id)"
            where.append(exists if v["annotated"] == "yes" else f"NOT {exists}")
        q = (v["q"] or "").strip()
        if q:
            where.append(
                "(t.search LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM patterns p WHERE p.run_id = t.trace_id "
                "AND lower(p.pattern) LIKE ? ESCAPE '\\'))"
            )
            params += [_like(q), _like(q)]
        return where, params

    def clause(self, *extra: str) -> tuple[str, list[Any]]:
        where, params = self.where()
        where += list(extra)
        return (f"WHERE {' AND '.join(where)}" if where else ""), params


@router.get("/api/traces")
def list_traces(
    request: Request,
    filters: Filters = Depends(),
    offset: int = Query(0, ge=0, le=MAX_INT64),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    who: Principal = Depends(reader),
) -> Response:
    """A page of traces, newest first, matching every filter given."""
    clause, params = filters.clause()
    conn = _state(request).store.reader()
    total = conn.execute(f"SELECT COUNT(*) FROM traces t {clause}", params).fetchone()[0]
    rows = conn.execute(
        "SELECT t.trace_id, t.title, t.case_type, t.outcome, t.version_set, t.n_steps, t.version, "
        "t.source_format, t.updated_at, g.passed, g.record AS grade, p.pattern, "
        "(SELECT COUNT(DISTINCT a.annotator) FROM annotations a WHERE a.trace_id = t.trace_id) AS annotators "
        "FROM traces t LEFT JOIN grades g ON g.run_id = t.trace_id "
        "LEFT JOIN patterns p ON p.run_id = t.trace_id "
        f"{clause} ORDER BY t.seq DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    out = []
    for row in rows:
        item = dict(row)
        grade = orjson.loads(item.pop("grade")) if item.get("grade") else None
        item["failed"] = grade.get("failed", []) if grade else None
        item["passed"] = None if item["passed"] is None else bool(item["passed"])
        out.append(item)
    return _json({"total": total, "offset": offset, "limit": limit, "rows": out})


def _seq(request: Request, trace_id: str) -> int:
    if not TRACE_ID_PATTERN.match(trace_id):
        raise HTTPException(status_code=404, detail="no such trace")
    row = _state(request).store.reader().execute("SELECT seq FROM traces WHERE trace_id = ?", (trace_id,)).fetchone()
    if row is None:
        raise HTTPException(status_code=404, detail="no such trace")
    return int(row["seq"])


@router.get("/api/traces/{trace_id}/neighbors")
def neighbors(
    request: Request, trace_id: str, filters: Filters = Depends(), who: Principal = Depends(reader)
) -> Response:
    """The traces before and after this one in the list under the same filters (newest first), and its
    position: what the trace page's previous / next buttons follow."""
    seq = _seq(request, trace_id)
    conn = _state(request).store.reader()
    clause, params = filters.clause("t.seq > ?")
    before = conn.execute(f"SELECT t.trace_id FROM traces t {clause} ORDER BY t.seq ASC LIMIT 1", [*params, seq])
    previous = before.fetchone()
    position = conn.execute(f"SELECT COUNT(*) FROM traces t {clause}", [*params, seq]).fetchone()[0] + 1
    clause, params = filters.clause("t.seq < ?")
    after = conn.execute(f"SELECT t.trace_id FROM traces t {clause} ORDER BY t.seq DESC LIMIT 1", [*params, seq])
    following = after.fetchone()
    clause, params = filters.clause()
    total = conn.execute(f"SELECT COUNT(*) FROM traces t {clause}", params).fetchone()[0]
    in_list = conn.execute(
        f"SELECT 1 FROM traces t {filters.clause('t.trace_id = ?')[0]}", [*params, trace_id]
    ).fetchone()
    return _json(
        {
            "previous": previous["trace_id"] if previous else None,
            "next": following["trace_id"] if following else None,
            "position": position if in_list else None,
            "total": total,
        }
    )


@router.get("/api/queue")
def queue(
    request: Request,
    filters: Filters = Depends(),
    after: str | None = Query(None, max_length=128),
    who: Principal = Depends(reader),
) -> Response:
    """The annotation queue under the list's filters: the next trace this annotator has not labelled
    (newest first), skipping `after`; once none is left, the next whose labels were made on an older
    version. For the server token, traces nobody has labelled."""
    conn = _state(request).store.reader()
    mine = "a.annotator = ?" if who.role == "annotator" else "1 = 1"
    mine_params = [who.name] if who.role == "annotator" else []
    skip = ["t.trace_id != ?"] if after else []
    skip_params = [after] if after else []
    unlabelled = f"NOT EXISTS (SELECT 1 FROM annotations a WHERE a.trace_id = t.trace_id AND {mine})"
    clause, params = filters.clause(unlabelled, *skip)
    args = [*params, *mine_params, *skip_params]
    remaining = conn.execute(f"SELECT COUNT(*) FROM traces t {filters.clause(unlabelled)[0]}", [*params, *mine_params])
    left = int(remaining.fetchone()[0])
    row = conn.execute(f"SELECT t.trace_id FROM traces t {clause} ORDER BY t.seq DESC LIMIT 1", args).fetchone()
    reason = "unlabelled"
    if row is None:
        stale = (
            f"EXISTS (SELECT 1 FROM annotations a WHERE a.trace_id = t.trace_id AND {mine} AND a.version != t.version)"
        )
        clause, params = filters.clause(stale, *skip)
        row = conn.execute(
            f"SELECT t.trace_id FROM traces t {clause} ORDER BY t.seq DESC LIMIT 1",
            [*params, *mine_params, *skip_params],
        ).fetchone()
        reason = "labelled on an older version"
    return _json(
        {
            "next": row["trace_id"] if row else None,
            "reason": reason if row else None,
            "unlabelled": left,
            "annotator": who.name,
        }
    )


@router.get("/api/facets")
def facets(request: Request, who: Principal = Depends(reader)) -> Response:
    """The values each list filter can take."""
    conn = _state(request).store.reader()

    def distinct(sql: str) -> list[str]:
        return [str(r[0]) for r in conn.execute(sql).fetchall() if r[0] is not None]

    return _json(
        {
            "case_type": distinct("SELECT DISTINCT case_type FROM traces ORDER BY 1"),
            "outcome": distinct("SELECT DISTINCT outcome FROM traces ORDER BY 1"),
            "version_set": distinct("SELECT DISTINCT version_set FROM traces ORDER BY 1"),
            "failed_rubric": distinct("SELECT DISTINCT rubric FROM grade_failures ORDER BY 1"),
            "pattern": distinct("SELECT DISTINCT pattern FROM patterns ORDER BY 1"),
        }
    )


@router.post("/api/traces/stream/ticket")
def stream_ticket(request: Request, who: Principal = Depends(principal)) -> Response:
    """A single-use ticket, valid for a minute, that opens the live stream: `GET
    /api/traces/stream?ticket=...` (EventSource cannot send an Authorization header)."""
    tickets = _state(request).tickets
    return _json({"ticket": tickets.issue(who.name, who.role), "expires_in": tickets.ttl}, 201)


@router.get("/api/traces/stream")
async def stream(
    request: Request,
    after: int | None = Query(None, ge=0, le=MAX_INT64),
    ticket: str | None = Query(None, max_length=100),
) -> EventSourceResponse:
    """Server-sent events: one `trace` event per stored trace or version, with Last-Event-ID replay (or
    `after=ID`). Authenticated by a ticket (`?ticket=`, see POST /api/traces/stream/ticket) or a token."""
    state = _state(request)
    stream_reader(request, ticket)
    header = request.headers.get("last-event-id", "").strip()
    if header and not _FEED_ID.match(header):
        raise HTTPException(status_code=400, detail="Last-Event-ID must be a feed id (decimal digits)")
    last = int(header) if header else after if after is not None else state.store.last_feed_id()

    async def events() -> AsyncIterator[dict[str, Any]]:
        nonlocal last
        yield {"event": "connected", "data": orjson.dumps({"last_id": last}).decode()}
        while True:
            wake = state.notifier.current()
            rows = state.store.feed_since(last)
            for row in rows:
                last = row["id"]
                data = {k: row[k] for k in ("trace_id", "version", "status", "title")}
                yield {"id": str(row["id"]), "event": "trace", "data": orjson.dumps(data).decode()}
            if not rows:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=10)
            if await request.is_disconnected():
                break

    return EventSourceResponse(events(), ping=15, headers={"X-Accel-Buffering": "no"})


@router.get("/api/traces/{trace_id}")
def get_trace(
    request: Request,
    trace_id: str,
    version: int | None = Query(None, ge=1, le=MAX_INT64),
    who: Principal = Depends(reader),
) -> Response:
    """One trace: panes, grades, pattern, suspects, findings and its versions."""
    if not TRACE_ID_PATTERN.match(trace_id):
        raise HTTPException(status_code=404, detail="no such trace")
    state = _state(request)
    found = state.store.get(trace_id, version)
    if found is None:
        raise HTTPException(status_code=404, detail="no such trace" if version is None else "no such version")
    trace, found_version, digest, latest = found
    return _json(trace_view(state, trace, version=found_version, latest=latest, digest=digest))
