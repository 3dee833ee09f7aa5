"""Bearer-token checks: the server token (ingestion, admin) and annotator tokens (labels, reads).

Reads need a token by default (either kind); `--public-read` opens them to anyone who can reach the
server. Labels and exports always need a token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request

from evswarm.review.annotations import annotator_for
from evswarm.review.state import ReviewState


@dataclass(frozen=True)
class Principal:
    name: str
    role: str  # "admin", "annotator", or "public" (no token, with --public-read)


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    api_key = request.headers.get("x-api-key")
    return api_key.strip() if api_key else None


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def _lookup(state: ReviewState, token: str) -> Principal | None:
    if secrets.compare_digest(token.encode(), state.config.token.encode()):
        return Principal("admin", "admin")
    name = annotator_for(state.store, token)
    return None if name is None else Principal(name, "annotator")


def principal(request: Request) -> Principal:
    """Who sent the request; 401 without a valid token."""
    state: ReviewState = request.app.state.review
    token = _token(request)
    if not token:
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    who = _lookup(state, token)
    if who is None:
        raise _unauthorized("invalid token")
    return who


def reader(request: Request) -> Principal:
    """Who may read: any valid token; with --public-read also no token at all (a wrong token is 401)."""
    state: ReviewState = request.app.state.review
    if state.config.public_read and not _token(request):
        return Principal("public", "public")
    return principal(request)


def stream_reader(request: Request, ticket: str | None) -> Principal:
    """Like `reader`, but a single-use ticket from POST /api/traces/stream/ticket also counts."""
    if ticket:
        state: ReviewState = request.app.state.review
        found = state.tickets.redeem(ticket)
        if found is None:
            raise _unauthorized("invalid or expired stream ticket: ask POST /api/traces/stream/ticket for one")
        return Principal(found.name, found.role)
    return reader(request)


def require_admin(request: Request) -> Principal:
    who = principal(request)
    if who.role != "admin":
        raise HTTPException(status_code=403, detail="this needs the server token")
    return who


def require_annotator(request: Request) -> Principal:
    who = principal(request)
    if who.role != "annotator":
        raise HTTPException(status_code=403, detail="labels need an annotator token (POST /api/annotators)")
    return who
