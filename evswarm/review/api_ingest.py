"""The webhook: POST /api/traces with one JSON payload, or an NDJSON batch (one payload per line)."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from evswarm.core.formats import FORMATS
from evswarm.review.auth import Principal, require_admin
from evswarm.review.http import (
    ClientGone,
    error_response,
    gone,
    json_response,
    read_body,
    require_media_type,
    state_of,
)
from evswarm.review.ingest import PayloadError

router = APIRouter()

JSON_TYPE = "application/json"
NDJSON_TYPE = "application/x-ndjson"


@router.post("/api/traces")
async def post_trace(
    request: Request,
    format: str = "auto",
    replace: bool = False,
    who: Principal = Depends(require_admin),
) -> Response:
    """Ingest one payload (any supported format; Content-Type application/json), or a batch of them
    (application/x-ndjson, one per line). Same id and content: a no-op; new content: a new version.

    Statuses: 201 something stored, 200 nothing changed; 4xx naming the problem (400 not JSON, 408 stalled
    body, 409 the id holds a trace of another format (pass replace=true to replace it), 413 too large,
    415 wrong Content-Type, 422 a payload no format reads, naming the field). A batch answers 207 when
    some lines failed (each listed under `errors` with its line number) and 4xx when all did.
    """
    state = state_of(request)
    if format not in FORMATS:
        return json_response({"detail": f"unknown format {format!r}; use one of {', '.join(FORMATS)}"}, 422)
    try:
        kind = require_media_type(request, (JSON_TYPE, NDJSON_TYPE))
        raw = await read_body(request, state.config.max_body)
        if kind == NDJSON_TYPE:
            batch = await anyio.to_thread.run_sync(
                lambda: state.ingestor.ingest_lines(raw, fmt=format, source="webhook", replace=replace)
            )
            return _batch_response(batch.results, batch.errors)
        results = await anyio.to_thread.run_sync(
            lambda: state.ingestor.ingest_bytes(raw, fmt=format, source="webhook", replace=replace)
        )
    except PayloadError as exc:
        return error_response(exc)
    except ClientGone:
        return gone()
    changed = any(r.status != "unchanged" for r in results)
    body: dict[str, Any] = {"traces": [r.as_json() for r in results]}
    if len(results) == 1:
        body.update(results[0].as_json())
    return json_response(body, 201 if changed else 200)


def _batch_response(results: list[Any], errors: list[dict[str, Any]]) -> Response:
    body: dict[str, Any] = {"traces": [r.as_json() for r in results], "errors": errors}
    if errors and not results:
        statuses = {e["status"] for e in errors}
        return json_response(body, statuses.pop() if len(statuses) == 1 else 422)
    if not results:
        return json_response({**body, "detail": "the batch holds no payload"}, 400)
    if errors:
        return json_response(body, 207)
    return json_response(body, 201 if any(r.status != "unchanged" for r in results) else 200)
