"""Shared file I/O: atomic writes, JSON Lines, and bundle reading with errors that name the file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import ValidationError

from evswarm.core.bundle import BUNDLE_FORMAT, Bundle, TraceBundle
from evswarm.core.errors import BundleError, EvswarmError, first_problem

B = TypeVar("B", bound=TraceBundle)


def dumps(obj: Any, *, indent: bool = False) -> bytes:
    """Canonical JSON bytes: sorted keys, so the same data always gives the same bytes."""
    option = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY
    if indent:
        option |= orjson.OPT_INDENT_2
    return orjson.dumps(obj, option=option)


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that readers see either the old content or the new, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any, *, indent: bool = True) -> None:
    atomic_write_bytes(path, dumps(obj, indent=indent) + b"\n")


def atomic_write_jsonl(path: Path, rows: Iterable[Any]) -> None:
    atomic_write_bytes(path, b"".join(dumps(row) + b"\n" for row in rows))


def iter_jsonl(path: Path, *, on_bad_line: Callable[[str], None] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each JSON object of a JSON Lines file, streaming.

    A line that is not a JSON object raises an EvswarmError naming the file and line; with
    `on_bad_line`, the message goes to it instead and the line is skipped. Blank lines are skipped."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise EvswarmError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            problem = None
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                problem = f"{path}:{number}: not valid JSON ({exc})"
            else:
                if not isinstance(row, dict):
                    problem = f"{path}:{number}: expected a JSON object, found {type(row).__name__}"
            if problem is not None:
                if on_bad_line is None:
                    raise EvswarmError(problem)
                on_bad_line(problem)
                continue
            yield number, row


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a JSON Lines file; a bad line raises an error naming file and line."""
    for _, row in iter_jsonl(path):
        yield row


def load_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EvswarmError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EvswarmError(f"{path}: not valid JSON ({exc})") from exc


def _validated(model: type[B], raw: bytes | dict[str, Any], source: str) -> B:
    try:
        data = orjson.loads(raw) if isinstance(raw, bytes) else raw
    except orjson.JSONDecodeError as exc:
        raise BundleError(f"{source}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise BundleError(f"{source}: expected a JSON object, found {type(data).__name__}")
    found = data.get("format")
    if found != BUNDLE_FORMAT:
        raise BundleError(f"{source}: format is {found!r}, expected {BUNDLE_FORMAT!r}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BundleError(f"{source}: {first_problem(exc)}") from exc
    except RecursionError as exc:
        raise BundleError(f"{source}: nested too deeply to validate") from exc


def parse_bundle(raw: bytes | dict[str, Any], *, source: str) -> Bundle:
    """Validate bundle data; errors name `source` and the first offending field."""
    return _validated(Bundle, raw, source)


def parse_trace_bundle(raw: bytes | dict[str, Any], *, source: str) -> TraceBundle:
    """Validate the part of a bundle every stage may read (see `TraceBundle`); errors name `source`."""
    return _validated(TraceBundle, raw, source)


def read_bundle(path: Path) -> Bundle:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"cannot read bundle {path}: {exc.strerror}") from exc
    return parse_bundle(raw, source=str(path))


def bundle_bytes(bundle: Bundle) -> bytes:
    """The canonical bytes of a bundle as written to disk."""
    return dumps(bundle.model_dump(mode="json"), indent=False) + b"\n"
