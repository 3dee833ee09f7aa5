"""`evswarm serve`: the three-pane trace review app over a batch, with annotation and live ingestion."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from evswarm.cli.app import Command, InputError, app, no_comma_lists, user_errors

MIN_TOKEN = 8


@app.command(
    "serve",
    cls=Command,
    short_help="The review app: three-pane trace review, annotation and live ingestion.",
    epilog="Examples (after `make demo`):\n\n"
    "  evswarm serve data --analysis runs/demo --annotator alice --annotator bob\n\n"
    '  curl -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" '
    "--data @trace.json http://127.0.0.1:8765/api/traces",
)
@user_errors
def serve_command(
    batch_dir: Path = typer.Argument(
        ...,
        metavar="DIR",
        show_default=False,
        help="Batch directory (from `evswarm simulate --out DIR`, bundles/ or bundles.zip); may be empty.",
    ),
    port: int = typer.Option(8765, "--port", "-p", metavar="PORT", help="Port to listen on."),
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        metavar="ADDRESS",
        help="Interface to listen on (keep 127.0.0.1 unless you mean to expose the app).",
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        "-t",
        envvar="EVSWARM_REVIEW_TOKEN",
        metavar="TOKEN",
        show_default=False,
        help=f"Server token (at least {MIN_TOKEN} characters): ingestion (POST /api/traces), admin routes and "
        "reads. Generated and printed when not given; also read from $EVSWARM_REVIEW_TOKEN.",
    ),
    db: Path | None = typer.Option(
        None, "--db", metavar="FILE", show_default=False, help="SQLite database (default: DIR/review.sqlite)."
    ),
    analysis: Path | None = typer.Option(
        None,
        "--analysis",
        metavar="OUT",
        show_default=False,
        help="Output dir of `evswarm analyze` (shows each trace's behavior pattern and top suspects).",
    ),
    watch: list[Path] | None = typer.Option(
        None,
        "--watch",
        "-w",
        metavar="DIR",
        show_default=False,
        help="Directory to watch for .json/.jsonl traces, subfolders included (repeatable; default: DIR/inbox).",
    ),
    schemes: Path | None = typer.Option(
        None,
        "--schemes",
        metavar="FILE",
        show_default=False,
        help="Annotation schemes YAML (default: five rubrics pass/fail, three 1-5 scales, a note).",
    ),
    annotator: list[str] | None = typer.Option(
        None,
        "--annotator",
        "-a",
        metavar="NAME",
        show_default=False,
        help="Create annotator NAME (or give it a new token) and print its sign-in link (repeat the flag for "
        "more annotators).",
    ),
    pane_labels: str | None = typer.Option(
        None,
        "--pane-labels",
        metavar="A,B,C",
        show_default=False,
        help="Comma-separated pane labels, e.g. 'Thinking,Tools,Answer' (missing ones keep their default).",
    ),
    collapse_lines: int = typer.Option(
        20,
        "--collapse-lines",
        metavar="N",
        help="Collapse outputs longer than this many lines (0: never collapse). Collapsed text can always be expanded.",
    ),
    max_body_mb: float = typer.Option(
        16.0,
        "--max-body-mb",
        metavar="MIB",
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
        metavar="NAME",
        show_default=False,
        help="Another Host name to answer besides 127.0.0.1, localhost and --host (e.g. the machine's "
        "name behind a proxy; repeatable). Requests for any other host get 400.",
    ),
) -> None:
    """Serve the review app: a trace list with filters and search, three synchronized panes (Reasoning,
    Function Calls, Final Answer) per trace with its grades, pattern, attribution and span times, an
    annotation queue with agreement, and live ingestion (authenticated webhook, server-sent events, watched
    directory).

    The page answers at once; the batch is imported in the background (the list shows its progress). At
    start the server prints a sign-in link for the server and one per --annotator: open it and the page
    signs in (the link's one-time code works once).
    """
    annotators = no_comma_lists(annotator, "--annotator")
    watch_dirs = no_comma_lists([str(w) for w in watch or []], "--watch")
    hosts = no_comma_lists(allow_host, "--allow-host")
    if token is not None and len(token) < MIN_TOKEN:
        raise InputError(f"--token must be at least {MIN_TOKEN} characters", "leave it out to get a generated one")
    if not (math.isfinite(max_body_mb) and max_body_mb > 0):
        raise InputError(f"--max-body-mb {max_body_mb:g} is not a size: give a number of MiB above 0")
    from evswarm.review import serve

    serve(
        batch_dir,
        host=host,
        port=port,
        token=token,
        annotators=annotators,
        db=db,
        analysis=analysis,
        watch=[Path(w) for w in watch_dirs] or None,
        schemes=schemes,
        pane_labels=pane_labels.split(",") if pane_labels else None,
        collapse_lines=collapse_lines,
        max_body=int(max_body_mb * 1024 * 1024),
        public_read=public_read,
        allow_hosts=hosts,
    )
