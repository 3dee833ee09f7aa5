"""Bearer-token checks: the server token (ingestion, admin) and annotator tokens (labels)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request

from evswarm.review.annotations import annotator_for
from evswarm.review.state import ReviewState


@dataclass(frozen=True)
class Principal:
    name: str
    role: str  # "admin" or "annotator"


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    api_key = request.headers.get("x-api-key")
    return api_key.strip() if api_key else None


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def principal(request: Request) -> Principal:
    """Who sent the request; 401 without a valid token."""
    state: ReviewState = request.app.state.review
    token = _token(request)
    if not token:
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    if secrets.compare_digest(token.encode(), state.config.token.encode()):
        return Principal("admin", "admin")
    name = annotator_for(state.store, token)
    if name is None:
        raise _unauthorized("invalid token")
    return Principal(name, "annotator")


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
