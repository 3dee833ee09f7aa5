"""`evswarm ab` (a paired A/B run of two version sets) and `evswarm compare` (two existing batches)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from evswarm.cli.app import Command, app, user_errors

EXIT_CODES = (
    "Exit codes: 0 no check regressed beyond the tolerance, 1 some check did (or an arm could not run every "
    "scenario), 2 bad input (the message names the file, line or field)."
)

AB_HELP = "\n\n".join(
    [
        "Grade a new agent version against the old one: simulate the same N scenarios under --base and "
        "--candidate (same orders, same world, same random draws for every agent whose version did not "
        "change), grade both arms, compare them pair by pair, and decide.",
        "Per rubric and symptom pattern: both rates, the paired difference with a 95% interval and an exact "
        "McNemar test, Holm-corrected over every check; steps whose share of runs changes are listed too "
        "(not gated). A check fails the gate when it regresses significantly by more than --max-regression "
        "points (default: any significant regression).",
        "Writes OUT/base and OUT/candidate (ordinary batch directories: `evswarm serve OUT/candidate` opens the "
        "traces), OUT/ab.json, OUT/ab.md (a pull-request summary, verdict first) and OUT/junit.xml (for CI). "
        "Re-running the same command finishes an interrupted run.",
        EXIT_CODES,
    ]
)


def _grader(name: str, progress: bool) -> Callable[[Path], object]:
    """Grading as the A/B stage calls it: the grading stage's public function, quiet."""
    from rich.console import Console

    from evswarm.evals import grade

    def run(batch_dir: Path) -> object:
        return grade(batch_dir, grader=name, progress=progress, console=Console(stderr=True, quiet=not progress))

    return run


MAX_REGRESSION = typer.Option(
    0.0,
    "--max-regression",
    metavar="PTS",
    help="Tolerated regression in percentage points (0: any significant one fails).",
)
ALPHA = typer.Option(0.05, "--alpha", metavar="A", help="Significance level, family-wise over every gating check.")


@app.command(
    "ab",
    cls=Command,
    short_help="Grade a new agent version against the old one on the same scenarios; exit 1 on a regression.",
    help=AB_HELP,
    epilog="Example: evswarm ab --base v1.0 --candidate v1.4 --runs 100 --out runs/ab",
)
@user_errors
def ab_command(
    base: str = typer.Option(
        ..., "--base", metavar="V", show_default=False, help="The version set to compare against (e.g. v1.0)."
    ),
    candidate: str = typer.Option(..., "--candidate", metavar="V", show_default=False, help="The new version set."),
    runs: int = typer.Option(
        ..., "--runs", metavar="N", show_default=False, help="Scenarios per arm (the same N in both)."
    ),
    seed: int = typer.Option(
        42, "--seed", metavar="S", help="Batch seed of both arms: run i depends only on (seed, i)."
    ),
    out: Path = typer.Option(
        ..., "--out", metavar="DIR", show_default=False, help="Directory for both arms and the verdict."
    ),
    versions: Path | None = typer.Option(
        None,
        "--versions",
        metavar="FILE",
        show_default=False,
        help="Your version file (YAML; see `evswarm versions`).",
    ),
    max_regression: float = MAX_REGRESSION,
    alpha: float = ALPHA,
    workers: int | None = typer.Option(
        None, "--workers", metavar="K", show_default=False, help="Worker processes (default: one per core)."
    ),
    model: str = typer.Option(
        "offline",
        "--model",
        metavar="offline|openai:MODEL",
        help="Model of every agent whose version names none.",
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", metavar="URL", show_default=False, help="OpenAI-compatible server for openai:MODEL."
    ),
    grader: str = typer.Option(
        "offline",
        "--grader",
        metavar="offline|openai:MODEL",
        help="offline, or openai:MODEL (adds model-graded rubrics).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    from evswarm.ab import run_ab

    report = run_ab(
        base,
        candidate,
        runs=runs,
        seed=seed,
        out=out,
        grade=_grader(grader, not quiet),
        versions=versions,
        alpha=alpha,
        max_regression=max_regression,
        workers=workers,
        model=model,
        base_url=base_url,
        progress=not quiet,
        on_stage=lambda message: typer.echo(message, err=True),
    )
    typer.echo((out / "ab.md").read_text(encoding="utf-8"))
    typer.echo(f"Wrote {out / 'ab.json'}, {out / 'ab.md'} and {out / 'junit.xml'}.")
    raise typer.Exit(report.verdict.exit_code)


COMPARE_HELP = "\n\n".join(
    [
        "Compare two existing batches (BASE, then CANDIDATE) the way `evswarm ab` compares its arms.",
        "Paired when they ran the same scenarios (same seed and run ids, same orders and world), else "
        "unpaired: independent samples, Fisher's exact test and Newcombe's interval. Two `simulate` batches "
        "with different seeds are refused unless --unpaired asks for that. A batch without grades (or with "
        "bundles newer than its grades) is graded first.",
        EXIT_CODES,
    ]
)


@app.command(
    "compare",
    cls=Command,
    short_help="The A/B verdict for two existing batches (paired when they ran the same scenarios).",
    help=COMPARE_HELP,
    epilog="Example (after `evswarm ab`): evswarm compare runs/ab/base runs/ab/candidate",
)
@user_errors
def compare_command(
    base_dir: Path = typer.Argument(..., metavar="BASE", show_default=False, help="The base batch directory."),
    candidate_dir: Path = typer.Argument(
        ..., metavar="CANDIDATE", show_default=False, help="The candidate batch directory."
    ),
    out: Path | None = typer.Option(
        None, "--out", metavar="OUT", show_default=False, help="Write ab.json, ab.md and junit.xml here."
    ),
    max_regression: float = MAX_REGRESSION,
    alpha: float = ALPHA,
    unpaired: bool = typer.Option(False, "--unpaired", help="Compare as independent samples, even across seeds."),
    grader: str = typer.Option(
        "offline", "--grader", metavar="offline|openai:MODEL", help="Grader for a batch that has no grades yet."
    ),
) -> None:
    from evswarm.ab import compare_batches
    from evswarm.ab.render import markdown

    report = compare_batches(
        base_dir,
        candidate_dir,
        out=out,
        alpha=alpha,
        max_regression=max_regression,
        unpaired=unpaired,
        grade=_grader(grader, False),
    )
    typer.echo(markdown(report))
    if out is not None:
        typer.echo(f"Wrote {out / 'ab.json'}, {out / 'ab.md'} and {out / 'junit.xml'}.")
    raise typer.Exit(report.verdict.exit_code)
