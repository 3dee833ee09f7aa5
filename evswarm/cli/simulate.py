"""`evswarm simulate` and `evswarm faults`: make a batch of runs, and list version sets and faults."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from evswarm.agents.versions import FAULTS, ROGUE_WINDOWS, VERSION_SETS, describe
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
        "contains planted faults. Example: evswarm simulate --runs 200 --seed 42 --out runs/batch1"
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
    workers: int = typer.Option(None, "--workers", help="Worker processes (default: one per core)."),
    model: str = typer.Option(
        "offline", "--model", help="'offline' (deterministic policy model) or 'openai:MODEL' (needs OPENAI_API_KEY)."
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


@app.command("faults")
def faults_command() -> None:
    """List every version set, planted fault and rogue window, with what each one does."""
    sets = Table(title="Version sets")
    for column in ("version set", "orchestrator", "faults", "description"):
        sets.add_column(column, no_wrap=column != "description")
    for vs in VERSION_SETS.values():
        sets.add_row(vs.name, vs.orchestrator_mode, ", ".join(vs.faults) or "none", vs.description)
    faults = Table(title="Faults")
    for column in ("fault", "responsible agent", "trigger", "what goes wrong"):
        faults.add_column(column, no_wrap=column in ("fault", "responsible agent"))
    for fault in FAULTS.values():
        faults.add_row(fault.fault_id, fault.agent_name, fault.trigger, fault.description)
    windows = Table(title="Rogue windows")
    for column in ("window", "fault", "from", "to", "version sets"):
        windows.add_column(column, no_wrap=column != "version sets")
    for w in ROGUE_WINDOWS:
        windows.add_row(w.window_id, w.fault_id, w.start, w.end, ", ".join(w.version_sets))
    console = Console()
    for table in (sets, faults, windows):
        console.print(table)
