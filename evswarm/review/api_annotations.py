"""Annotation routes: annotators, labels, export, agreement and the server status."""

from __future__ import annotations

from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evswarm.core.palette import agent_colors
from evswarm.core.steps import TRACE_ID_PATTERN
from evswarm.review.agreement import agreement_table, calibration_table
from evswarm.review.annotations import export_csv, export_jsonl, issue_token, latest_labels, save_labels
from evswarm.review.auth import Principal, principal, reader, require_admin, require_annotator
from evswarm.review.http import MAX_INT64, ClientGone, error_response, gone, read_body, state_of
from evswarm.review.ingest import PayloadError
from evswarm.review.sidecar import all_grades

router = APIRouter()
_state = state_of

MAX_LABEL_BODY = 64 * 1024


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


class AnnotatorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")


class LabelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=MAX_INT64)
    content_hash: str | None = None
    labels: dict[str, Any] = Field(min_length=1)
    step_ids: list[str] = Field(default_factory=list, max_length=500)


@router.get("/api/config")
def config(request: Request, who: Principal = Depends(reader)) -> Response:
    """What the pages need: agent colours, pane labels, collapse threshold and the annotation schemes."""
    state = _state(request)
    cfg = state.config
    agents = [
        str(row[0])
        for row in state.store.reader().execute("SELECT DISTINCT value FROM traces, json_each(traces.agents)")
    ]
    return _json(
        {
            "agent_colors": agent_colors(agents),
            "pane_labels": cfg.pane_labels,
            "collapse_lines": cfg.collapse_lines,
            "schemes": [s.model_dump(mode="json") for s in cfg.schemes.schemes],
        }
    )


@router.get("/api/health")
def health(request: Request) -> Response:
    """Liveness and start-up progress, open to all (no trace data: counts need a token, see /api/status)."""
    return _json({"ok": True, "loading": _state(request).loading})


@router.get("/api/status")
def status(request: Request, who: Principal = Depends(reader)) -> Response:
    """Counts, and for the server token the most recent import errors (they name files)."""
    state = _state(request)
    body: dict[str, Any] = {
        "traces": state.store.count(),
        "last_feed_id": state.store.last_feed_id(),
        "import_error_count": state.store.error_count(),
        "loading": state.loading,
    }
    if who.role == "admin":
        body["import_errors"] = state.store.errors()
    return _json(body)


class SignInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=8, max_length=100)


@router.post("/api/signin")
async def signin(request: Request) -> Response:
    """Trade a one-time sign-in code (from a link `evswarm serve` printed) for its token, once."""
    state = _state(request)
    try:
        body = SignInRequest.model_validate_json(await read_body(request, MAX_LABEL_BODY))
    except PayloadError as exc:
        return error_response(exc)
    except ClientGone:
        return gone()
    except ValidationError:
        return _json({"detail": 'send {"code": "..."} from a sign-in link'}, 422)
    token = state.signin.redeem(body.code)
    if token is None:
        return _json({"detail": "this sign-in link was used already or has expired: ask for a new one"}, 401)
    return _json({"token": token})


@router.get("/api/whoami")
def whoami(who: Principal = Depends(principal)) -> Response:
    return _json({"name": who.name, "role": who.role})


@router.post("/api/annotators")
async def create_annotator(request: Request, who: Principal = Depends(require_admin)) -> Response:
    """Create an annotator (or give it a new token). The token is shown once, with a one-time sign-in link
    (a path: prefix the server's address)."""
    state = _state(request)
    try:
        body = AnnotatorRequest.model_validate_json(await read_body(request, MAX_LABEL_BODY))
    except PayloadError as exc:
        return error_response(exc)
    except ClientGone:
        return gone()
    except ValidationError as exc:
        return _json({"detail": f"invalid annotator: {exc.errors()[0]['msg']}"}, 422)
    token = await anyio.to_thread.run_sync(issue_token, state.store, body.name)
    link = f"/#signin={state.signin.issue(token)}"
    return _json({"name": body.name, "token": token, "signin_link": link}, 201)


