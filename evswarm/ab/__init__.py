"""A/B: grade a new agent version against the old one.

`run_ab` simulates the same scenarios under two version sets, grades both arms and compares them pair by
pair; `compare_batches` compares two existing batches (paired when they ran the same scenarios). Both
write `ab.json` (`evswarm.core.ab`), `ab.md` and `junit.xml`, and say whether the candidate regressed:
the exit code CI gates on. This stage drives the simulator, reads grades and bundles through core, and
grades through a function the caller passes in (it never imports the grading stage)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evswarm.ab.compare import compare_batches
    from evswarm.ab.run import run_ab

__all__ = ["compare_batches", "run_ab"]


def __getattr__(name: str) -> Any:
    if name == "run_ab":
        from evswarm.ab.run import run_ab

        return run_ab
    if name == "compare_batches":
        from evswarm.ab.compare import compare_batches

        return compare_batches
    raise AttributeError(name)
