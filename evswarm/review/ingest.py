"""Ingestion shared by the webhook, the watched directory and the batch loader.

Contract: one payload, file or line that cannot be read costs only itself. The webhook answers 4xx naming
the field; a file records an import error naming the file (and line, or item) and the rest still loads.
`Ingestor.ingest_file` never raises. Files are read only inside the directory they were found in (a
symlink out of it is refused), never past the size limit (a `.json` file, or one `.jsonl` line, is held
to the webhook's body limit), and `.jsonl` files are streamed line by line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat as stat_module
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from evswarm.core.formats import ImportFormatError, detect_format, to_traces
from evswarm.core.limits import DepthError, check_depth
from evswarm.review.store import PutResult, Store, TakeoverError

logger = logging.getLogger("evswarm.review")

MAX_ERRORS_PER_FILE = 100  # import errors recorded for one file; the rest are counted in one more


class PayloadError(ValueError):
    """A payload that cannot be ingested; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Notifier:
    """Wakes the server-sent-event streams when the feed grows; safe to call from any thread."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        if self._event is None:
            self.bind(asyncio.get_running_loop())
        assert self._event is not None
        return self._event

    def _fire(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = asyncio.Event()

    def notify(self) -> None:
        if self._loop is None or self._loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # loop shutting down
            self._loop.call_soon_threadsafe(self._fire)


def parse_json(raw: bytes) -> Any:
    """The JSON value of `raw`: PayloadError 400 if it is not JSON, 422 if it nests past MAX_DEPTH."""
    if not raw.strip():
        raise PayloadError(400, "empty body: send a JSON trace")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(400, f"body is not valid JSON (truncated?): {exc}") from exc
    try:
        check_depth(value, raw=raw)
    except DepthError as exc:
        raise PayloadError(422, str(exc)) from exc
    return value


@dataclass
class LineResults:
    """What an NDJSON batch did: stored traces and, per failed line, its number, status and reason."""

    results: list[PutResult] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


class FileErrors:
    """Import errors of one file, at most MAX_ERRORS_PER_FILE of them recorded (then one summary)."""

    def __init__(self, store: Store, path: str) -> None:
        self.store = store
        self.path = path
        self.count = 0

    def add(self, source: str, message: str) -> None:
        self.count += 1
        if self.count <= MAX_ERRORS_PER_FILE:
            self.store.record_error(source, message)

    def close(self) -> None:
        if self.count > MAX_ERRORS_PER_FILE:
            self.store.record_error(
                self.path, f"{self.count - MAX_ERRORS_PER_FILE} more error(s) in this file were not recorded"
            )


def _lines(handle: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for each line; a line longer than `limit` is skipped and given as None."""
    number = 0
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # skip the rest of an over-long line without keeping it
                more = handle.readline(1 << 20)
                if not more or more.endswith(b"\n"):
                    break
            yield number, None
        else:
            yield number, line


def _inside(path: Path, root: Path) -> Path | None:
    """The real path of `path` if it lies inside the real path of `root` (symlinks resolved), else None."""
    real = Path(os.path.realpath(path))
    real_root = Path(os.path.realpath(root))
    return real if real == real_root or real_root in real.parents else None


