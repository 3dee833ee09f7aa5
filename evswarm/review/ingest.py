"""Ingestion shared by the webhook, the watched directory and the batch loader."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import orjson

from evswarm.review.formats import ImportFormatError, detect_format, to_traces
from evswarm.review.store import PutResult, Store


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
    if not raw.strip():
        raise PayloadError(400, "empty body: send a JSON trace")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(400, f"body is not valid JSON (truncated?): {exc}") from exc


class Ingestor:
    """Validates payloads and stores their traces; every failure says why and leaves the DB untouched."""

    def __init__(self, store: Store, notifier: Notifier) -> None:
        self.store = store
        self.notifier = notifier

    def ingest(self, payload: Any, *, raw: bytes | None, fmt: str, source: str) -> list[PutResult]:
        try:
            traces = to_traces(payload, fmt)
        except ImportFormatError as exc:
            raise PayloadError(422, str(exc)) from exc
        results = [self.store.put(trace, raw=raw if len(traces) == 1 else None, source=source) for trace in traces]
        if any(r.status != "unchanged" for r in results):
            self.notifier.notify()
        return results

    def ingest_bytes(self, raw: bytes, *, fmt: str = "auto", source: str) -> list[PutResult]:
        return self.ingest(parse_json(raw), raw=raw, fmt=fmt, source=source)

    def ingest_file(self, path: Path, *, force: bool = False) -> int:
        """Ingest a .json or .jsonl file (unchanged files are skipped); returns traces stored or kept.

        Errors are recorded (file and line) and the rest of the file still loads.
        """
        try:
            stat = path.stat()
            if not force and self.store.file_seen(str(path), stat.st_mtime_ns, stat.st_size):
                return 0
            raw = path.read_bytes()
        except OSError as exc:
            self.store.record_error(str(path), f"cannot read: {exc.strerror}")
            return 0
        count = 0
        if path.suffix == ".jsonl":
            for number, line in enumerate(raw.splitlines(), start=1):
                if line.strip():
                    count += self._ingest_one(line, f"{path}:{number}")
        else:
            count = self._ingest_json_file(raw, path)
        self.store.mark_file(str(path), stat.st_mtime_ns, stat.st_size)
        return count

    def _ingest_json_file(self, raw: bytes, path: Path) -> int:
        try:
            payload = parse_json(raw)
        except PayloadError as exc:
            self.store.record_error(str(path), exc.message)
            return 0
        if (
            isinstance(payload, list)
            and payload
            and all(isinstance(p, dict) for p in payload)
            and _is_trace_list(payload)
        ):
            return sum(self._ingest_payload(item, None, f"{path}[{i}]") for i, item in enumerate(payload))
        return self._ingest_payload(payload, raw, str(path))

    def _ingest_one(self, raw: bytes, source: str) -> int:
        try:
            payload = parse_json(raw)
        except PayloadError as exc:
            self.store.record_error(source, exc.message)
            return 0
        return self._ingest_payload(payload, raw, source)

    def _ingest_payload(self, payload: Any, raw: bytes | None, source: str) -> int:
        try:
            return len(self.ingest(payload, raw=raw, fmt="auto", source=source))
        except PayloadError as exc:
            self.store.record_error(source, exc.message)
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
