"""A rubric verdict: pass, score, the symptoms the rubric saw (structured findings) and a reason for people.

A rubric fails exactly when it has a finding of severity `error`. Findings name symptoms in the frozen
vocabulary of `evswarm.core.symptoms` and cite the steps where the symptom shows; the reason is the
findings' messages (or, when the rubric passed, why it passed) with the cited ids appended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from evswarm.core.labels import RubricFinding
from evswarm.core.symptoms import Severity, Symptom


class Check(BaseModel):
    """One weighted check inside a rubric: passes, or reports a symptom."""

    model_config = ConfigDict(frozen=True)

    weight: float
    symptom: Symptom | None = None
    """None: the check holds. Otherwise what the rubric saw."""
    subject: str | None = None
    message: str
    evidence: list[str] = Field(default_factory=list)
    severity: Severity = Severity.ERROR

    @classmethod
    def ok(cls, weight: float, message: str) -> Check:
        return cls(weight=weight, message=message)

    @classmethod
    def saw(
        cls, weight: float, symptom: Symptom, message: str, evidence: Sequence[str | None], subject: str | None = None
    ) -> Check:
        return cls(weight=weight, symptom=symptom, subject=subject, message=message, evidence=_ids(evidence))

    @property
    def failed(self) -> bool:
        return self.symptom is not None and self.severity == Severity.ERROR


class Verdict(BaseModel):
    """One rubric's judgement of one bundle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rubric: str
    passed: bool
    score: float = Field(ge=0.0, le=1.0)
    reason: str
    findings: list[RubricFinding] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    error: str | None = None

    @classmethod
    def from_checks(cls, rubric: str, checks: list[Check], *, empty: str, evidence: list[str | None]) -> Verdict:
        """Combine weighted checks: pass iff no check failed; score = weighted share of checks that hold.

        `empty` is the reason when there is nothing to check; `evidence` is cited when the rubric passed."""
        findings = [
            RubricFinding(
                rubric=rubric,
                kind=c.symptom,
                severity=c.severity,
                subject=c.subject,
                message=c.message,
                evidence=c.evidence,
            )
            for c in checks
            if c.symptom is not None
        ]
        failed = [c for c in checks if c.failed]
        total = sum(c.weight for c in checks)
        earned = sum(c.weight for c in checks if not c.failed)
        if failed:
            cited = _ids([e for c in failed for e in c.evidence])
            reason = "; ".join(c.message for c in failed)
        else:
            cited = _ids(evidence)
            reason = "; ".join(c.message for c in checks if c.symptom is None) or empty
        return cls(
            rubric=rubric,
            passed=not failed,
            score=round(earned / total, 3) if total else 1.0,
            reason=_cite(reason, cited),
            findings=findings,
            evidence=cited,
        )

    @classmethod
    def crashed(cls, rubric: str, exc: BaseException) -> Verdict:
        """A grader that raised: recorded as an error, never as an agent failure."""
        message = f"{type(exc).__name__}: {exc}"
        return cls(rubric=rubric, passed=False, score=0.0, reason=f"grader error: {message}", error=message)

    def to_promptfoo(self) -> dict[str, Any]:
        """The GradingResult shape promptfoo's assertion passes through, plus the structured findings."""
        result: dict[str, Any] = {
            "pass": self.passed,
            "score": self.score,
            "reason": self.reason,
            "findings": [f.model_dump(mode="json") for f in self.findings],
        }
        if self.error is not None:
            result["error"] = self.error
        return result


def _ids(evidence: Sequence[str | None]) -> list[str]:
    return list(dict.fromkeys(e for e in evidence if e))


def _cite(text: str, ids: list[str]) -> str:
    if not ids:
        return text
    shown = ids[:8]
    more = f", +{len(ids) - len(shown)} more" if len(ids) > len(shown) else ""
    return f"{text} [evidence: {', '.join(shown)}{more}]"
