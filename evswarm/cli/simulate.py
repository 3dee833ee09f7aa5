"""`evswarm simulate`: make a batch of runs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from evswarm.agents.versions import describe
from evswarm.cli.app import app, user_errors


@app.command(
    "simulate",
    epilog=describe().replace("\n", "\n\n"),
    help=(
        "Generate N customer orders and run the agent swarm on each, writing one trace bundle per run.\n\n"
        "Writes DIR/bundles/run_<id>.json, DIR/results.jsonl, DIR/run_summary.json and "
        "DIR/trace_snapshot.sqlite. Same --seed, same bundles, byte for byte. Re-running the same command "
        "finishes an interrupted batch and rewrites nothing complete.\n\n"
        "Without --version-set, runs spread over every version set on the default schedule, so the batch "
        "contains planted faults. --versions FILE adds your own version sets (YAML; see `evswarm versions`). "
        "Example: evswarm simulate --runs 200 --seed 42 --out runs/batch1"
    ),
)
@user_errors
def simulate_command(
    runs: int = typer.Option(..., "--runs", help="Number of runs (orders) in the batch."),
    seed: int = typer.Option(42, "--seed", help="Batch seed: run i depends only on (seed, i)."),
    out: Path = typer.Option(..., "--out", help="Batch directory to create or resume."),
    version_set: list[str] = typer.Option(
        None,
        "--version-set",
        help="Restrict runs to these version sets (repeatable). Default: the mixed rollout schedule.",
    ),
    versions: Path = typer.Option(
        None,
        "--versions",
        help="A version file (YAML) whose version sets stand beside the built-in ones: per agent a policy, "
        "instructions, a model and faults (see `evswarm versions`).",
    ),
    workers: int = typer.Option(None, "--workers", help="Worker processes (default: one per core)."),
    model: str = typer.Option(
        "offline",
        "--model",
        help="'offline' (deterministic policy model) or 'openai:MODEL' (needs OPENAI_API_KEY), for every agent "
        "whose version names no model of its own.",
    ),
    base_url: str = typer.Option(None, "--base-url", help="OpenAI-compatible server for --model openai:MODEL."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    from evswarm.simulator import simulate

    console = Console(soft_wrap=True)
    report = simulate(
        runs,
        seed,
        out,
        version_sets=version_set or None,
        versions=versions,
        workers=workers,
        model=model,
        base_url=base_url,
        progress=not quiet,
    )
    statuses = ", ".join(f"{k} {v}" for k, v in report.status_counts.items())
    console.print(
        f"[bold]{report.requested}[/] runs in {out} ({report.skipped} already complete, "
        f"{report.ran} run now) in {report.seconds:.1f}s: {statuses}"
    )
    for run_id, error in report.runner_errors.items():
        console.print(f"[red]runner error[/] {run_id}: {error}")
    if report.model_trouble:
        console.print(f"[red]{report.model_trouble}[/]", highlight=False, soft_wrap=True)
    if report.runner_errors or report.model_trouble:
        raise typer.Exit(1)
