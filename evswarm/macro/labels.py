"""Read grading labels (`eval_labels.jsonl`, the reference's columns) and join them to traces.

Labels are optional. Rows for runs that are not in the batch, and unreadable rows, are counted and
reported, never fatal. Span and event ids cited in rationales are kept: they make good anchors.
Each failed rubric's rationale also yields its failure kinds: graders write `<kind> (<details>)`
messages joined by '; ', and the kind without details is stable across traces. When the outcome rubric
(`final_decision_quality`) failed together with a process rubric, only the process rubrics' kinds are
kept: they say where the run went wrong, and the wrong outcome follows from that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from evswarm.core.errors import EvswarmError

_PREFIX = re.compile(r"^\s*\d+ of \d+ [a-z()]+ mishandled:\s*")
_CITED = re.compile(r"\b(?:span|evt)_[0-9A-Za-z]+_\d{3,}\b")
_EVIDENCE = re.compile(r"\s*\[evidence:[^\]]*\]")
# the reference's older label format names rubrics assertion_1..5 in this order
REFERENCE_RUBRICS = [
    "final_decision_quality",
    "market_drift_awareness",
    "policy_compliance_correctness",
    "review_appropriateness",
    "routing_specialist_activation",
]
OUTCOME_RUBRICS = frozenset({"final_decision_quality"})
"""Rubrics that judge the end result rather than a step of the process."""
LABEL_COLUMNS = [
    "run_id",
    "promptfoo_pass",
    "failed_rubrics",
    "promptfoo_score_mean",
    "promptfoo_primary_finding",
    "rationale_text",
    "cited_ids",
    "cited_weights",
    "failure_kinds",
]


def strip_details(text: str) -> str:
    """Drop parenthesized details (nested too): graders write `<failure kind> (<details>)`."""
    out, depth = [], 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    return re.sub(r"\s+", " ", "".join(out)).strip(" ;,.")


def failure_kinds(rationale: str) -> list[str]:
    """The stable failure kinds in one rubric rationale: its `; `-separated messages without details,
    evidence or counts ('stockout not noticed', 'specialist never consulted: X')."""
    text = _PREFIX.sub("", _EVIDENCE.sub("", rationale))
    kinds = [part.strip(" ;,.") for part in strip_details(text).split("; ")]
    return list(dict.fromkeys(k for k in kinds if k))


@dataclass
class Labels:
    table: pd.DataFrame
    path: Path | None = None
    bad_rows: list[str] = field(default_factory=list)
    unknown_runs: int = 0

    @property
    def present(self) -> bool:
        return self.path is not None and not self.table.empty


def _rubric(name: Any) -> str:
    text = str(name)
    if text.startswith("assertion_") and text[10:].isdigit() and 1 <= int(text[10:]) <= len(REFERENCE_RUBRICS):
        return REFERENCE_RUBRICS[int(text[10:]) - 1]
    return text


def _row(data: dict[str, Any]) -> dict[str, Any]:
    failed = data.get("promptfoo_failed_checks") or []
    if not isinstance(failed, list):
        failed = [failed]
    rationales = data.get("promptfoo_rationales") or {}
    if not isinstance(rationales, dict):
        rationales = {"rationale": str(rationales)}
    failed_names = sorted({_rubric(f) for f in failed})
    # rationales of failed rubrics tell why; fall back to all when the failed set is unnamed
    keys = [k for k in sorted(rationales) if _rubric(k) in failed_names] or (
        [] if data.get("promptfoo_pass") is not False else sorted(rationales)
    )
    weights: dict[str, float] = {}
    for k in keys:
        ids = list(dict.fromkeys(_CITED.findall(str(rationales[k]))))
        for cid in ids:  # a rubric that cites few steps points more precisely than one citing many
            weights[cid] = weights.get(cid, 0.0) + 1.0 / len(ids)
    # the prose (without evidence lists) enriches documents; the cited ids become anchor candidates
    text = " ".join(f"{_rubric(k)}: {_EVIDENCE.sub('', str(rationales[k])).strip()}." for k in keys)
    # the outcome rubric judges the end result; when a process rubric failed too, that one says where the
    # run went wrong and the outcome's kind is its consequence (a wrong decision after a wrong price)
    process = [k for k in keys if _rubric(k) not in OUTCOME_RUBRICS]
    kinds = sorted({kind for k in (process or keys) for kind in failure_kinds(str(rationales[k]))})
    passed = data.get("promptfoo_pass")
    return {
        "run_id": str(data["run_id"]),
        "promptfoo_pass": None if passed is None else bool(passed),
        "failed_rubrics": failed_names,
        "promptfoo_score_mean": data.get("promptfoo_score_mean"),
        "promptfoo_primary_finding": data.get("promptfoo_primary_finding"),
        "rationale_text": text,
        "cited_ids": list(weights),
        "cited_weights": list(weights.values()),
        "failure_kinds": kinds,
    }


def read_labels(path: Path | None, known_runs: set[str]) -> Labels:
    """Parse the label file; rows for unknown runs or with bad JSON are skipped and counted."""
    if path is None:
        return Labels(pd.DataFrame(columns=LABEL_COLUMNS))
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise EvswarmError(f"cannot read labels {path}: {exc.strerror}") from exc
    rows: dict[str, dict[str, Any]] = {}
    bad: list[str] = []
    unknown = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            bad.append(f"{path}:{number}: not valid JSON ({exc})")
            continue
        if not isinstance(data, dict) or not isinstance(data.get("run_id"), str):
            bad.append(f"{path}:{number}: field `run_id` is missing")
            continue
        if data["run_id"] not in known_runs:
            unknown += 1
            continue
        rows[data["run_id"]] = _row(data)
    table = pd.DataFrame(list(rows.values()), columns=LABEL_COLUMNS)
    return Labels(table, path, bad, unknown)


def attach(traces: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """Left-join label columns onto the trace table (empty lists / None where a run has no label)."""
    merged = traces.merge(labels.table, on="run_id", how="left")
    for col in ("failed_rubrics", "cited_ids", "cited_weights", "failure_kinds"):
        merged[col] = merged[col].apply(lambda v: v if isinstance(v, list) else [])
    merged["rationale_text"] = merged["rationale_text"].fillna("")
    merged["promptfoo_failed"] = merged["promptfoo_pass"].eq(False)
    return merged
