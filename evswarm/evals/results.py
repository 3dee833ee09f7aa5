"""Turn promptfoo's JSON output (results version 3) into label rows, one per test case."""

from __future__ import annotations

import json
from typing import Any

from evswarm.core.labels import LabelRow
from evswarm.evals.config import LLM_PREFIX
from evswarm.evals.labels import error_row, graded_row
from evswarm.evals.rubrics import RUBRICS, applicable


def label_rows(
    output: dict[str, Any],
    run_ids: list[str],
    facts: dict[str, dict[str, Any]],
    *,
    llm: bool,
    extra: tuple[str, ...] = (),
) -> list[LabelRow]:
    """Label rows in `run_ids` order; a run promptfoo reports nothing for becomes an error row."""
    by_run: dict[str, dict[str, Any]] = {}
    for result in output["results"].get("results") or []:
        run_id = ((result.get("vars") or {}).get("run_id")) or ((result.get("testCase") or {}).get("vars") or {}).get(
            "run_id"
        )
        if isinstance(run_id, str):
            by_run[run_id] = result
    rows = []
    for run_id in run_ids:
        result = by_run.get(run_id)
        if result is None:
            rows.append(error_row(run_id, "promptfoo returned no result for this run", facts.get(run_id)))
        else:
            rows.append(_row(run_id, result, facts.get(run_id) or {}, llm=llm))
            if extra and not rows[-1].is_error:
                _add_extra(rows[-1], result, extra)
    return rows


def _add_extra(row: LabelRow, result: dict[str, Any], metrics: tuple[str, ...]) -> None:
    """The user's own assertions: a score, a reason and (when failed) a failed check per metric."""
    components = (result.get("gradingResult") or {}).get("componentResults") or []
    for component in components:
        metric = (component.get("assertion") or {}).get("metric")
        if metric not in metrics:
            continue
        row.promptfoo_check_scores[metric] = float(component.get("score") or 0.0)
        row.promptfoo_rationales[metric] = str(component.get("reason") or "")
        if not component.get("pass"):
            row.promptfoo_failed_checks.append(metric)
            row.promptfoo_pass = False if row.promptfoo_pass is not None else None
            row.promptfoo_primary_finding = row.promptfoo_primary_finding or metric


def _row(run_id: str, result: dict[str, Any], fallback: dict[str, Any], *, llm: bool) -> LabelRow:
    payload = _provider_payload(result)
    if payload is None:
        response = result.get("response") or {}
        message = response.get("error") or result.get("error") or "the provider returned no output"
        return error_row(run_id, str(message), fallback)

    grades: dict[str, dict[str, Any]] = payload.get("grades") or {}
    verdicts: dict[str, dict[str, Any]] = {}
    llm_verdicts: dict[str, dict[str, Any]] = {}
    for component in (result.get("gradingResult") or {}).get("componentResults") or []:
        metric = (component.get("assertion") or {}).get("metric")
        if metric in RUBRICS:
            verdicts[metric] = component
        elif isinstance(metric, str) and metric.startswith(LLM_PREFIX) and metric[len(LLM_PREFIX) :] in RUBRICS:
            llm_verdicts[metric[len(LLM_PREFIX) :]] = component
    for name in RUBRICS:  # findings come from the provider; its verdict stands in if promptfoo lost the assertion
        if name in grades:
            verdicts[name] = {**grades[name], **verdicts.get(name, {}), "findings": grades[name].get("findings") or []}
    for name in [n for n in verdicts if n not in grades]:  # an assertion without a provider verdict: not ours
        del verdicts[name]
    errors = [name for name in RUBRICS if (grades.get(name) or {}).get("error")]
    facts = {**fallback, **{k: payload.get(k) for k in ("case_type", "run_outcome", "agent_version_set")}}
    applies = applicable(bool(payload.get("has_oracle", True)))
    row = graded_row(run_id=run_id, facts=facts, verdicts=verdicts, errors=errors, order=RUBRICS, applicable=applies)
    if llm:
        _add_llm(row, llm_verdicts, result)
    return row


def _provider_payload(result: dict[str, Any]) -> dict[str, Any] | None:
    output = (result.get("response") or {}).get("output")
    if not isinstance(output, str):
        return None
    try:
        payload = json.loads(output)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) and isinstance(payload.get("grades"), dict) else None


def _add_llm(row: LabelRow, verdicts: dict[str, dict[str, Any]], result: dict[str, Any]) -> None:
    """Fill the llm-rubric columns; a judge that could not answer is an llm error, not an agent failure."""
    row.promptfoo_llm_check_scores = {n: float(verdicts[n].get("score") or 0.0) for n in RUBRICS if n in verdicts}
    row.promptfoo_llm_failed_checks = [n for n in RUBRICS if n in verdicts and not verdicts[n].get("pass")]
    row.promptfoo_llm_rationales = {n: str(verdicts[n].get("reason") or "") for n in RUBRICS if n in verdicts}
    if len(verdicts) < len(RUBRICS):
        missing = [n for n in RUBRICS if n not in verdicts]
        row.promptfoo_llm_error = f"model grader gave no verdict on {', '.join(missing)}: " + str(
            result.get("error") or "no grading result"
        )
