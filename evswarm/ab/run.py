"""`run_ab`: a paired A/B run. Simulate the same N scenarios under two version sets (same seed: same orders,
same world, same organic draws for every agent whose version did not change), grade both arms, compare
them pair by pair and decide.

The arms are ordinary batch directories (`OUT/base`, `OUT/candidate`), so the review app, `replay` and
`verify` work on them, and re-running the same command finishes an interrupted run without redoing what
is complete.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evswarm.ab.arms import load_arm
from evswarm.ab.compare import Grader, check_thresholds, compare_arms, ensure_graded, needs_grading
from evswarm.ab.render import write_outputs
from evswarm.core.ab import ABReport
from evswarm.core.errors import EvswarmError
from evswarm.simulator import simulate
from evswarm.simulator.plan import batch_versions, load_catalog, model_table

ARMS = ("base", "candidate")


class ArmFailed(EvswarmError):
    """An arm could not run every scenario (a runner error, or a model server that failed runs): no verdict."""

    exit_code = 1


def _check_inputs(
    base: str, candidate: str, runs: int, out: Path, versions: Path | None, model: str, base_url: str | None
) -> None:
    """Everything that can be checked before a single run: fail fast, write nothing."""
    if runs < 1:
        raise EvswarmError(f"--runs must be at least 1 (got {runs})")
    if out.exists() and not out.is_dir():
        raise EvswarmError(f"--out {out} is a file, not a directory")
    from evswarm.agents.providers import parse_model

    catalog = load_catalog(versions)
    catalog.get(base, option="--base")
    catalog.get(candidate, option="--candidate")
    model_table(catalog, batch_versions(catalog, [base, candidate], model, base_url), parse_model(model, base_url))


def run_ab(
    base: str,
    candidate: str,
    *,
    runs: int,
    seed: int,
    out: Path,
    grade: Grader,
    versions: Path | None = None,
    alpha: float = 0.05,
    max_regression: float = 0.0,
    workers: int | None = None,
    model: str = "offline",
    base_url: str | None = None,
    progress: bool = True,
    on_stage: Callable[[str], None] = lambda message: None,
) -> ABReport:
    """Run both arms into `out/base` and `out/candidate`, grade them with `grade`, and write `out/ab.json`,
    `out/ab.md` and `out/junit.xml`. The report's `verdict.exit_code` is 1 when the candidate regresses
    significantly by more than `max_regression` points on any rubric or symptom pattern."""
    check_thresholds(alpha, max_regression)
    _check_inputs(base, candidate, runs, out, versions, model, base_url)
    for role, version_set in zip(ARMS, (base, candidate), strict=True):
        on_stage(f"simulating the {role} arm: {runs} runs of {version_set} (seed {seed}) into {out / role}")
        report = simulate(
            runs,
            seed,
            out / role,
            version_sets=[version_set],
            versions=versions,
            workers=workers,
            model=model,
            base_url=base_url,
            progress=progress,
        )
        crashed = list(report.runner_errors.values())
        trouble = report.model_trouble or (
            f"{len(crashed)} run(s) crashed in the runner, e.g. {crashed[0]}" if crashed else None
        )
        if trouble:
            raise ArmFailed(
                f"the {role} arm ({version_set}) is incomplete, so there is no verdict: {trouble}",
                hint="fix the cause and run the same command again (complete runs are kept)",
            )
    for role in ARMS:
        if needs_grading(out / role):
            on_stage(f"grading the {role} arm")
            ensure_graded(out / role, grade)
    on_stage("comparing the arms pair by pair")
    result = compare_arms(
        load_arm("base", out / "base"),
        load_arm("candidate", out / "candidate"),
        alpha=alpha,
        max_regression=max_regression,
    )
    write_outputs(out, result)
    return result
