"""Step-by-step comparison of two traces: a run and its counterfactual twin, two versions of one order,
or any two traces in a format `evswarm import` reads.

Steps are aligned on what they are (kind, agent, tool), longest common subsequence first, so a step
inserted early does not misalign everything after it; aligned steps whose content (arguments, text,
error, structured data) differs are reported as changed. Times and ids never count as differences.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Literal

from evswarm.core.steps import Step, StepKind, Trace

Op = Literal["same", "changed", "removed", "added"]

_PAIRED_KINDS = {StepKind.TOOL_RESULT}
"""Results render with their call, so they are compared with it rather than on their own."""


@dataclass(frozen=True)
class StepPair:
    """One row of a diff: a step of the left trace, of the right trace, or one of each."""

    op: Op
    left: Step | None
    right: Step | None
    left_index: int | None
    """The left step's position among the compared steps (None when the step is only on the right)."""
    right_index: int | None


@dataclass
class TraceDiff:
    """Two traces aligned step by step (see the module docstring)."""

    left: Trace
    right: Trace
    pairs: list[StepPair]

    @property
    def identical(self) -> bool:
        """No step differs and the final answers agree."""
        return self.answer_changed is False and all(p.op == "same" for p in self.pairs)

    @property
    def answer_changed(self) -> bool:
        return answer_text(self.left) != answer_text(self.right)

    def first_difference(self) -> StepPair | None:
        return next((p for p in self.pairs if p.op != "same"), None)

    def counts(self) -> dict[str, int]:
        out = {"same": 0, "changed": 0, "removed": 0, "added": 0}
        for pair in self.pairs:
            out[pair.op] += 1
        return out


def compared_steps(trace: Trace) -> list[Step]:
    """The steps a diff aligns: every step but tool results (which travel with their call)."""
    return [s for s in trace.steps if s.kind not in _PAIRED_KINDS]


def answer_text(trace: Trace) -> str:
    return "\n".join(s.text for s in trace.steps if s.kind == StepKind.ANSWER)


def _key(step: Step) -> tuple[str, str, str]:
    return (step.kind.value, step.agent or "", step.tool or step.label or "")


def _content(step: Step, results: dict[str, str]) -> str:
    data = json.dumps(step.data, sort_keys=True, default=str) if step.data is not None else ""
    result = results.get(step.call_id or "", "")
    return "\x1f".join([step.arguments or "", step.text, step.error or "", data, result])


def _results(trace: Trace) -> dict[str, str]:
    return {s.call_id: s.text + (s.error or "") for s in trace.steps if s.kind == StepKind.TOOL_RESULT and s.call_id}


def diff_traces(left: Trace, right: Trace) -> TraceDiff:
    """Align `left` and `right` step by step (see the module docstring)."""
    a, b = compared_steps(left), compared_steps(right)
    results_a, results_b = _results(left), _results(right)
    matcher = difflib.SequenceMatcher(None, [_key(s) for s in a], [_key(s) for s in b], autojunk=False)
    pairs: list[StepPair] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                same = _content(a[i], results_a) == _content(b[j], results_b)
                pairs.append(StepPair("same" if same else "changed", a[i], b[j], i, j))
            continue
        pairs += [StepPair("removed", a[i], None, i, None) for i in range(i1, i2)]
        pairs += [StepPair("added", None, b[j], None, j) for j in range(j1, j2)]
    return TraceDiff(left, right, pairs)


def describe(step: Step, width: int = 90) -> str:
    """A one-line summary of a step: who, what, and the start of its content."""
    who = step.agent or "?"
    what = step.tool or step.label or step.kind.value
    body = step.arguments or step.text or step.error or ""
    body = " ".join(body.split())
    line = f"{who} · {step.kind.value} {what}" if what != step.kind.value else f"{who} · {what}"
    if body:
        line += f": {body}"
    return line if len(line) <= width else line[: width - 1] + "…"
