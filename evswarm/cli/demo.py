"""`evswarm demo`: the README's main command."""

from __future__ import annotations

from pathlib import Path

import typer

from evswarm.cli.app import Command, app, user_errors


@app.command(
    "demo",
    cls=Command,
    short_help="Analyze the shipped batch offline and write the report.",
    help=(
        "Analyze the shipped batch (data/: 1000 saved runs with their grades) offline and write the report: "
        "behavior patterns ranked by impact, their root-cause suspects, and how agent versions compare. "
        "Prints the top five patterns, the version comparison's headline and where the report is. "
        "Needs no API key and no network.\n\n"
        "Example: evswarm demo --out runs/demo"
    ),
)
@user_errors
def demo_command(
    out: Path = typer.Option(Path("runs/demo"), "--out", metavar="OUT", help="Where to write report.html and tables."),
    data: Path | None = typer.Option(
        None,
        "--data",
        metavar="DIR",
        show_default=False,
        help="The shipped batch directory (default: the repository's data/, or $EVSWARM_DATA_DIR).",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    from evswarm.macro.demo import run_demo

    summary = run_demo(out, data, progress=not quiet)
    for line in summary.lines:
        typer.echo(line)
    typer.echo(f"Report: {summary.report_path.resolve()}")
    batch = data or "data"
    serve = f"`evswarm serve {batch} --analysis {out}` opens the review app"
    if any(line.startswith("Verified:") for line in summary.lines):
        typer.echo(f"Next: {serve} (each verified run links to its re-run twin).")
    else:
        typer.echo(
            f"Next: `evswarm verify {batch} --analysis {out}` re-runs the top patterns' runs with each suspect "
            f"changed and confirms or rejects it; {serve}."
        )
