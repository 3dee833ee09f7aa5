"""`evswarm serve`: the three-pane trace review app over a batch, with annotation and live ingestion."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from evswarm.cli.app import app, user_errors
from evswarm.core.errors import EvswarmError


@app.command("serve")
@user_errors
def serve_command(
    batch_dir: Path = typer.Argument(..., help="Batch directory (from `evswarm simulate --out DIR`); may be empty."),
    port: int = typer.Option(8765, "--port", "-p", help="Port to listen on."),
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        help="Interface to listen on (keep 127.0.0.1 unless you mean to expose the app).",
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        "-t",
        envvar="EVSWARM_REVIEW_TOKEN",
        help="Server token: ingestion (POST /api/traces), admin routes and reads. Generated and printed "
        "when not given.",
    ),
    db: Path | None = typer.Option(None, "--db", help="SQLite database (default: DIR/review.sqlite)."),
    analysis: Path | None = typer.Option(
        None,
        "--analysis",
        help="Output dir of `evswarm analyze` (shows each trace's behavior pattern and top suspects).",
    ),
    watch: list[Path] | None = typer.Option(
        None,
        "--watch",
        "-w",
        help="Directory to watch for .json/.jsonl traces, subfolders included (repeatable; default: DIR/inbox).",
    ),
    schemes: Path | None = typer.Option(
        None,
        "--schemes",
        help="Annotation schemes YAML (default: five rubrics pass/fail, three 1-5 scales, a note).",
    ),
    annotator: list[str] | None = typer.Option(
        None,
        "--annotator",
        "-a",
        help="Create annotator NAME (or give it a new token) and print its token (repeatable).",
    ),
    pane_labels: str | None = typer.Option(
        None,
        "--pane-labels",
        help="Comma-separated pane labels, e.g. 'Thinking,Tools,Answer' (missing ones keep their default).",
    ),
    collapse_lines: int = typer.Option(
        20,
        "--collapse-lines",
        help="Collapse outputs longer than this many lines (0: never collapse). Collapsed text can always be expanded.",
    ),
    max_body_mb: float = typer.Option(
        16.0,
        "--max-body-mb",
        help="Largest accepted payload, in MiB: a webhook body, a watched .json file or one .jsonl line.",
    ),
    public_read: bool = typer.Option(
        False,
        "--public-read",
        help="Let anyone who can reach the server read traces, grades and agreement without a token "
        "(labels and exports still need one). Off by default: reads need the server or an annotator token.",
    ),
    allow_host: list[str] | None = typer.Option(
        None,
        "--allow-host",
        help="Another Host name to answer besides 127.0.0.1, localhost and --host (e.g. the machine's "
        "name behind a proxy; repeatable). Requests for any other host get 400.",
    ),
) -> None:
    """Serve the review app: trace list with filters, three synchronized panes (Reasoning | Function Calls
    | Final Answer) per trace with its grades, pattern and suspects, annotation with agreement, and live
    ingestion (authenticated webhook, server-sent events, watched directory).

    Examples:

      evswarm serve runs/batch1 --analysis runs/analysis1 --annotator alice --annotator bob

      curl -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" --data @trace.json
      http://127.0.0.1:8765/api/traces
    """
    from evswarm.review import serve

    if not (math.isfinite(max_body_mb) and max_body_mb > 0):
        raise EvswarmError(f"--max-body-mb {max_body_mb:g} is not a size: give a number of MiB above 0")
    serve(
        batch_dir,
        host=host,
        port=port,
        token=token,
        annotators=annotator or [],
        db=db,
        analysis=analysis,
        watch=watch or None,
        schemes=schemes,
        pane_labels=pane_labels.split(",") if pane_labels else None,
        collapse_lines=collapse_lines,
        max_body=int(max_body_mb * 1024 * 1024),
        public_read=public_read,
        allow_hosts=allow_host or [],
    )
