"""`evswarm demo`: Analyze the shipped batch offline and print where the report is. (owned by the macro stage; placeholder until that stage lands)."""

from __future__ import annotations

import typer

from evswarm.cli.main import app


@app.command("demo", hidden=True)
def demo_command() -> None:
    """Analyze the shipped batch offline and print where the report is."""
    typer.echo("`evswarm demo` is not available yet.", err=True)
    raise typer.Exit(2)
