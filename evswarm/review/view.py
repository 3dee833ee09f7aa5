"""The trace page's data: panes plus the grades, pattern, suspects and findings beside them, each linked
to the steps it cites."""

from __future__ import annotations

import re
from typing import Any

from evswarm.core.steps import Trace
from evswarm.review.panes import build_panes
from evswarm.review.sidecar import grade_for
from evswarm.review.state import ReviewState

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]*[A-Za-z0-9]")


def _citations(text: str, trace: Trace, span_steps: dict[str, list[str]], step_ids: set[str]) -> list[str]:
    """Step ids cited by a text: span ids, event ids (through their span) and step ids it mentions."""
    cited: list[str] = []
    for token in _TOKEN.findall(text or ""):
        if token in span_steps:
            cited += span_steps[token]
        elif token in trace.refs and trace.refs[token] in span_steps:
            cited += span_steps[trace.refs[token]]
        elif token in step_ids:
            cited.append(token)
    return list(dict.fromkeys(cited))


def _grades(
    state: ReviewState, trace: Trace, span_steps: dict[str, list[str]], step_ids: set[str]
) -> dict[str, Any] | None:
    grade = grade_for(state.store, trace.trace_id)
    if grade is None:
        return None
    rubrics = sorted(
        set(grade.get("scores") or {}) | set(grade.get("failed") or []) | set(grade.get("rationales") or {})
    )
    rows = []
    for rubric in rubrics:
        reason = str((grade.get("rationales") or {}).get(rubric, ""))
        rows.append(
            {
                "rubric": rubric,
                "passed": rubric not in (grade.get("failed") or []),
                "score": (grade.get("scores") or {}).get(rubric),
                "reason": reason,
                "cites": _citations(reason, trace, span_steps, step_ids),
            }
        )
    return {"passed": grade.get("passed"), "score_mean": grade.get("score_mean"), "rubrics": rows}


def trace_view(state: ReviewState, trace: Trace, *, version: int, latest: int, digest: str) -> dict[str, Any]:
    panes = build_panes(trace)
    span_steps: dict[str, list[str]] = panes["span_steps"]
    step_ids = {s.step_id for s in trace.steps}
    pattern = state.analysis.pattern_of(state.store, trace.trace_id)
    suspects = state.analysis.top_suspects(trace.trace_id, pattern)
    for suspect in suspects:
        suspect["cites"] = span_steps.get(str(suspect.get("span_id")), [])
    findings = []
    for finding in trace.findings:
        row = finding.model_dump(mode="json")
        row["cites"] = span_steps.get(finding.span_id or "", [])
        findings.append(row)
    return {
        "trace_id": trace.trace_id,
        "title": trace.title,
        "task": trace.task,
        "source_format": trace.source_format,
        "case_type": trace.case_type,
        "outcome": trace.outcome,
        "version_set": trace.version_set,
        "metadata": trace.metadata,
        "answer_source": trace.answer_source,
        "version": version,
        "latest_version": latest,
        "content_hash": digest,
        "versions": state.store.versions(trace.trace_id),
        "panes": panes,
        "grades": _grades(state, trace, span_steps, step_ids),
        "pattern": pattern,
        "suspects": suspects,
        "findings": findings,
    }
