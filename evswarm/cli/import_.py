"""`evswarm import`: bring traces from other systems in as a batch directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evswarm.cli.app import Command, app, user_errors, warn


@app.command(
    "import",
    cls=Command,
    epilog="Example: evswarm import logs/ --out runs/imported --outcomes outcomes.csv",
    short_help="Import traces from other systems (OTel, Agents SDK, chat logs) as a batch.",
)
@user_errors
def import_command(
    sources: Annotated[
        list[Path],
        typer.Argument(
            metavar="SRC...", help="Files (.json, .jsonl, .ndjson) or directories of them.", show_default=False
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="DIR", help="The batch directory to write (created if missing).")
    ],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="auto (detect per file), agents-sdk, otel, openinference, openai-chat (also multi-agent chat "
            "logs), potato or evswarm.",
        ),
    ] = "auto",
    outcomes: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="CSV or JSONL: trace id, outcome (and optionally anchor: the step where the failure shows).",
        ),
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Import what can be read; list the rest instead of stopping.")
    ] = False,
    agent: Annotated[
        list[str],
        typer.Option(
            "--agent",
            metavar="NAME",
            show_default=False,
            help="A speaker that is an agent whatever its name suggests (repeatable; e.g. customer_service, which "
            "the name rule takes for the user). The batch keeps the names (speakers.json), and analyze blames "
            "them as if given --blame NAME.",
        ),
    ] = [],  # noqa: B006 (typer reads the default; it is never mutated)
    person: Annotated[
        list[str],
        typer.Option(
            "--person",
            metavar="NAME",
            show_default=False,
            help="A speaker that is a person (the user) whatever its name suggests (repeatable); analyze never "
            "blames it.",
        ),
    ] = [],  # noqa: B006
) -> None:
    """Import foreign traces as a batch that grade, analyze and serve read.

    Reads OTLP JSON from the OpenTelemetry GenAI and OpenInference instrumentations of the Agents SDK,
    Agents SDK span exports, OpenAI chat messages and multi-agent chat logs (each message names its agent
    with `name`, `speaker` or a role such as "Planner (-> Coder)"), and Potato step lists. Writes
    OUT/bundles/run_<id>.json and OUT/results.jsonl. Nothing is written when a source cannot be read
    (exit 2, every problem listed) unless --skip-bad.
    """
    from evswarm.interop import import_traces

    result = import_traces(sources, out, fmt=fmt, outcomes=outcomes, skip_bad=skip_bad, agents=agent, people=person)
    for problem in result.problems:
        warn(f"skipped {problem}")
    for warning in result.warnings:
        warn(warning)
    formats = ", ".join(f"{n} {name}" for name, n in sorted(result.formats.items()))
    outcome = ", ".join(f"{n} {name}" for name, n in sorted(result.outcomes.items()))
    typer.echo(
        f"imported {len(result.traces)} trace(s) ({formats}; {outcome}) into {result.out_dir} "
        f"({result.written} written, {result.unchanged} unchanged)"
    )
