"""Render each trace as text, five ways (the reference's views), leaving out shared boilerplate.

Views: `full_trace` (salient events), `failure_window` (events around the anchor),
`state_transitions` (route and status changes), `tool_review` (tool calls, findings, guardrails,
failed rubrics with the grader's rationale) and `summary` (the view that is embedded and clustered).

The summary describes behavior only. With grades it is the grader's failure kinds ('stockout not
noticed', 'specialist never consulted: X'; see `labels.failure_kinds`), the rarest kind in the
population first; without them: outcome, findings, the route, the failure window and the tool digest.
Case type, version set and regimes are left out on purpose: they are the slices the patterns are
explained by afterwards, so they must not shape the patterns themselves.
Lines that nearly every document in the population shares are dropped from the summary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

VIEWS = ("summary", "full_trace", "failure_window", "state_transitions", "tool_review")
_NUM = re.compile(r"(?<![A-Za-z_])\d+(?:[.,]\d+)*")
_DASHED = re.compile(r"\b([a-z]+)(?:-[a-z0-9_]+){2,}\b")
FULL_MAX, HEAD, TAIL = 42, 12, 10
WINDOW_BEFORE, WINDOW_AFTER = 6, 8
BOILERPLATE_SHARE = 0.9


@dataclass
class _Trace:
    """One trace's events as arrays (sorted by seq)."""

    seq: np.ndarray
    kind: np.ndarray
    agent: np.ndarray
    tool: np.ndarray
    marker: np.ndarray
    text: np.ndarray
    source: np.ndarray
    target: np.ndarray
    anchor: int

    def line(self, i: int) -> str:
        flag = f" [{self.marker[i]}]" if self.marker[i] else ""
        where = "ANCHOR " if self.seq[i] == self.anchor else ""
        return f"{where}{self.text[i]}{flag}"

    def lines(self, idx: Iterable[int]) -> list[str]:
        return [self.line(int(i)) for i in idx]


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _full(t: _Trace) -> list[str]:
    n = len(t.seq)
    if n <= FULL_MAX:
        return t.lines(range(n))
    a = int(np.searchsorted(t.seq, t.anchor))
    window = range(max(a - 10, 0), min(a + 10, n))
    keep = sorted(set(range(HEAD)) | set(range(n - TAIL, n)) | set(window))[:FULL_MAX]
    return [f"(showing {len(keep)} of {n} events)", *t.lines(keep)]


def _window(t: _Trace) -> list[str]:
    mask = (t.seq >= t.anchor - WINDOW_BEFORE) & (t.seq <= t.anchor + WINDOW_AFTER)
    return t.lines(np.flatnonzero(mask))


def _route(t: _Trace) -> str:
    hops = [f"{s}->{d}" for s, d, k in zip(t.source, t.target, t.kind, strict=True) if k == "handoff"]
    return " | ".join(hops[:24])


def _transitions(t: _Trace) -> list[str]:
    status = _dedupe([str(x) for x, k in zip(t.text, t.kind, strict=True) if k == "status"])
    return [f"route: {_route(t) or 'no handoffs'}", *status[:10]]


def _tools(t: _Trace, rubrics: list[str], rationale: str) -> list[str]:
    out = [t.line(i) for i in range(len(t.seq)) if t.kind[i] in ("function", "guardrail", "review")]
    out = _dedupe(out)[:16]
    out += [t.line(i) for i in range(len(t.seq)) if t.kind[i] == "finding"]
    if rubrics:
        out.append(f"failed rubrics: {', '.join(rubrics)}")
    if rationale:
        out.append(f"grader says: {rationale[:600]}")
    return out


def _amount(n: int, what: str) -> str:
    """Counters as words, so documents compare by kind of behavior, not by exact count."""
    return f"no {what}" if n <= 0 else f"a few {what}" if n <= 2 else f"many {what}"


def _agent_path(t: _Trace) -> str:
    """The sequence of agents that held control, consecutive repeats collapsed."""
    path = [str(d) for d, k in zip(t.target, t.kind, strict=True) if k == "handoff" and d]
    collapsed = [a for i, a in enumerate(path) if i == 0 or a != path[i - 1]]
    return " > ".join(collapsed[:30])


def _step(t: _Trace, i: int) -> str:
    """A step's skeleton: who did what kind of thing with which tool, and any failure marker or error."""
    tool = f" {t.tool[i]}" if t.tool[i] else ""
    flag = f" [{t.marker[i]}]" if t.marker[i] else ""
    text = str(t.text[i])
    error = f" error: {text.split(' ERROR ', 1)[1]}" if " ERROR " in text else ""
    return f"{t.agent[i]} {t.kind[i]}{tool}{flag}{error}"


def generalize(text: str) -> str:
    """Keep what kind of thing a sentence talks about, not which one: numbers become '#', dashed
    identifiers keep their leading word ('tariff-semiconductor-2025-09' -> 'tariff')."""
    return _NUM.sub("#", _DASHED.sub(r"\1", text))


def generalize_series(text: pd.Series) -> pd.Series:
    """`generalize` over a column (vectorized regex replacement)."""
    return text.str.replace(_DASHED, r"\1", regex=True).str.replace(_NUM, "#", regex=True)


