"""Rendered bundles kept on disk, so that analyzing a batch again skips validating and rendering it.

One SQLite file (`<cache>/rendered.sqlite`), one row per bundle: its trace row, event columns and log aliases
as JSON, keyed by a hash of the bundle's bytes, its run-table row, its layout and the renderer itself (the
source of every module that shapes a rendering, the bundle model, and the failure markers in force). Change
any of them and the key changes: a stale rendering is never served, only left unused. Workers read and write
it concurrently (WAL, one write transaction per chunk).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from contextlib import closing
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from evswarm.core import bundle as bundle_model
from evswarm.macro import load, markers, normalize, shapes, trace_rows


@lru_cache(maxsize=4)
def renderer_key(markers_file: str | None) -> bytes:
    """A digest of everything besides the bundle that decides its rendering."""
    digest = hashlib.blake2b(digest_size=16)
    for module in (normalize, trace_rows, markers, shapes, load, bundle_model):
        digest.update(Path(str(module.__file__)).read_bytes())
    if markers_file:
        try:
            digest.update(Path(markers_file).read_bytes())
        except OSError:
            digest.update(b"unreadable markers file")  # the renderer raises the real error
    return digest.digest()


def bundle_key(raw: bytes, layout: str, run_row: dict[str, Any] | None) -> bytes:
    """The cache key of one bundle as this renderer would render it."""
    digest = hashlib.blake2b(renderer_key(os.environ.get(markers.ENV) or None), digest_size=20)
    digest.update(layout.encode())
    digest.update(orjson.dumps(run_row, option=orjson.OPT_SORT_KEYS))
    digest.update(raw)
    return digest.digest()


class RenderCache:
    """Rendered bundles by key; `get_many` and `put_many` each open one connection.

    The process that hands out the work creates the file (`create=True`: WAL mode, the table) before any
    worker opens it (`create=False`), so workers never race to set it up. A cache that cannot be read or
    written is passed over: `get_many` finds nothing and `put_many` keeps nothing, and the analysis goes on."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as con:
                con.execute("PRAGMA journal_mode=WAL")
                with con:
                    con.execute("CREATE TABLE IF NOT EXISTS rendered (key BLOB PRIMARY KEY, value BLOB NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60)

    def get_many(self, keys: list[bytes]) -> dict[bytes, dict[str, Any]]:
        found: dict[bytes, dict[str, Any]] = {}
        try:
            with closing(self._connect()) as con:
                for start in range(0, len(keys), 500):
                    chunk = keys[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    for key, value in con.execute(f"SELECT key, value FROM rendered WHERE key IN ({marks})", chunk):
                        found[key] = orjson.loads(value)
        except (sqlite3.Error, orjson.JSONDecodeError):
            return {}
        return found

    def put_many(self, items: dict[bytes, dict[str, Any]]) -> None:
        if not items:
            return
        rows = [(k, orjson.dumps(v)) for k, v in items.items()]
        with contextlib.suppress(sqlite3.Error), closing(self._connect()) as con, con:
            con.executemany("INSERT OR REPLACE INTO rendered VALUES (?, ?)", rows)
