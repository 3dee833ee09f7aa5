"""The frozen vocabulary of symptoms a grader may report, and finding severities.

A symptom says what is visibly wrong with a run, never why: no symptom names a planted fault, an
organic cause or the agent responsible. Graders (the EV rubrics and the oracle-free rubrics that apply
to any agent app) report their findings in these words only, and the analysis clusters on them.

The list was frozen on 2026-12-07, before any tuning of graders or analysis against it. Adding,
renaming or merging a symptom is a format change of `eval_labels.jsonl` (bump `LABELS_FORMAT` in
`evswarm.core.labels`) and must be argued from what users see, not from a benchmark score.
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is. `error` fails its rubric; `warning` and `info` do not."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Symptom(StrEnum):
    """What a grader saw. Values are stable identifiers written into label files."""

    # --- the outcome, against the correct handling (needs an oracle) ---------------------------------
    DECISION_MISMATCH = "decision_mismatch"
    STATUS_MISMATCH = "status_mismatch"
    NO_DECISION = "no_decision"
    PRICE_MISMATCH = "price_mismatch"
    FACTORY_MISMATCH = "factory_mismatch"
    SUBSTITUTION_MISMATCH = "substitution_mismatch"
    RULE_VIOLATED = "rule_violated"
    # --- the process, against the correct handling (needs an oracle) ---------------------------------
    SIGNAL_IGNORED = "signal_ignored"
    SIGNAL_MISAPPLIED = "signal_misapplied"
    SPECIALIST_SKIPPED = "specialist_skipped"
    EARLY_STOP = "early_stop"
    REVIEW_MISSING = "review_missing"
    REVIEW_UNNEEDED = "review_unneeded"
    # --- visible in any agent trace (no oracle needed) -------------------------------------------------
    LOOP = "loop"
    TOOL_ERROR = "tool_error"
    RETRIES_EXHAUSTED = "retries_exhausted"
    HANDOFF_UNRESOLVED = "handoff_unresolved"
    GUARDRAIL_TRIPPED = "guardrail_tripped"
    RUN_ERROR = "run_error"
    EMPTY_ANSWER = "empty_answer"
    CONTRADICTORY_ANSWER = "contradictory_answer"
    USER_REPEAT = "user_repeat"


SYMPTOM_DOCS: dict[Symptom, str] = {
    Symptom.DECISION_MISMATCH: "the final decision differs from the one the order called for",
    Symptom.STATUS_MISMATCH: "the run ended in a different state than the order called for",
    Symptom.NO_DECISION: "the run ended without a final decision",
    Symptom.PRICE_MISMATCH: "the quoted price is outside the tolerance around the correct price",
    Symptom.FACTORY_MISMATCH: "the order was released to another factory than the correct one",
    Symptom.SUBSTITUTION_MISMATCH: "the supplier substitutions differ from the ones the order needed",
    Symptom.RULE_VIOLATED: "an order that a rule in force blocks was released",
    Symptom.SIGNAL_IGNORED: "a dated signal in effect was not applied or not noticed",
    Symptom.SIGNAL_MISAPPLIED: "a dated signal that does not apply to the order was applied",
    Symptom.SPECIALIST_SKIPPED: "a specialist the order needed never ran",
    Symptom.EARLY_STOP: "the run stopped on a report before the steps the order needed",
    Symptom.REVIEW_MISSING: "the order needed human review and none was requested",
    Symptom.REVIEW_UNNEEDED: "human review was requested for an order that needed none",
    Symptom.LOOP: "control went round the same handoffs repeatedly without progress",
    Symptom.TOOL_ERROR: "a tool call returned an error",
    Symptom.RETRIES_EXHAUSTED: "a tool kept failing and the run went on without its result or gave up",
    Symptom.HANDOFF_UNRESOLVED: "a handoff named an agent that never took over, or control never came back",
    Symptom.GUARDRAIL_TRIPPED: "a guardrail stopped the run",
    Symptom.RUN_ERROR: "the run crashed or hit its turn limit",
    Symptom.EMPTY_ANSWER: "the run's final answer is empty",
    Symptom.CONTRADICTORY_ANSWER: "the final answer contradicts what the run's own steps established",
    Symptom.USER_REPEAT: "the user had to repeat the request",
}

NEEDS_ORACLE: frozenset[Symptom] = frozenset(
    {
        Symptom.DECISION_MISMATCH,
        Symptom.STATUS_MISMATCH,
        Symptom.NO_DECISION,
        Symptom.PRICE_MISMATCH,
        Symptom.FACTORY_MISMATCH,
        Symptom.SUBSTITUTION_MISMATCH,
        Symptom.RULE_VIOLATED,
        Symptom.SIGNAL_IGNORED,
        Symptom.SIGNAL_MISAPPLIED,
        Symptom.SPECIALIST_SKIPPED,
        Symptom.EARLY_STOP,
        Symptom.REVIEW_MISSING,
        Symptom.REVIEW_UNNEEDED,
    }
)
"""Symptoms that can only be told by comparing a run with the correct handling of its input."""
