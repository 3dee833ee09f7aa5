"""Grading: five deterministic rubric graders run inside a promptfoo Python provider.

Public entry: `grade(batch_dir, grader=...)`, which `evswarm grade` calls. This package reads bundles
through `evswarm.core` only and never reads a bundle's planted-fault records."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evswarm.evals.pipeline import GradeResult


def grade(batch_dir: Path, **kwargs: Any) -> GradeResult:
    """Grade every bundle of a batch (see `evswarm.evals.pipeline.grade`); imported lazily so promptfoo's
    provider workers load only the graders."""
    from evswarm.evals.pipeline import grade as run

    return run(batch_dir, **kwargs)


__all__ = ["grade"]
