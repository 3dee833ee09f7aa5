"""The trace page's data: panes plus the grades, pattern, suspects and findings beside them, each linked
to the steps it cites."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from evswarm.core.steps import Trace
from evswarm.review.panes import build_panes
from evswarm.review.sidecar import Tables, grade_for
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
        seen = [
            {
                **{k: f.get(k) for k in ("kind", "severity", "subject", "message")},
                "cites": [c for e in f.get("evidence") or [] for c in _citations(e, trace, span_steps, step_ids)],
            }
            for f in grade.get("findings") or []
            if f.get("rubric") == rubric
        ]
        cites = [c for f in seen for c in f["cites"]] or _citations(reason, trace, span_steps, step_ids)
        rows.append(
            {
                "rubric": rubric,
                "passed": rubric not in (grade.get("failed") or []),
                "score": (grade.get("scores") or {}).get(rubric),
                "reason": reason,
                "findings": seen,
                "cites": list(dict.fromkeys(cites)),
            }
        )
    return {"passed": grade.get("passed"), "score_mean": grade.get("score_mean"), "rubrics": rows}


def _steps_of(event_id: str | None, trace: Trace, span_steps: dict[str, list[str]], step_ids: set[str]) -> list[str]:
    """The step ids of an analysis step id (a span id, an event id or a step id); [] for the input."""
    if not event_id:
        return []
    return _citations(event_id, trace, span_steps, step_ids)


def _history(tables: Tables, pattern_id: int) -> dict[str, Any]:
    """The pattern's status against the previous analysis and its prevalence over the chain of analyses
    (`OUT/lineage.json`); empty when the analysis has no lineage."""
    line = tables.lineage.get(pattern_id)
    if line is None:
        return {"status": None, "basis": None, "related": [], "history": [], "steps": 0}
    batches = {s.step: s.batch for s in tables.lineage_steps}
    return {
        "status": line.latest.status,
        "basis": line.latest.basis,
        "related": line.latest.related,
        "history": [
            {"step": s.step, "batch": batches.get(s.step, ""), "status": s.status, "prevalence": s.prevalence,
             "traces": s.trace_count, "basis": s.basis}
            for s in line.history
        ],
        "steps": len(tables.lineage_steps),
    }  # fmt: skip


def _analysis(state: ReviewState, trace: Trace, span_steps: dict[str, list[str]], step_ids: set[str]) -> dict[str, Any]:
    """The trace's pattern, attribution, top suspect steps and its pattern's suspects, each linked to
    the steps of the panes (`cites`)."""
    tables = state.analysis.tables
    run_id = trace.trace_id
    member = tables.trace_patterns.get(run_id)
    pattern: dict[str, Any] | None = None
    if member is not None:
        info = tables.patterns.get(member.pattern_id)
        pattern = {
            "id": member.pattern_id,
            "label": member.pattern,
            "traces": info.trace_count if info else None,
            "prevalence": info.prevalence if info else None,
            "anchor_event_id": member.anchor_event_id,
            "anchor_reason": member.anchor_reason,
            "anchor_cites": _steps_of(member.anchor_event_id, trace, span_steps, step_ids),
            "stability": info.stability if info else None,
            **_history(tables, member.pattern_id),
        }
    attribution: dict[str, Any] | None = None
    found = tables.attribution.get(run_id)
    if found is not None:
        attribution = {
            **found.model_dump(mode="json"),
            "cites": _steps_of(found.suspect_event_id, trace, span_steps, step_ids),
            "anchor_cites": _steps_of(found.anchor_event_id, trace, span_steps, step_ids),
        }
    suspect_steps = [
        {**row.model_dump(mode="json"), "cites": _steps_of(row.event_id, trace, span_steps, step_ids)}
        for row in tables.suspect_steps.get(run_id, [])
    ]
    pattern_suspects = (
        [s.model_dump(mode="json") for s in tables.suspects.get(member.pattern_id, [])[:5]] if member else []
    )
    return {
        "pattern_info": pattern,
        "attribution": attribution,
        "suspect_steps": suspect_steps,
        "pattern_suspects": pattern_suspects,
    }


def diff_url(left: str, *, right: str | None = None, twin: str | None = None) -> str:
    """The diff page comparing trace `left` with trace `right`, or with its counterfactual twin `twin`."""
    params = {"left": left, **({"right": right} if right is not None else {}), **({"twin": twin} if twin else {})}
    return "/diff?" + urlencode(params)


def _twins(state: ReviewState, run_id: str) -> list[dict[str, Any]]:
    """The run's counterfactual twins (`counterfactual_runs`), each with its intervention's verdict on the
    run's pattern (`causes`) and the address of the side-by-side diff, then the twin the per-run cause
    search found (`run_causes`); controls last."""
    tables = state.analysis.tables
    rows = []
    for twin in tables.twins.get(run_id, []):
        cause = tables.causes.get((twin.pattern_id, twin.intervention))
        rows.append(
            {
                **twin.model_dump(mode="json", exclude={"counterfactual_dir"}),
                "description": cause.description if cause else None,
                "verdict": cause.verdict if cause else None,
                "diff_url": diff_url(run_id, twin=twin.intervention),
            }
        )
    found = tables.run_causes.get(run_id)
    if found is not None and found.found_by == "search" and found.counterfactual_dir:
        slug = Path(found.counterfactual_dir).name
        rows.append(
            {
                "run_id": run_id, "pattern_id": found.pattern_id, "intervention": slug, "flipped": True,
                "symptoms_before": found.symptoms_before, "symptoms_after": found.symptoms_after, "identical": False,
                "label": " + ".join(found.components),
                "description": f"{found.description} (a minimal change the per-run search found, {slug})",
                "verdict": None, "diff_url": diff_url(run_id, twin=slug),
            }
        )  # fmt: skip
    return sorted(rows, key=lambda r: (r["intervention"] == "control", not r["flipped"], r["intervention"]))


def trace_view(state: ReviewState, trace: Trace, *, version: int, latest: int, digest: str) -> dict[str, Any]:
    panes = build_panes(trace)
    span_steps: dict[str, list[str]] = panes["span_steps"]
    step_ids = {s.step_id for s in trace.steps}
    pattern = state.analysis.pattern_of(state.store, trace.trace_id)
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
        **_analysis(state, trace, span_steps, step_ids),
        "twins": _twins(state, trace.trace_id),
        "findings": findings,
        "step_of": {ref: span_steps[span] for ref, span in trace.refs.items() if span in span_steps},
    }
