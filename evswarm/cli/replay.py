"""`evswarm replay`: Re-run every bundle from its recorded model calls. (owned by the agents stage; placeholder until that stage lands)."""

from __future__ import annotations

import typer

from evswarm.cli.main import app


@app.command("replay", hidden=True)
def replay_command() -> None:
    """Re-run every bundle from its recorded model calls."""
    typer.echo("`evswarm replay` is not available yet.", err=True)
    raise typer.Exit(2)