def _summary(t: _Trace, row: dict[str, Any]) -> list[str]:
    """The clustered view: what went wrong, then the shape of the run around it (no free text).

    With a grade, the failed rubrics and the grader's reasons make the document (findings describe the
    case more than the fault); without one, warning/error findings, the path and the failure window do."""
    graded = row.get("promptfoo_pass") is not None and row.get("promptfoo_pass") == row.get("promptfoo_pass")
    kinds = list(row.get("failure_kinds") or [])
    if graded and kinds:
        # the grader's failure kinds say what went wrong, stably across traces ('stockout not noticed');
        # `build` orders them most specific first
        return [generalize(k) for k in kinds]
    lines: list[str] = []
    if row.get("failed_rubrics"):
        lines.append(f"failed rubrics: {', '.join(row['failed_rubrics'])}")
    if row.get("rationale_text"):
        lines.append(f"grader says: {generalize(str(row['rationale_text']))[:600]}")
    if graded:
        # the grader compared the run with the correct handling: its verdicts say what went wrong, while
        # outcome, loop counts and findings mostly describe the kind of case
        return lines
    lines.append(f"outcome {row['run_outcome']}")
    lines.append(f"{_amount(int(row['loop_count']), 'loops')}, {_amount(int(row['retry_count']), 'retries')}")
    findings = [
        generalize(str(t.text[i]))
        for i in range(len(t.seq))
        if t.kind[i] == "finding" and t.marker[i] in ("finding_error", "finding_warning")
    ]
    lines += findings or ["no findings"]
    if graded:
        return lines
    lines.append(f"path: {_agent_path(t)}")
    window = np.flatnonzero((t.seq >= t.anchor - WINDOW_BEFORE) & (t.seq <= t.anchor + 2))
    steps = [_step(t, int(i)) for i in window if t.kind[int(i)] not in ("finding", "status")]
    anchor_at = np.flatnonzero(t.seq == t.anchor)
    if len(anchor_at):
        lines.append(f"failure shows at: {_step(t, int(anchor_at[0]))}")
    lines.append("steps before: " + "; ".join(_dedupe(steps)))
    return lines


def _most_specific_first(docs: list[list[str]], kind_docs: list[bool]) -> list[list[str]]:
    """Order each failure-kind document's lines from the rarest kind in the population to the most common:
    a kind few traces share (a stockout not noticed) says more about what went wrong than a consequence
    many share (a wrong terminal state)."""
    counts = Counter(line for doc, k in zip(docs, kind_docs, strict=True) if k for line in set(doc))
    return [
        sorted(doc, key=lambda line: (counts[line], line)) if k else doc for doc, k in zip(docs, kind_docs, strict=True)
    ]


def _drop_boilerplate(docs: list[list[str]]) -> list[str]:
    """Join each document's lines, leaving out lines shared by >= 90% of documents (if >= 10 docs)."""
    if len(docs) >= 10:
        counts = Counter(line for doc in docs for line in set(doc))
        common = {line for line, c in counts.items() if c >= BOILERPLATE_SHARE * len(docs)}
    else:
        common = set()
    return ["\n".join(line for line in doc if line not in common) or "\n".join(doc) for doc in docs]


def build(traces: pd.DataFrame, events: pd.DataFrame, anchors: pd.DataFrame) -> pd.DataFrame:
    """One row per trace in `traces`: run_id and the five views (`doc_<view>` columns)."""
    ev = events[events.run_id.isin(set(traces.run_id))].sort_values(["run_id", "seq"], kind="stable")
    bounds = ev.groupby("run_id", sort=False).indices
    anchor_of = dict(zip(anchors.run_id, anchors.anchor_seq, strict=True))
    cols = {
        c: ev[c].to_numpy()
        for c in (
            "seq",
            "node_kind",
            "agent_name",
            "tool_name",
            "marker",
            "text",
            "source_agent",
            "target_agent",
        )
    }
    views: dict[str, list[str]] = {v: [] for v in VIEWS}
    summaries: list[list[str]] = []
    kind_docs: list[bool] = []
    for row in traces.to_dict("records"):
        idx = bounds.get(row["run_id"], np.array([], dtype=int))
        t = _Trace(
            seq=cols["seq"][idx],
            kind=cols["node_kind"][idx],
            agent=cols["agent_name"][idx],
            tool=cols["tool_name"][idx],
            marker=cols["marker"][idx],
            text=cols["text"][idx],
            source=cols["source_agent"][idx],
            target=cols["target_agent"][idx],
            anchor=int(anchor_of.get(row["run_id"], -1)),
        )
        rubrics = list(row.get("failed_rubrics") or [])
        views["full_trace"].append("\n".join(_full(t)))
        views["failure_window"].append("\n".join(_window(t)))
        views["state_transitions"].append("\n".join(_transitions(t)))
        views["tool_review"].append("\n".join(_tools(t, rubrics, str(row.get("rationale_text") or ""))))
        summaries.append(_summary(t, row))
        kind_docs.append(bool(row.get("failure_kinds")) and row.get("promptfoo_pass") is False)
    views["summary"] = _drop_boilerplate(_most_specific_first(summaries, kind_docs))
    out = pd.DataFrame({"run_id": traces.run_id.to_numpy()})
    for view in VIEWS:
        out[f"doc_{view}"] = views[view]
    return out
