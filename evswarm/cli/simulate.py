"""`evswarm simulate`: make a batch of runs."""

from __future__ import annotations

from pathlib import Path

import typer
from typer._click.core import Context
from typer._click.formatting import HelpFormatter

from evswarm.cli.app import Command, app, no_comma_lists, user_errors


class VersionsEpilog(Command):
    """A command whose epilog lists the version sets and faults, read only when help is shown (importing
    the agents package is not needed to parse arguments)."""

    def format_epilog(self, ctx: Context, formatter: HelpFormatter) -> None:
        from evswarm.cli.versions import versions_text

        formatter.write_paragraph()
        formatter.write(versions_text(formatter.width))


@app.command(
    "simulate",
    cls=VersionsEpilog,
    short_help="Run the agent swarm on N generated orders, one trace bundle per run.",
    help=(
        "Generate N customer orders and run the agent swarm on each, writing one trace bundle per run.\n\n"
        "Writes DIR/bundles/run_<id>.json, DIR/results.jsonl, DIR/run_summary.json and "
        "DIR/trace_snapshot.sqlite. Same --seed, same bundles, byte for byte. Re-running the same command "
        "finishes an interrupted batch and rewrites nothing complete.\n\n"
        "Without --version-set, runs spread over every version set on the default schedule, so the batch "
        "contains planted faults. --versions FILE adds your own version sets (YAML; see `evswarm versions`).\n\n"
        "Example: evswarm simulate --runs 20 --seed 42 --out runs/batch1"
    ),
)
@user_errors
def simulate_command(
    runs: int = typer.Option(..., "--runs", metavar="N", show_default=False, help="Number of runs (orders)."),
    seed: int = typer.Option(42, "--seed", metavar="S", help="Batch seed: run i depends only on (seed, i)."),
    out: Path = typer.Option(
        ..., "--out", metavar="DIR", show_default=False, help="Batch directory to create or resume."
    ),
    version_set: list[str] | None = typer.Option(
        None,
        "--version-set",
        metavar="V",
        show_default=False,
        help="Restrict runs to version set V; repeat the flag for more (--version-set v1.0 --version-set v1.3). "
        "Default: the mixed rollout schedule.",
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        metavar="K",
        show_default=False,
        help="Worker processes (default: one per core); with --backend ray, at most K runs' tasks at once "
        "(default: every CPU Ray has).",
    ),
    backend: str = typer.Option(
        "local",
        "--backend",
        metavar="local|ray",
        help="local: a process pool on this machine; ray: Ray tasks, on a local Ray instance sized to this "
        "machine or on the cluster at --address. Same files either way.",
    ),
    address: str | None = typer.Option(
        None,
        "--address",
        metavar="ADDR",
        show_default=False,
        help="With --backend ray: the Ray cluster to join (HOST:6379, ray://HOST:10001 or auto). The batch "
        "directory must be on storage every node sees.",
    ),
    versions: Path | None = typer.Option(
        None,
        "--versions",
        metavar="FILE",
        show_default=False,
        help="A version file (YAML) whose version sets stand beside the built-in ones: per agent a policy, "
        "instructions, a model and faults (see `evswarm versions`).",
    ),
    model: str = typer.Option(
        "offline",
        "--model",
        metavar="offline|openai:MODEL",
        help="offline: the deterministic policy model; openai:MODEL: a real model (needs OPENAI_API_KEY), for "
        "every agent whose version names no model of its own.",
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", metavar="URL", show_default=False, help="OpenAI-compatible server for openai:MODEL."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    version_sets = no_comma_lists(version_set, "--version-set")
    from rich.console import Console

    from evswarm.simulator import simulate

    console = Console(soft_wrap=True)
    report = simulate(
        runs,
        seed,
        out,
        version_sets=version_sets or None,
        versions=versions,
        workers=workers,
        model=model,
        base_url=base_url,
        progress=not quiet,
        backend=backend,
        address=address,
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