class Ingestor:
    """Validates payloads and stores their traces; every failure says why and leaves the DB untouched."""

    def __init__(self, store: Store, notifier: Notifier, *, max_bytes: int = 16 * 1024 * 1024) -> None:
        self.store = store
        self.notifier = notifier
        self.max_bytes = max_bytes

    def ingest(
        self,
        payload: Any,
        *,
        raw: bytes | None,
        fmt: str,
        source: str,
        replace: bool = False,
        depth_checked: bool = False,
    ) -> list[PutResult]:
        """Store the traces of one parsed payload: all of them, or (PayloadError 409/422) none.
        `depth_checked`: the payload came from `parse_json` (already held to the depth limit)."""
        try:
            traces = to_traces(payload, fmt, depth_checked=depth_checked)
        except ImportFormatError as exc:
            raise PayloadError(422, str(exc)) from exc
        if not replace:
            for trace in traces:
                conflict = self.store.takeover(trace)
                if conflict is not None:
                    raise PayloadError(409, str(conflict))
        results: list[PutResult] = []
        try:
            for trace in traces:
                results.append(
                    self.store.put(trace, raw=raw if len(traces) == 1 else None, source=source, replace=replace)
                )
        except TakeoverError as exc:  # a trace of another format arrived in between
            raise PayloadError(409, str(exc)) from exc
        finally:
            if any(r.status != "unchanged" for r in results):
                self.notifier.notify()
        return results

    def ingest_bytes(self, raw: bytes, *, fmt: str = "auto", source: str, replace: bool = False) -> list[PutResult]:
        """One JSON payload; PayloadError (400, 409, 422) if it cannot be stored."""
        return self.ingest(parse_json(raw), raw=raw, fmt=fmt, source=source, replace=replace, depth_checked=True)

    def ingest_lines(self, raw: bytes, *, fmt: str = "auto", source: str, replace: bool = False) -> LineResults:
        """An NDJSON batch: each line is a payload; a bad line is reported and the rest still load."""
        out = LineResults()
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.results += self.ingest_bytes(line, fmt=fmt, source=f"{source}:{number}", replace=replace)
            except PayloadError as exc:
                out.errors.append({"line": number, "status": exc.status, "detail": exc.message})
        return out

    # -- files ------------------------------------------------------------------------------------------

    def ingest_file(self, path: Path, *, root: Path | None = None, force: bool = False, keep_raw: bool = True) -> int:
        """Ingest a .json or .jsonl file found under `root` (unchanged files are skipped); returns the
        traces stored or kept. Never raises: every problem is recorded as an import error naming the file
        (and line), and the errors this file had before are cleared first. `keep_raw` False stores only
        the canonical trace (for the batch's own bundles, which stay on disk)."""
        try:
            return self._ingest_file(path, root if root is not None else path.parent, force=force, keep_raw=keep_raw)
        except Exception as exc:  # the database itself failing: log it, keep the caller going
            logger.exception("could not ingest %s", path)
            with contextlib.suppress(Exception):
                self.store.record_error(str(path), f"could not be ingested: {type(exc).__name__}: {exc}")
            return 0

    def forget_file(self, path: Path) -> None:
        """`path` was deleted: its import errors go with it."""
        try:
            self.store.forget_file(str(path))
        except Exception:
            logger.exception("could not forget %s", path)

    def _open(self, path: Path, root: Path) -> tuple[IO[bytes], os.stat_result] | str:
        """An open handle on a regular file inside `root`, or the reason it is not read."""
        real = _inside(path, root)
        if real is None:
            return f"a symlink to {os.path.realpath(path)}, outside the watched directory {root}: not read"
        try:
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            return f"cannot read: {exc.strerror}"
        info = os.fstat(fd)
        if not stat_module.S_ISREG(info.st_mode):
            os.close(fd)
            return "not a regular file: not read"
        return os.fdopen(fd, "rb"), info

    def _ingest_file(self, path: Path, root: Path, *, force: bool, keep_raw: bool) -> int:
        source = str(path)
        opened = self._open(path, root)
        if isinstance(opened, str):
            self.store.clear_errors(source)
            self.store.record_error(source, opened)
            return 0
        handle, info = opened
        with handle:
            if not force and self.store.file_seen(source, info.st_mtime_ns, info.st_size):
                return 0
            self.store.clear_errors(source)
            errors = FileErrors(self.store, source)
            if path.suffix == ".jsonl":
                count = 0
                for number, line in _lines(handle, self.max_bytes):
                    if line is None:
                        errors.add(f"{source}:{number}", f"line over the size limit of {self.max_bytes:,} bytes")
                    elif line.strip():
                        count += self.ingest_member(line, f"{source}:{number}", errors, keep_raw=keep_raw)
            elif info.st_size > self.max_bytes:
                errors.add(source, f"file of {info.st_size:,} bytes is over the size limit of {self.max_bytes:,} bytes")
                count = 0
            else:
                raw = handle.read(self.max_bytes + 1)
                if len(raw) > self.max_bytes:  # it grew while we read it
                    errors.add(source, f"file is over the size limit of {self.max_bytes:,} bytes")
                    count = 0
                else:
                    count = self._ingest_json_file(raw if keep_raw else None, raw, source, errors)
            errors.close()
        self.store.mark_file(source, info.st_mtime_ns, info.st_size)
        return count

    def _ingest_json_file(self, kept: bytes | None, raw: bytes, source: str, errors: FileErrors) -> int:
        try:
            payload = parse_json(raw)
        except PayloadError as exc:
            errors.add(source, exc.message)
            return 0
        if (
            isinstance(payload, list)
            and payload
            and all(isinstance(p, dict) for p in payload)
            and _is_trace_list(payload)
        ):
            return sum(self._ingest_payload(item, None, f"{source}[{i}]", errors) for i, item in enumerate(payload))
        return self._ingest_payload(payload, kept, source, errors)

    def ingest_member(self, raw: bytes, source: str, errors: FileErrors, *, keep_raw: bool = True) -> int:
        """One payload read from a file (a `.jsonl` line, an archive member); a failure is recorded in
        `errors` under `source`. `keep_raw` False stores only the canonical trace (the file keeps the raw)."""
        try:
            payload = parse_json(raw)
        except PayloadError as exc:
            errors.add(source, exc.message)
            return 0
        return self._ingest_payload(payload, raw if keep_raw else None, source, errors)

    def _ingest_payload(self, payload: Any, raw: bytes | None, source: str, errors: FileErrors) -> int:
        try:
            return len(self.ingest(payload, raw=raw, fmt="auto", source=source, depth_checked=True))
        except PayloadError as exc:
            errors.add(source, exc.message)
            return 0


def _is_trace_list(items: list[Any]) -> bool:
    """A JSON array of whole traces (not the steps or messages of one trace)."""
    first = items[0]
    if any(k in first for k in ("format", "resourceSpans", "messages", "spans", "trace", "steps", "conversation")):
        try:
            detect_format(first)
        except ImportFormatError:
            return False
        return True
    return False
