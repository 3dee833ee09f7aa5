"""`serve`: the review stage's public entry (what `evswarm serve` calls)."""

from __future__ import annotations

import secrets
from pathlib import Path

import uvicorn
from rich.console import Console

from evswarm.core.errors import EvswarmError
from evswarm.review.config import DEFAULT_MAX_BODY, ReviewConfig, pad_pane_labels
from evswarm.review.schemes import load_schemes


def build_config(
    batch_dir: Path,
    *,
    token: str | None = None,
    db: Path | None = None,
    analysis: Path | None = None,
    watch: list[Path] | None = None,
    schemes: Path | None = None,
    pane_labels: list[str] | None = None,
    collapse_lines: int = 20,
    max_body: int = DEFAULT_MAX_BODY,
    progress: bool = False,
) -> ReviewConfig:
    """Check the arguments and make the server's settings (bad input raises EvswarmError)."""
    if not batch_dir.is_dir():
        raise EvswarmError(
            f"batch directory {batch_dir} does not exist",
            hint="run `evswarm simulate --out DIR` first, or pass an empty directory to collect "
            "traces from the webhook only",
        )
    if analysis is not None and not analysis.is_dir():
        raise EvswarmError(f"analysis directory {analysis} does not exist", hint="run `evswarm analyze DIR --out OUT`")
    if token is not None and len(token) < 8:
        raise EvswarmError("--token must be at least 8 characters")
    if collapse_lines < 0:
        raise EvswarmError("--collapse-lines must be 0 (never collapse) or more")
    watch_dirs = list(watch) if watch else [batch_dir / "inbox"]
    for directory in watch_dirs:
        directory.mkdir(parents=True, exist_ok=True)
    return ReviewConfig(
        batch_dir=batch_dir,
        db_path=db or batch_dir / "review.sqlite",
        token=token or secrets.token_urlsafe(24),
        analysis_dir=analysis,
        watch_dirs=watch_dirs,
        schemes=load_schemes(schemes),
        pane_labels=pad_pane_labels(pane_labels),
        collapse_lines=collapse_lines,
        max_body=max_body,
        progress=progress,
    )


def serve(
    batch_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    annotators: list[str] | None = None,
    **options: object,
) -> None:
    """Serve the review app over `batch_dir` until interrupted."""
    from evswarm.review.annotations import issue_token
    from evswarm.review.app import create_app

    console = Console(stderr=True)
    config = build_config(batch_dir, token=token, progress=True, **options)  # type: ignore[arg-type]
    app = create_app(config)
    state = app.state.review
    console.print(f"[bold]evswarm review[/] on [link]http://{host}:{port}/[/link]  (database {config.db_path})")
    if token is None:
        console.print(f"ingestion token (generated): [bold]{config.token}[/]")
    console.print(
        f"POST traces: curl -H 'Authorization: Bearer <token>' --data @trace.json http://{host}:{port}/api/traces"
    )
    console.print(f"watched: {', '.join(str(d) for d in config.watch_dirs)}")
    for name in annotators or []:
        console.print(f"annotator [bold]{name}[/] token: [bold]{issue_token(state.store, name)}[/]")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=3)
