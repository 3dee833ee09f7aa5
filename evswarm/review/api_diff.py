"""The diff route: two traces side by side, aligned step by step (`evswarm.core.trace_diff`, the alignment
`evswarm diff` prints). It compares two stored traces (or two versions of one), or a stored run with its
counterfactual twin, which `evswarm verify` wrote to `<analysis>/counterfactual/<intervention>/bundles/`
and which is read from there on demand. Same auth as reading a trace; every bad request is a 4xx naming
what is wrong."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from evswarm.core.causes import TWINS_DIR
from evswarm.core.formats import ImportFormatError, to_traces
from evswarm.core.layout import BatchLayout
from evswarm.core.steps import TRACE_ID_PATTERN, Step, StepKind, Trace
from evswarm.core.trace_diff import StepPair, TraceDiff, answer_text, compared_steps, describe, diff_traces
from evswarm.review.auth import Principal, reader
from evswarm.review.http import MAX_INT64, json_response, state_of
from evswarm.review.ingest import PayloadError, parse_json
from evswarm.review.state import ReviewState

router = APIRouter()

SLUG_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
"""A twin directory's name: an intervention's as `Intervention.slug` writes it (`control`, `agent-PricingAgent`,
`tool-get_tariffs`), or a search round's (`search-3`)."""
MAX_DIFF_STEPS = 500
"""Steps a diff aligns per trace, at most: the alignment (difflib's matcher) grows faster than the square of
the step count on traces whose agents alternate, so longer traces are refused rather than left to stall a
worker. A simulated run has some fifty."""
SUMMARY_WIDTH = 120
FIELDS = ("arguments", "text", "error", "data", "result")
"""A step's content, compared field by field to say what changed."""


def _not_found(message: str) -> HTTPException:
    return HTTPException(status_code=404, detail=message)


def _stored(state: ReviewState, trace_id: str, version: int | None, side: str) -> tuple[Trace, dict[str, Any]]:
    """A stored trace (a given version, or the latest) and its header; 404 naming it when it is missing."""
    if not TRACE_ID_PATTERN.match(trace_id):
        raise _not_found(f"{side}: no such trace {trace_id[:140]!r}")
    found = state.store.get(trace_id, version)
    if found is None:
        if version is not None and state.store.get(trace_id) is not None:
            raise _not_found(f"{side}: trace {trace_id} has no version {version}")
        raise _not_found(f"{side}: no such trace {trace_id}")
    trace, found_version, _, latest = found
    href = "/traces/" + quote(trace_id, safe="") + ("" if found_version == latest else f"?version={found_version}")
    return trace, {"version": found_version, "latest_version": latest, "href": href, "twin": None}


def _inside(path: Path, root: Path) -> bool:
    real, real_root = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    return real_root in real.parents


def twin_path(analysis: Path, run_id: str, slug: str) -> Path:
    """The bundle of run `run_id`'s twin under intervention `slug`; 400 for a malformed name or a path that
    leaves the twins' directory (a symlink out of it included)."""
    if not SLUG_PATTERN.match(slug):
        raise HTTPException(
            status_code=400,
            detail=f"twin: {slug[:140]!r} is not an intervention name (letters, digits, '-' and '_', "
            "as in agent-PricingAgent or control)",
        )
    root = analysis / TWINS_DIR
    path = BatchLayout(root / slug).bundle_path(run_id)
    if "/" in run_id or "\\" in run_id or (path.exists() and not _inside(path, root)):
        raise HTTPException(status_code=400, detail=f"twin: {slug}/{run_id} is outside the twins' directory")
    return path


def _twin(state: ReviewState, run_id: str, slug: str) -> tuple[Trace, dict[str, Any]]:
    """Run `run_id`'s counterfactual twin under intervention `slug`, read from its bundle, and its header."""
    analysis = state.config.analysis_dir
    if analysis is None:
        raise _not_found("twin: this server reads no analysis directory (serve DIR --analysis OUT), so it has no twins")
    path = twin_path(analysis, run_id, slug)
    shown = f"{TWINS_DIR}/{slug}/bundles/{run_id}.json"
    if not path.is_file():
        raise _not_found(
            f"twin: run {run_id} has no twin under {slug} ({shown} is missing; `evswarm verify` writes it)"
        )
    try:
        with path.open("rb") as handle:
            raw = handle.read(state.config.max_body + 1)
    except OSError as exc:
        raise _not_found(f"twin: {shown} cannot be read: {exc.strerror or exc}") from None
    if len(raw) > state.config.max_body:
        raise HTTPException(
            status_code=422, detail=f"twin: {shown} is over the size limit of {state.config.max_body:,} bytes"
        )
    try:
        traces = to_traces(parse_json(raw), depth_checked=True)
    except PayloadError as exc:
        raise HTTPException(status_code=422, detail=f"twin: {shown}: {exc.message}") from None
    except ImportFormatError as exc:
        raise HTTPException(status_code=422, detail=f"twin: {shown}: {exc}") from None
    if len(traces) != 1:
        raise HTTPException(status_code=422, detail=f"twin: {shown} holds {len(traces)} traces, not one")
    tables = state.analysis.tables
    row = next((t for t in tables.twins.get(run_id, []) if t.intervention == slug), None)
    cause = tables.causes.get((row.pattern_id, slug)) if row else None
    info = {
        "intervention": slug,
        "description": cause.description if cause else None,
        "verdict": cause.verdict if cause else None,
        "flipped": row.flipped if row else None,
        "symptoms_before": row.symptoms_before if row else None,
        "symptoms_after": row.symptoms_after if row else None,
        "identical": row.identical if row else None,
        "path": shown,
    }
    found = tables.run_causes.get(run_id)
    if row is None and found is not None and found.counterfactual_dir == f"{TWINS_DIR}/{slug}":
        info.update(description=found.description, flipped=True, identical=False,
                    symptoms_before=found.symptoms_before, symptoms_after=found.symptoms_after)  # fmt: skip
    return traces[0], {"version": None, "latest_version": None, "href": None, "twin": info}