@router.post("/api/traces/{trace_id}/annotations")
async def post_labels(request: Request, trace_id: str, who: Principal = Depends(require_annotator)) -> Response:
    """Save labels for one version of a trace, with the step ids they refer to."""
    state = _state(request)
    if not TRACE_ID_PATTERN.match(trace_id):
        raise HTTPException(status_code=404, detail="no such trace")
    try:
        body = LabelRequest.model_validate_json(await read_body(request, MAX_LABEL_BODY))
    except PayloadError as exc:
        return error_response(exc)
    except ClientGone:
        return gone()
    except ValidationError as exc:
        first = exc.errors()[0]
        return _json({"detail": f"field `{'.'.join(map(str, first['loc']))}`: {first['msg']}"}, 422)
    digest = state.store.version_hash(trace_id, body.version)
    if digest is None:
        raise HTTPException(status_code=404, detail="no such trace version")
    if body.content_hash is not None and body.content_hash != digest:
        return _json({"detail": "content_hash does not match that version of the trace"}, 409)
    schemes = state.config.schemes.by_name()
    clean: dict[str, Any] = {}
    for name, value in body.labels.items():
        if name not in schemes:
            return _json({"detail": f"unknown scheme {name!r}"}, 422)
        try:
            clean[name] = schemes[name].validate_value(value)
        except ValueError as exc:
            return _json({"detail": str(exc)}, 422)
    get = state.store.get(trace_id, body.version)
    assert get is not None
    steps = {s.step_id: s for s in get[0].steps}
    unknown = [s for s in body.step_ids if s not in steps]
    if unknown:
        return _json({"detail": f"unknown step ids: {unknown[:5]}"}, 422)
    for name, value in clean.items():
        if isinstance(value, dict):  # a responsible step: its agent (and tool) follow from the step
            step = steps.get(value["step_id"])
            if step is None:
                return _json({"detail": f"{name}: {value['step_id']!r} is not a step of this trace"}, 422)
            clean[name] = {"step_id": step.step_id, "agent": step.agent, "tool": step.tool, "kind": step.kind.value}
    saved = await anyio.to_thread.run_sync(
        lambda: save_labels(
            state.store,
            trace_id=trace_id,
            version=body.version,
            digest=digest,
            annotator=who.name,
            labels=clean,
            step_ids=body.step_ids,
            schemes=state.config.schemes,
        )
    )
    return _json({"saved": saved, "annotator": who.name, "version": body.version, "content_hash": digest}, 201)


@router.get("/api/traces/{trace_id}/annotations")
def get_labels(request: Request, trace_id: str, who: Principal = Depends(principal)) -> Response:
    """The newest labels on a trace: an annotator sees their own, the admin sees all."""
    state = _state(request)
    annotator = None if who.role == "admin" else who.name
    return _json({"labels": latest_labels(state.store, trace_id=trace_id, annotator=annotator)})


@router.get("/api/annotations/export")
def export(
    request: Request,
    format: str = Query("jsonl", pattern="^(jsonl|csv)$"),
    who: Principal = Depends(principal),
) -> Response:
    """The newest labels as JSONL or CSV (with trace version, content hash, step ids): an annotator's own
    only (labelling stays blind), every annotator's for the server token."""
    rows = latest_labels(_state(request).store, annotator=None if who.role == "admin" else who.name)
    if format == "csv":
        return Response(
            export_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="annotations.csv"'},
        )
    return Response(
        export_jsonl(rows),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="annotations.jsonl"'},
    )


@router.get("/api/agreement")
def agreement(request: Request, who: Principal = Depends(reader)) -> Response:
    """Inter-annotator agreement per scheme and human-vs-promptfoo calibration per rubric."""
    state = _state(request)
    rows = latest_labels(state.store)
    return _json(
        {
            "agreement": agreement_table(rows, state.config.schemes),
            "calibration": calibration_table(rows, all_grades(state.store), state.config.schemes),
        }
    )
