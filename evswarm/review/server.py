"""`serve`: the review stage's public entry (what `evswarm serve` calls).

Every input error (a path, a port, a limit, a port in use) raises EvswarmError (exit code 2, one line)
before anything starts: the socket is bound before the app is built, and the database is opened once
here to check it.
"""

from __future__ import annotations

import errno
import logging
import secrets
import socket
import sqlite3
from pathlib import Path

from rich.console import Console

from evswarm.core.errors import EvswarmError
from evswarm.review.config import DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY, LOCAL_HOSTS, ReviewConfig, pad_pane_labels
from evswarm.review.schemes import load_schemes

MAX_BODY_LIMIT = 1024 * 1024 * 1024  # 1 GiB: more is surely a typo


def _check_dir(path: Path, what: str) -> None:
    if path.exists() and not path.is_dir():
        raise EvswarmError(f"{what} {path} is not a directory")


def _check_db(db: Path) -> None:
    """The database can be created (or opened) at `db`."""
    for parent in db.parents:
        if parent.exists():
            if not parent.is_dir():
                raise EvswarmError(f"--db {db}: {parent} is a file, not a directory")
            break
    if db.exists() and not db.is_file():
        raise EvswarmError(f"--db {db} is not a file")
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(db, timeout=5)
        try:
            conn.execute("PRAGMA schema_version").fetchone()
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        raise EvswarmError(f"--db {db}: cannot open it as an SQLite database ({exc})") from None


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
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
    public_read: bool = False,
    host: str = "127.0.0.1",
    allow_hosts: list[str] | None = None,
    progress: bool = False,
) -> ReviewConfig:
    """Check the arguments and make the server's settings (bad input raises EvswarmError).

    The Host names answered are 127.0.0.1, localhost, `host` and `allow_hosts`.
    """
    if not batch_dir.exists():
        raise EvswarmError(
            f"batch directory {batch_dir} does not exist",
            hint="run `evswarm simulate --out DIR` first, or pass an empty directory to collect "
            "traces from the webhook only",
        )
    _check_dir(batch_dir, "batch directory")
    if analysis is not None and not analysis.is_dir():
        raise EvswarmError(f"analysis directory {analysis} does not exist", hint="run `evswarm analyze DIR --out OUT`")
    if token is not None and len(token) < 8:
        raise EvswarmError("--token must be at least 8 characters")
    if collapse_lines < 0:
        raise EvswarmError("--collapse-lines must be 0 (never collapse) or more")
    if not 0 < max_body <= MAX_BODY_LIMIT:
        raise EvswarmError(f"--max-body-mb must be more than 0 and at most {MAX_BODY_LIMIT // 2**20}")
    if not body_timeout > 0:
        raise EvswarmError("the body timeout must be more than 0 seconds")
    watch_dirs = list(watch) if watch else [batch_dir / "inbox"]
    for directory in watch_dirs:
        _check_dir(directory, "--watch")
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EvswarmError(f"--watch {directory}: cannot create it ({exc.strerror})") from None
    db_path = db or batch_dir / "review.sqlite"
    _check_db(db_path)
    hosts = [*LOCAL_HOSTS, host, *(allow_hosts or [])]
    return ReviewConfig(
        batch_dir=batch_dir,
        db_path=db_path,
        token=token or secrets.token_urlsafe(24),
        analysis_dir=analysis,
        watch_dirs=watch_dirs,
        schemes=load_schemes(schemes),
        pane_labels=pad_pane_labels(pane_labels),
        collapse_lines=collapse_lines,
        max_body=max_body,
        body_timeout=body_timeout,
        public_read=public_read,
        allowed_hosts=list(dict.fromkeys(h for h in hosts if h and h not in ("0.0.0.0", "::"))),
        progress=progress,
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; EvswarmError naming the problem if that is not possible."""
    if not 1 <= port <= 65535:
        raise EvswarmError(f"--port {port} is not a port: use 1-65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise EvswarmError(f"--host {host!r} is not an address of this machine ({exc})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise EvswarmError(f"port {port} on {host} is in use: stop what uses it or pass another --port") from None
        if exc.errno == errno.EACCES:
            raise EvswarmError(f"port {port} on {host} needs more privileges: use a port above 1023") from None
        raise EvswarmError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.set_inheritable(True)
    return sock


def _log_to_stderr() -> None:
    logger = logging.getLogger("evswarm.review")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def serve(
    batch_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    annotators: list[str] | None = None,
    **options: object,
) -> None:
    """Serve the review app over `batch_dir` until interrupted. `options` are those of `build_config`
    (e.g. public_read, allow_hosts, max_body, watch, db)."""
    console = Console(stderr=True, soft_wrap=True)
    config = build_config(batch_dir, token=token, host=host, progress=True, **options)  # type: ignore[arg-type]
    config.background_load = True
    sock = bind(host, port)
    # Only now the heavy part: the web stack and the app (input errors above answer fast).
    import uvicorn

    from evswarm.review.annotations import issue_token
    from evswarm.review.app import create_app

    _log_to_stderr()
    app = create_app(config)
    state = app.state.review
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}/"
    console.print(f"[bold]evswarm review[/] on [link]{url}[/link]  (database {config.db_path})")
    console.print("sign in by opening a link (each works once, for a day; the page keeps the token):", highlight=False)
    console.print(f"  server (admin): {url}#signin={state.signin.issue(config.token)}", highlight=False)
    for name in annotators or []:
        annotator_token = issue_token(state.store, name)
        console.print(f"  annotator {name}: {url}#signin={state.signin.issue(annotator_token)}", highlight=False)
        console.print(f"    (token for scripts: {annotator_token})", highlight=False)
    if token is None:
        console.print(f"server token (generated, for scripts): [bold]{config.token}[/]")
    if config.public_read:
        console.print(
            "[bold yellow]warning:[/] --public-read: anyone who can reach this server reads every trace, "
            "grade and agreement figure without a token",
            highlight=False,
        )
    else:
        console.print("reads need a token: open a link above, or paste a token into the page's sign-in box")
    console.print(
        "POST traces: curl -H 'Authorization: Bearer <token>' -H 'Content-Type: application/json' "
        f"--data @trace.json http://{host}:{port}/api/traces",
        highlight=False,
    )
    console.print(f"watched: {', '.join(str(d) for d in config.watch_dirs)}")
    console.print(
        f"answers Host names: {', '.join(config.allowed_hosts)} (add more with --allow-host)", highlight=False
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=3))
    server.run(sockets=[sock])
    if not server.started:  # start-up itself failed (the log above says why); not an input error
        raise SystemExit(1)
