"""`evswarm simulate` and `evswarm faults`: make a batch of runs, and list version sets and faults."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import typer
from typer._click.core import Context
from typer._click.formatting import HelpFormatter

from evswarm.cli.app import Command, app, no_comma_lists, user_errors


class FaultsEpilog(Command):
    """A command whose epilog lists the version sets and faults, read only when help is shown (importing
    the agents package is not needed to parse arguments)."""

    def format_epilog(self, ctx: Context, formatter: HelpFormatter) -> None:
        formatter.write_paragraph()
        formatter.write(faults_text(formatter.width))


def faults_text(width: int) -> str:
    """Every version set, fault and rogue window as indented paragraphs wrapped at `width` columns."""
    from evswarm.agents.versions import FAULTS, ROGUE_WINDOWS, VERSION_SETS

    def entry(title: str, lines: list[str]) -> list[str]:
        body = [textwrap.fill(line, width, initial_indent="    ", subsequent_indent="      ") for line in lines]
        return [f"  {title}", *body]

    out = ["Version sets:"]
    for vs in VERSION_SETS.values():
        out += entry(
            vs.name,
            [vs.description, f"faults: {', '.join(vs.faults) or 'none'}; {vs.orchestrator_mode} orchestrator"],
        )
    out += ["", "Faults:"]
    for fault in FAULTS.values():
        out += entry(
            f"{fault.fault_id} ({fault.agent_name})",
            [f"what goes wrong: {fault.description}", f"trigger: {fault.trigger}"],
        )
    out += ["", "Rogue windows (a fault switched on for a span of order dates):"]
    for w in ROGUE_WINDOWS:
        out += entry(w.window_id, [f"{w.fault_id} from {w.start} to {w.end} in {', '.join(w.version_sets)}"])
    return "\n".join(out) + "\n"


@app.command(
    "simulate",
    cls=FaultsEpilog,
    short_help="Run the agent swarm on N generated orders, one trace bundle per run.",
    help=(
        "Generate N customer orders and run the agent swarm on each, writing one trace bundle per run.\n\n"
        "Writes DIR/bundles/run_<id>.json, DIR/results.jsonl, DIR/run_summary.json and "
        "DIR/trace_snapshot.sqlite. Same --seed, same bundles, byte for byte. Re-running the same command "
        "finishes an interrupted batch and rewrites nothing complete.\n\n"
        "Without --version-set, runs spread over every version set on the default schedule, so the batch "
        "contains planted faults.\n\n"
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
        None, "--workers", metavar="K", show_default=False, help="Worker processes (default: one per core)."
    ),
    model: str = typer.Option(
        "offline",
        "--model",
        metavar="offline|openai:MODEL",
        help="offline: the deterministic policy model; openai:MODEL: a real model (needs OPENAI_API_KEY).",
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


@app.command("faults", cls=Command, short_help="List version sets, planted faults and rogue windows.")
def faults_command() -> None:
    """List every version set, planted fault and rogue window, with what each one does (wrapped at the
    terminal's width; pipe it anywhere)."""
    width = max(60, shutil.get_terminal_size((100, 24)).columns - 1)
    typer.echo(faults_text(width), nl=False)
