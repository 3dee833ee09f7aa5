"""A rubric verdict: pass, score and a reason that cites the span or event ids it rests on."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Verdict(BaseModel):
    """One rubric's judgement of one bundle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rubric: str
    passed: bool
    score: float = Field(ge=0.0, le=1.0)
    reason: str
    evidence: list[str] = Field(default_factory=list)
    error: str | None = None

    @classmethod
    def build(
        cls, rubric: str, *, checks: list[tuple[bool, float, str]], evidence: list[str | None], empty: str
    ) -> Verdict:
        """Combine weighted checks `(ok, weight, message)`: pass iff all hold, score = weighted share."""
        ids = list(dict.fromkeys(e for e in evidence if e))
        if not checks:
            return cls(rubric=rubric, passed=True, score=1.0, reason=_cite(empty, ids), evidence=ids)
        total = sum(weight for _, weight, _ in checks)
        earned = sum(weight for ok, weight, _ in checks if ok)
        failed = [message for ok, _, message in checks if not ok]
        passed = not failed
        messages = failed if failed else [message for _, _, message in checks]
        return cls(
            rubric=rubric,
            passed=passed,
            score=round(earned / total, 3) if total else 1.0,
            reason=_cite("; ".join(messages), ids),
            evidence=ids,
        )

    @classmethod
    def make(
        cls, rubric: str, *, passed: bool, score: float, reason: str, evidence: list[str | None]
    ) -> Verdict:
        """A verdict with an explicit score; the reason gets the evidence ids appended."""
        ids = list(dict.fromkeys(e for e in evidence if e))
        return cls(
            rubric=rubric,
            passed=passed,
            score=round(min(1.0, max(0.0, score)), 3),
            reason=_cite(reason, ids),
            evidence=ids,
        )

    @classmethod
    def crashed(cls, rubric: str, exc: BaseException) -> Verdict:
        """A grader that raised: recorded as an error, never as an agent failure."""
        message = f"{type(exc).__name__}: {exc}"
        return cls(rubric=rubric, passed=False, score=0.0, reason=f"grader error: {message}", error=message)

    def to_promptfoo(self) -> dict[str, Any]:
        """The GradingResult shape promptfoo's javascript assertion passes through."""
        result: dict[str, Any] = {"pass": self.passed, "score": self.score, "reason": self.reason}
        if self.error is not None:
            result["error"] = self.error
        return result


def _cite(text: str, ids: list[str]) -> str:
    if not ids:
        return f"{text} [evidence: none recorded]"
    shown = ids[:8]
    more = f", +{len(ids) - len(shown)} more" if len(ids) > len(shown) else ""
    return f"{text} [evidence: {', '.join(shown)}{more}]"
