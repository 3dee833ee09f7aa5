"""Shared file I/O: atomic writes, JSON Lines, and bundle reading with errors that name the file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from evswarm.core.bundle import BUNDLE_FORMAT, Bundle
from evswarm.core.errors import BundleError, EvswarmError


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


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a JSON Lines file; a bad line raises an error naming file and line."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise EvswarmError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise EvswarmError(f"{path}:{number}: not valid JSON ({exc})") from exc
            if not isinstance(row, dict):
                raise EvswarmError(f"{path}:{number}: expected a JSON object, found {type(row).__name__}")
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


def parse_bundle(raw: bytes | dict[str, Any], *, source: str) -> Bundle:
    """Validate bundle data; errors name `source` and the first offending field."""
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
        return Bundle.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BundleError(f"{source}: field `{where}`: {first['msg']} ({exc.error_count()} problem(s) in all)") from exc


def read_bundle(path: Path) -> Bundle:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"cannot read bundle {path}: {exc.strerror}") from exc
    return parse_bundle(raw, source=str(path))


def bundle_bytes(bundle: Bundle) -> bytes:
    """The canonical bytes of a bundle as written to disk."""
    return dumps(bundle.model_dump(mode="json"), indent=False) + b"\n"