def _header(trace: Trace, extra: dict[str, Any]) -> dict[str, Any]:
    steps = compared_steps(trace)
    if len(steps) > MAX_DIFF_STEPS:
        raise HTTPException(
            status_code=422,
            detail=f"trace {trace.trace_id} has {len(steps):,} steps to compare; the diff aligns at most "
            f"{MAX_DIFF_STEPS} per trace",
        )
    fields = ("trace_id", "title", "case_type", "outcome", "version_set", "source_format")
    return {
        **{name: getattr(trace, name) for name in fields},
        **extra,
        "steps": len(steps),
        "answer": answer_text(trace),
    }


def _results(trace: Trace) -> dict[str, tuple[str, str | None]]:
    """Call id -> (result text, error) of the tool results, which travel with their call."""
    out: dict[str, tuple[str, str | None]] = {}
    for step in trace.steps:
        if step.kind == StepKind.TOOL_RESULT and step.call_id:
            text, error = out.get(step.call_id, ("", None))
            out[step.call_id] = (text + ("\n" if text else "") + step.text, step.error or error)
    return out


def _content(step: Step, results: dict[str, tuple[str, str | None]]) -> dict[str, Any]:
    text, error = results.get(step.call_id or "", ("", None))
    return {
        "arguments": step.arguments,
        "text": step.text,
        "error": step.error,
        "data": step.data,
        "result": text if step.call_id in results else None,
        "result_error": error,
    }


def _side(step: Step | None, index: int | None, content: dict[str, Any] | None) -> dict[str, Any] | None:
    if step is None:
        return None
    side = {
        "index": index,
        "step_id": step.step_id,
        "kind": step.kind.value,
        "agent": step.agent,
        "tool": step.tool,
        "label": step.label,
        "summary": describe(step, SUMMARY_WIDTH),
    }
    return side if content is None else {**side, **content}


def _row(pair: StepPair, left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """One aligned row; changed, removed and added rows carry the content needed to show the difference,
    and a changed row names the fields that differ."""
    detail = pair.op != "same"
    a = _content(pair.left, left) if detail and pair.left else None
    b = _content(pair.right, right) if detail and pair.right else None
    row: dict[str, Any] = {
        "op": pair.op,
        "left": _side(pair.left, pair.left_index, a),
        "right": _side(pair.right, pair.right_index, b),
    }
    if a is not None and b is not None:
        row["differs"] = [
            name
            for name in FIELDS
            if a[name] != b[name] or (name == "result" and a["result_error"] != b["result_error"])
        ]
    return row


def diff_payload(diff: TraceDiff, left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """The response: both traces' headers, the aligned rows, counts, the first differing row and the answers."""
    results_left, results_right = _results(diff.left), _results(diff.right)
    rows = [_row(pair, results_left, results_right) for pair in diff.pairs]
    first = next((i for i, row in enumerate(rows) if row["op"] != "same"), None)
    return {
        "left": left,
        "right": right,
        "rows": rows,
        "counts": diff.counts(),
        "first_difference": first,
        "answer_changed": diff.answer_changed,
        "identical": diff.identical,
    }


@router.get("/api/diff")
def get_diff(
    request: Request,
    left: str = Query(..., max_length=200, description="the trace on the left (a stored trace id)"),
    right: str | None = Query(None, max_length=200, description="the trace on the right (a stored trace id)"),
    twin: str | None = Query(None, max_length=200, description="or: the left run's twin under this intervention"),
    left_version: int | None = Query(None, ge=1, le=MAX_INT64),
    right_version: int | None = Query(None, ge=1, le=MAX_INT64),
    who: Principal = Depends(reader),
) -> Response:
    """Two traces aligned step by step: `left` and `right` (two stored traces, or two versions of one with
    `left_version` / `right_version`), or `left` and its counterfactual twin `twin=<intervention>`."""
    if (right is None) == (twin is None):
        raise HTTPException(status_code=400, detail="give either right=TRACE_ID or twin=INTERVENTION (not both)")
    if twin is not None and right_version is not None:
        raise HTTPException(status_code=400, detail="right_version applies to a stored trace, not to a twin")
    state = state_of(request)
    a, left_info = _stored(state, left, left_version, "left")
    b, right_info = (
        _twin(state, left, twin) if twin is not None else _stored(state, right or "", right_version, "right")
    )
    headers = _header(a, left_info), _header(b, right_info)
    return json_response(diff_payload(diff_traces(a, b), *headers))
