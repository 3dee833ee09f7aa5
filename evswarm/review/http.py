"""Request helpers shared by the routes: JSON responses, bounded body reading and content types."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect

from evswarm.review.ingest import PayloadError
from evswarm.review.state import ReviewState

logger = logging.getLogger("evswarm.review")

MAX_INT64 = 2**63 - 1  # the largest id, version or offset SQLite can hold


class ClientGone(Exception):
    """The client disconnected before its request body was complete: nothing to answer."""


def state_of(request: Request) -> ReviewState:
    state: ReviewState = request.app.state.review
    return state


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)


def media_type(request: Request) -> str:
    """The request's content type without parameters, lower case ('' when absent)."""
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


def require_media_type(request: Request, allowed: tuple[str, ...]) -> str:
    """The request's media type if it is one of `allowed`; PayloadError 415 otherwise."""
    found = media_type(request)
    if found not in allowed:
        shown = found or "none"
        raise PayloadError(415, f"Content-Type {shown!r} is not accepted here; send {' or '.join(allowed)}")
    return found


async def read_body(request: Request, limit: int, timeout: float | None = None) -> bytes:
    """The request body, at most `limit` bytes (413 past it), each chunk within `timeout` seconds (408).

    Raises ClientGone if the client disconnects first.
    """
    if timeout is None:
        timeout = state_of(request).config.body_timeout
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit() and len(declared) <= 18):
            raise PayloadError(400, "invalid Content-Length")
        if int(declared) > limit:
            raise PayloadError(413, f"body of {declared} bytes is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    loop = asyncio.get_running_loop()
    try:
        # One timer for the whole body, moved on with each chunk (cheaper than a task per chunk).
        async with asyncio.timeout(timeout) as deadline:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadError(413, f"body is over the limit of {limit} bytes")
                chunks.append(chunk)
                deadline.reschedule(loop.time() + timeout)
    except TimeoutError:
        raise PayloadError(408, f"the request body stalled for {timeout:g} s; send it at once") from None
    except ClientDisconnect:
        logger.info("client disconnected while sending a request body to %s", request.url.path)
        raise ClientGone from None
    return b"".join(chunks)


def error_response(exc: PayloadError) -> Response:
    """The JSON answer to a PayloadError (a stalled body also closes the connection)."""
    headers = {"Connection": "close"} if exc.status in (408, 413) else None
    return json_response({"detail": exc.message}, exc.status, headers)


def gone() -> Response:
    """The answer to a client that has gone (never sent: there is no one to read it)."""
    return Response(status_code=499)
