"""Reading import sources: files and directories of JSON and JSON Lines, each payload in one format.

A `.json` file holds one payload. A `.jsonl` / `.ndjson` file holds one payload per line; lines of span
exports (OTLP batches, Agents SDK span exports) are merged, since one trace's spans are often spread over
several lines. A file whose lines are of different formats is refused whole, naming the lines of each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from evswarm.core.errors import EvswarmError
from evswarm.core.formats import ImportFormatError, detect_format
from evswarm.core.limits import DepthError, check_depth

SUFFIXES = (".json", ".jsonl", ".ndjson")
FORMATS = ("auto", "agents-sdk", "otel", "openinference", "openai-chat", "potato", "evswarm")
"""`--format` values; otel and openinference are the same reader (both conventions are understood)."""
_CORE_NAMES = {
    "otel": "otel",
    "openinference": "otel",
    "openai-chat": "openai",
    "potato": "potato",
    "evswarm": "evswarm",
}
_CLI_NAMES = {"otel": "otel", "openai": "openai-chat", "potato": "potato", "evswarm": "evswarm"}
_MERGED = frozenset({"otel", "agents-sdk"})


def core_format(name: str) -> str:
    """The reader name in `evswarm.core.formats` for a `--format` value."""
    return _CORE_NAMES[name]


def _is_sdk_item(item: Any) -> bool:
    return isinstance(item, dict) and (
        item.get("object") in ("trace.span", "trace") or ("span_data" in item and "id" in item and "trace_id" in item)
    )


def is_sdk_export(payload: Any) -> bool:
    """Agents SDK trace exports: `Span.export()` / `Trace.export()` dicts, alone, in a list, or under
    `spans` (and `traces`)."""
    if _is_sdk_item(payload):
        return True
    if isinstance(payload, list):
        return bool(payload) and _is_sdk_item(payload[0])
    if isinstance(payload, dict):
        spans = payload.get("spans")
        return isinstance(spans, list) and bool(spans) and _is_sdk_item(spans[0])
    return False


def detect(payload: Any) -> str:
    """The `--format` name of a payload (raises ImportFormatError when no reader accepts it)."""
    if is_sdk_export(payload):
        return "agents-sdk"
    return _CLI_NAMES[detect_format(payload)]


@dataclass
class Payload:
    """One payload to import, or several merged lines of span exports."""

    source: str  # file, or file:line
    stem: str  # the file's name without suffix (the trace id when the payload names none)
    fmt: str
    value: Any
    lines: list[int] = field(default_factory=list)


def expand(sources: list[Path]) -> list[Path]:
    """Files named, and JSON files under directories named (sorted); a missing path is an error."""
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            found = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            found = [p for p in found if not any(part.startswith(".") for part in p.relative_to(source).parts)]
            if not found:
                raise EvswarmError(f"{source}: no .json, .jsonl or .ndjson files in this directory")
            files += found
        elif source.is_file():
            files.append(source)
        else:
            raise EvswarmError(f"{source}: no such file or directory")
    return list(dict.fromkeys(files))


def _parse(raw: bytes, where: str) -> Any:
    try:
        value = orjson.loads(raw)
        check_depth(value, raw=raw)
    except orjson.JSONDecodeError as exc:
        raise ImportFormatError(f"{where}: not valid JSON ({exc})") from exc
    except DepthError as exc:
        raise ImportFormatError(f"{where}: {exc}") from exc
    return value


def _fmt(value: Any, forced: str, where: str) -> str:
    if forced != "auto":
        return forced
    try:
        return detect(value)
    except ImportFormatError as exc:
        raise ImportFormatError(f"{where}: {exc}") from exc


def read_file(path: Path, forced: str) -> list[Payload]:
    """The payloads of one file; raises ImportFormatError naming the file (and line) when it cannot be
    read, or when its lines mix formats."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read ({exc.strerror})") from exc
    stem = path.stem
    if path.suffix.lower() == ".json":
        value = _parse(raw, str(path))
        return [Payload(str(path), stem, _fmt(value, forced, str(path)), value)]
    lines: list[tuple[int, Any, str]] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        value = _parse(line, where)
        lines.append((number, value, _fmt(value, forced, where)))
    if not lines:
        raise ImportFormatError(f"{path}: the file is empty")
    kinds: dict[str, list[int]] = {}
    for number, _, fmt in lines:
        kinds.setdefault(fmt, []).append(number)
    if len(kinds) > 1:
        parts = "; ".join(f"{fmt} on line(s) {_ranges(numbers)}" for fmt, numbers in kinds.items())
        raise ImportFormatError(
            f"{path}: mixes formats ({parts}); put each format in its own file, or pass --format to read "
            "every line as one format"
        )
    fmt = lines[0][2]
    if fmt in _MERGED:
        return [Payload(str(path), stem, fmt, [v for _, v, _ in lines], [n for n, _, _ in lines])]
    return [Payload(f"{path}:{n}", f"{stem}-{n}", fmt, v, [n]) for n, v, _ in lines]


def _ranges(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:6]))
    return shown + (f" and {len(numbers) - 6} more" if len(numbers) > 6 else "")
