"""`evswarm replay`: re-run saved bundles from their recorded model calls, with no model and no key."""

from __future__ import annotations

from pathlib import Path

import typer

from evswarm.cli.app import Command, app, user_errors


@app.command(
    "replay",
    cls=Command,
    short_help="Re-execute saved runs from their recorded model calls (no model, no key).",
    help=(
        "Re-execute every run of a batch through the SDK Runner, answering each model call with the output "
        "recorded in its bundle: same agents, tools, handoffs and guardrails, no model, no API key, no network. "
        "Reads bundles/ or a zipped batch (bundles.zip, like the shipped data/).\n\n"
        "With --verify, compare each replayed trace with the saved one (spans, tool outputs, events, final state; "
        "not times) and print where the two first diverge.\n\n"
        "Exit codes: 0 all replayed (and matched), 1 some run diverged, 2 bad input (a bundle that cannot be "
        "replayed, a missing manifest).\n\n"
        "Example (after `make demo`): evswarm replay data --verify --limit 20"
    ),
)
@user_errors
def replay_command(
    batch: Path = typer.Argument(
        ..., metavar="DIR", show_default=False, help="Batch directory written by `evswarm simulate`."
    ),
    verify: bool = typer.Option(False, "--verify", help="Check that each replayed trace equals the saved one."),
    limit: int | None = typer.Option(
        None, "--limit", metavar="N", min=1, show_default=False, help="Replay only the first N bundles."
    ),
    versions: Path | None = typer.Option(
        None,
        "--versions",
        metavar="FILE",
        show_default=False,
        help="Resolve the version sets from this version file instead of the batch's versions.json "
        "(refused, naming what changed, when a set differs from what the batch ran).",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    from rich.console import Console

    from evswarm.simulator.replay import replay

    console = Console(soft_wrap=True)
    report = replay(batch, verify=verify, limit=limit, progress=not quiet, versions=versions)
    for run in report.runs:
        if run.outcome in ("mismatch", "error"):
            colour = "red" if run.outcome == "mismatch" else "yellow"
            console.print(f"[{colour}]{run.outcome}[/] {run.run_id}: {run.detail}", highlight=False)
    counts = {k: report.count(k) for k in ("match", "replayed", "mismatch", "error") if report.count(k)}
    console.print(f"{len(report.runs)} run(s) replayed: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    if report.count("error"):
        raise typer.Exit(2)
    if report.count("mismatch"):
        raise typer.Exit(1)
