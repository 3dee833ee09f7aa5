"""SQLite (WAL) storage for traces, their versions, annotations, annotators and the ingest feed.

One writer connection behind a lock, one reader connection per thread. Trace ids are only ever SQL
parameters: no file path is built from request data.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from evswarm.core.steps import Trace

SCHEMA = """
CREATE TABLE IF NOT EXISTS traces (
    trace_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    source_format TEXT NOT NULL,
    title TEXT NOT NULL,
    case_type TEXT,
    outcome TEXT,
    version_set TEXT,
    n_steps INTEGER NOT NULL,
    agents TEXT NOT NULL,
    search TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_traces_seq ON traces(seq);
CREATE INDEX IF NOT EXISTS ix_traces_case ON traces(case_type, seq);
CREATE INDEX IF NOT EXISTS ix_traces_outcome ON traces(outcome, seq);
CREATE INDEX IF NOT EXISTS ix_traces_version_set ON traces(version_set, seq);
CREATE TABLE IF NOT EXISTS trace_versions (
    trace_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL,
    canonical BLOB NOT NULL,
    raw BLOB,
    PRIMARY KEY (trace_id, version)
);
CREATE TABLE IF NOT EXISTS feed (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trace_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS annotators (
    name TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS annotations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trace_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    annotator TEXT NOT NULL,
    scheme TEXT NOT NULL,
    scheme_hash TEXT NOT NULL,
    value TEXT NOT NULL,
    step_ids TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_annotations_trace ON annotations(trace_id, annotator, scheme);
CREATE INDEX IF NOT EXISTS ix_annotations_scheme ON annotations(scheme);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS import_errors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    message TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS grades (
    run_id TEXT PRIMARY KEY,
    passed INTEGER,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS grade_failures (
    run_id TEXT NOT NULL,
    rubric TEXT NOT NULL,
    PRIMARY KEY (rubric, run_id)
);
CREATE TABLE IF NOT EXISTS patterns (
    run_id TEXT PRIMARY KEY,
    pattern TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_patterns_pattern ON patterns(pattern);
"""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def content_hash(trace: Trace, data: dict[str, Any] | None = None) -> str:
    """sha256 of the canonical trace: the same content always gives the same hash (`data`: the trace's
    `model_dump(mode="json")`, when the caller has it already)."""
    dumped = data if data is not None else trace.model_dump(mode="json")
    return hashlib.sha256(orjson.dumps(dumped, option=orjson.OPT_SORT_KEYS)).hexdigest()


SEARCH_VERSION = 2
"""What the `search` column holds: 2 = ids, title, case type, outcome, version set, agents, tool names and
the start of the steps' text (`SEARCH_TEXT` characters). A database of an older version is re-indexed when
opened."""
SEARCH_TEXT = 20_000


def search_text(trace: Trace) -> str:
    """The lower-cased text the list's search matches (pattern names are matched separately)."""
    tools = dict.fromkeys(step.tool for step in trace.steps if step.tool)
    text: list[str] = []
    room = SEARCH_TEXT
    for step in trace.steps:
        if room <= 0:
            break
        piece = step.text[:room]
        text.append(piece)
        room -= len(piece)
    return " ".join(
        [
            trace.trace_id,
            trace.title,
            trace.case_type or "",
            trace.outcome or "",
            trace.version_set or "",
            *trace.agents(),
            *tools,
            *text,
        ]
    ).lower()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TakeoverError(Exception):
    """A trace would replace one of the same id that came in another format (e.g. a simulated run)."""

    def __init__(self, trace_id: str, existing_format: str, existing_source: str, new_format: str) -> None:
        super().__init__(
            f"trace id {trace_id!r} already holds a {existing_format} trace (from {existing_source}); "
            f"a {new_format} payload does not replace it unless asked to (webhook: ?replace=true)"
        )
        self.trace_id = trace_id


@dataclass(frozen=True)
class PutResult:
    """What storing a trace did: created, new_version or unchanged; `replaced` names the format and source
    of the trace a payload of another format replaced (only when the caller allowed it)."""

    trace_id: str
    status: str
    version: int
    content_hash: str
    steps: int
    feed_id: int | None
    title: str
    stale_annotations: int = 0
    replaced: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "trace_id": self.trace_id,
            "status": self.status,
            "version": self.version,
            "content_hash": self.content_hash,
            "steps": self.steps,
            "stale_annotations": self.stale_annotations,
        }
        if self.replaced is not None:
            out["warning"] = f"replaced the {self.replaced} of the same id (its versions are kept)"
        return out


class Store:
    """The review app's database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.Lock()
        self._writer = self._connect()
        self._writer.executescript(SCHEMA)
        self._local = threading.local()
        self._reindex()

    def _reindex(self) -> None:
        """Bring the `search` column of a database written by an older version up to SEARCH_VERSION."""
        version = int(self._writer.execute("PRAGMA user_version").fetchone()[0])
        if version >= SEARCH_VERSION:
            return
        rows = self._writer.execute(
            "SELECT v.trace_id, v.canonical FROM traces t JOIN trace_versions v "
            "ON v.trace_id = t.trace_id AND v.version = t.version"
        ).fetchall()
        updates = [
            (search_text(Trace.model_validate(orjson.loads(zlib.decompress(row["canonical"])))), row["trace_id"])
            for row in rows
        ]
        with self.write() as conn:
            conn.executemany("UPDATE traces SET search = ? WHERE trace_id = ?", updates)
            conn.execute(f"PRAGMA user_version = {SEARCH_VERSION}")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: all or nothing."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._write_lock:
            self._writer.close()

    # -- traces -------------------------------------------------------------------------------------

    def takeover(self, trace: Trace) -> TakeoverError | None:
        """The error `put` would raise for `trace` without `replace=True`, or None."""
        row = (
            self.reader()
            .execute(
                "SELECT t.source_format, v.source FROM traces t JOIN trace_versions v "
                "ON v.trace_id = t.trace_id AND v.version = t.version WHERE t.trace_id = ?",
                (trace.trace_id,),
            )
            .fetchone()
        )
        if row is None or row["source_format"] == trace.source_format:
            return None
        return TakeoverError(trace.trace_id, row["source_format"], row["source"], trace.source_format)

    def put(self, trace: Trace, *, raw: bytes | None, source: str, replace: bool = False) -> PutResult:
        """Store a trace idempotently: same content is a no-op, new content a new version.

        A trace whose id holds a trace of another source format raises TakeoverError unless `replace`.
        """
        data = trace.model_dump(mode="json")
        digest = content_hash(trace, data)
        canonical = zlib.compress(orjson.dumps(data), 1)
        packed_raw = zlib.compress(raw, 1) if raw is not None else None
        agents = trace.agents()
        search = search_text(trace)
        stamp = now()
        with self.write() as conn:
            row = conn.execute(
                "SELECT version, content_hash, source_format FROM traces WHERE trace_id = ?", (trace.trace_id,)
            ).fetchone()
            if row is not None and row["content_hash"] == digest:
                return PutResult(
                    trace.trace_id, "unchanged", row["version"], digest, len(trace.steps), None, trace.title
                )
            replaced = None
            if row is not None and row["source_format"] != trace.source_format:
                origin = conn.execute(
                    "SELECT source FROM trace_versions WHERE trace_id = ? AND version = ?",
                    (trace.trace_id, row["version"]),
                ).fetchone()
                origin_source = origin["source"] if origin else "?"
                if not replace:
                    raise TakeoverError(trace.trace_id, row["source_format"], origin_source, trace.source_format)
                replaced = f"{row['source_format']} trace from {origin_source}"
            version = 1 if row is None else row["version"] + 1
            status = "created" if row is None else "new_version"
            stale = 0
            if row is not None:
                stale = conn.execute(
                    "SELECT COUNT(*) FROM annotations WHERE trace_id = ?", (trace.trace_id,)
                ).fetchone()[0]
            conn.execute(
                "INSERT INTO trace_versions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (trace.trace_id, version, digest, source, stamp, canonical, packed_raw),
            )
            feed_id = conn.execute(
                "INSERT INTO feed (trace_id, version, status, title, at) VALUES (?, ?, ?, ?, ?)",
                (trace.trace_id, version, status, trace.title, stamp),
            ).lastrowid
            conn.execute(
                "INSERT INTO traces VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(trace_id) DO UPDATE "
                "SET seq=excluded.seq, version=excluded.version, content_hash=excluded.content_hash, "
                "source_format=excluded.source_format, title=excluded.title, case_type=excluded.case_type, "
                "outcome=excluded.outcome, version_set=excluded.version_set, n_steps=excluded.n_steps, "
                "agents=excluded.agents, search=excluded.search, updated_at=excluded.updated_at",
                (
                    trace.trace_id,
                    feed_id,
                    version,
                    digest,
                    trace.source_format,
                    trace.title,
                    trace.case_type,
                    trace.outcome,
                    trace.version_set,
                    len(trace.steps),
                    orjson.dumps(agents).decode(),
                    search,
                    stamp,
                ),
            )
        return PutResult(
            trace.trace_id, status, version, digest, len(trace.steps), feed_id, trace.title, stale, replaced
        )

    def get(self, trace_id: str, version: int | None = None) -> tuple[Trace, int, str, int] | None:
        """(trace, version, content hash, latest version) or None."""
        conn = self.reader()
        latest = conn.execute("SELECT version FROM traces WHERE trace_id = ?", (trace_id,)).fetchone()
        if latest is None:
            return None
        wanted = version if version is not None else latest["version"]
        row = conn.execute(
            "SELECT canonical, content_hash FROM trace_versions WHERE trace_id = ? AND version = ?",
            (trace_id, wanted),
        ).fetchone()
        if row is None:
            return None
        trace = Trace.model_validate(orjson.loads(zlib.decompress(row["canonical"])))
        return trace, wanted, row["content_hash"], latest["version"]

    def versions(self, trace_id: str) -> list[dict[str, Any]]:
        rows = (
            self.reader()
            .execute(
                "SELECT version, content_hash, source, received_at FROM trace_versions WHERE trace_id = ? "
                "ORDER BY version",
                (trace_id,),
            )
            .fetchall()
        )
        return [dict(r) for r in rows]

    def version_hash(self, trace_id: str, version: int) -> str | None:
        row = (
            self.reader()
            .execute(
                "SELECT content_hash FROM trace_versions WHERE trace_id = ? AND version = ?",
                (trace_id, version),
            )
            .fetchone()
        )
        return None if row is None else str(row["content_hash"])

    def count(self) -> int:
        return int(self.reader().execute("SELECT COUNT(*) FROM traces").fetchone()[0])

    def feed_since(self, last_id: int, limit: int = 500) -> list[dict[str, Any]]:
        rows = self.reader().execute("SELECT * FROM feed WHERE id > ? ORDER BY id LIMIT ?", (last_id, limit)).fetchall()
        return [dict(r) for r in rows]

    def last_feed_id(self) -> int:
        return int(self.reader().execute("SELECT COALESCE(MAX(id), 0) FROM feed").fetchone()[0])

    # -- files and import errors ----------------------------------------------------------------------

    def file_seen(self, path: str, mtime_ns: int, size: int) -> bool:
        row = self.reader().execute("SELECT mtime_ns, size FROM files WHERE path = ?", (path,)).fetchone()
        return row is not None and row["mtime_ns"] == mtime_ns and row["size"] == size

    def mark_file(self, path: str, mtime_ns: int, size: int) -> None:
        with self.write() as conn:
            conn.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?)", (path, mtime_ns, size))

    def record_error(self, source: str, message: str) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO import_errors (source, message, at) VALUES (?, ?, ?)",
                (source, message[:2000], now()),
            )

    def clear_errors(self, source: str) -> int:
        """Forget the import errors of `source` and of its lines and items (`source:N`, `source[N]`)."""
        where = "WHERE source = ? OR substr(source, 1, ?) IN (?, ?)"
        params = (source, len(source) + 1, source + ":", source + "[")
        if self.reader().execute(f"SELECT 1 FROM import_errors {where} LIMIT 1", params).fetchone() is None:
            return 0  # the usual case: no write transaction for nothing
        with self.write() as conn:
            cursor = conn.execute(f"DELETE FROM import_errors {where}", params)
        return int(cursor.rowcount)

    def forget_file(self, path: str) -> None:
        """A deleted file: its import errors and its seen-stamp go."""
        self.clear_errors(path)
        with self.write() as conn:
            conn.execute("DELETE FROM files WHERE path = ?", (path,))

    def errors(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.reader().execute("SELECT * FROM import_errors ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [dict(r) for r in rows]

    def error_count(self) -> int:
        return int(self.reader().execute("SELECT COUNT(*) FROM import_errors").fetchone()[0])
