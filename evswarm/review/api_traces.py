"""Trace routes: list with filters, facets, one trace, webhook ingestion and the live stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sse_starlette.sse import EventSourceResponse

from evswarm.review.auth import Principal, require_admin
from evswarm.review.formats import FORMATS
from evswarm.review.ingest import PayloadError
from evswarm.review.model import TRACE_ID_PATTERN
from evswarm.review.state import ReviewState
from evswarm.review.view import trace_view

router = APIRouter()

MAX_PAGE = 200


def _state(request: Request) -> ReviewState:
    state: ReviewState = request.app.state.review
    return state


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@router.get("/api/traces")
def list_traces(
    request: Request,
    case_type: str | None = None,
    outcome: str | None = None,
    failed_rubric: str | None = None,
    pattern: str | None = None,
    version_set: str | None = None,
    annotated: str | None = Query(None, pattern="^(yes|no)$"),
    q: str | None = Query(None, max_length=200),
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
) -> Response:
    """A page of traces, newest first, matching every filter given."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("case_type", case_type), ("outcome", outcome), ("version_set", version_set)):
        if value:
            where.append(f"t.{column} = ?")
            params.append(value)
    if failed_rubric:
        where.append("EXISTS (SELECT 1 FROM grade_failures f WHERE f.rubric = ? AND f.run_id = t.trace_id)")
        params.append(failed_rubric)
    if pattern:
        where.append("EXISTS (SELECT 1 FROM patterns p WHERE p.pattern = ? AND p.run_id = t.trace_id)")
        params.append(pattern)
    if annotated:
        exists = "EXISTS (SELECT 1 FROM annotations a WHERE a.trace_id = t.trace_id)"
        where.append(exists if annotated == "yes" else f"NOT {exists}")
    if q and q.strip():
        where.append("t.search LIKE ? ESCAPE '\\'")
        params.append(_like(q.strip()))
    clause = f"WHERE {' AND '.join(where)}" if where else ""
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


@router.get("/api/facets")
def facets(request: Request) -> Response:
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


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise PayloadError(400, "invalid Content-Length")
        if int(declared) > limit:
            raise PayloadError(413, f"body of {declared} bytes is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadError(413, f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/api/traces")
async def post_trace(request: Request, format: str = "auto", who: Principal = Depends(require_admin)) -> Response:
    """Ingest one payload (any supported format). Same id and content: a no-op; new content: a new version."""
    state = _state(request)
    if format not in FORMATS:
        return _json({"detail": f"unknown format {format!r}; use one of {', '.join(FORMATS)}"}, 422)
    try:
        raw = await _read_body(request, state.config.max_body)
        results = await anyio.to_thread.run_sync(lambda: state.ingestor.ingest_bytes(raw, fmt=format, source="webhook"))
    except PayloadError as exc:
        return _json({"detail": exc.message}, exc.status)
    changed = any(r.status != "unchanged" for r in results)
    body: dict[str, Any] = {"traces": [r.as_json() for r in results]}
    if len(results) == 1:
        body.update(results[0].as_json())
    return _json(body, 201 if changed else 200)


@router.get("/api/traces/stream")
async def stream(request: Request, after: int | None = None) -> EventSourceResponse:
    """Server-sent events: one `trace` event per stored trace or version, with Last-Event-ID replay."""
    state = _state(request)
    header = request.headers.get("last-event-id", "")
    last = int(header) if header.isdigit() else after if after is not None else state.store.last_feed_id()

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
def get_trace(request: Request, trace_id: str, version: int | None = Query(None, ge=1)) -> Response:
    """One trace: panes, grades, pattern, suspects, findings and its versions."""
    if not TRACE_ID_PATTERN.match(trace_id):
        raise HTTPException(status_code=404, detail="no such trace")
    state = _state(request)
    found = state.store.get(trace_id, version)
    if found is None:
        raise HTTPException(status_code=404, detail="no such trace" if version is None else "no such version")
    trace, found_version, digest, latest = found
    return _json(trace_view(state, trace, version=found_version, latest=latest, digest=digest))
