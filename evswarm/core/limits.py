"""The bounds every ingested payload is held to, whichever way it came in (webhook, inbox, batch).

One depth limit applies everywhere: to a parsed body or file, and to JSON found inside a string
attribute. orjson parses 1024 levels but serializes only 254, and Python's `json` raises RecursionError
(not a ValueError) near 1000, so anything deeper than `MAX_DEPTH` is refused before a reader sees it.
Text kept from a payload is capped (`MAX_TEXT` per text field, `MAX_NAME` per name or id) with a marker
that says how much was left out; the raw payload is stored beside the canonical trace unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

MAX_DEPTH = 64  # real bundles nest 9 levels; orjson cannot write past 254
MAX_STEPS = 20_000  # steps (or messages, spans, step items) of one trace
MAX_TEXT = 1_000_000  # characters kept of one text field (reasoning, arguments, a tool output, ...)
MAX_NAME = 1_000  # characters kept of a name, label or id-like field
PRETTY_LIMIT = 200_000  # JSON longer than this (compact) is shown compact, not re-indented


class DepthError(ValueError):
    """A value nested deeper than `MAX_DEPTH`; `path` names where (JSONPath-like, `$` is the root)."""

    def __init__(self, path: str, limit: int) -> None:
        shown = path if len(path) <= 120 else f"{path[:60]}…{path[-40:]}"
        super().__init__(f"`{shown}`: nested deeper than {limit} levels")
        self.path = path
        self.limit = limit


def _locate(value: Any, limit: int) -> str:
    """The path of the first container that sits deeper than `limit` (only called on failure)."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "$")]
    while stack:
        node, depth, path = stack.pop()
        if depth > limit:
            return path
        if isinstance(node, dict):
            stack.extend(
                (child, depth + 1, f"{path}.{key}") for key, child in node.items() if isinstance(child, dict | list)
            )
        elif isinstance(node, list):
            stack.extend(
                (child, depth + 1, f"{path}[{index}]")
                for index, child in enumerate(node)
                if isinstance(child, dict | list)
            )
    return "$"


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def text_depth(raw: bytes) -> int:
    """How deep the containers of the JSON text `raw` nest (brackets inside strings do not count)."""
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")  # escaped backslashes first, then quotes
    outside = b"".join(unescaped.split(b'"')[::2])  # between the quotes of strings: outside every string
    brackets = outside.translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    return int(np.cumsum(steps).max())


def check_depth(value: Any, limit: int = MAX_DEPTH, *, raw: bytes | str | None = None) -> None:
    """Raise DepthError if `value` holds containers nested deeper than `limit` levels.

    `raw`, the text `value` was parsed from, makes the check cheap: a text with no more than `limit`
    brackets cannot nest deeper than `limit`, and otherwise its brackets outside strings are counted
    (the value itself is walked only to name where a too-deep text nests too deep).
    """
    if raw is not None:
        brackets = raw.count(b"[") + raw.count(b"{") if isinstance(raw, bytes) else raw.count("[") + raw.count("{")
        if brackets <= limit:
            return
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
        if text_depth(data) <= limit:
            return
    level: list[Any] = [value] if isinstance(value, dict | list) else []
    depth = 1
    while level:  # breadth first, one level at a time: cheap enough to run on every payload
        if depth > limit:
            raise DepthError(_locate(value, limit), limit)
        below: list[Any] = []
        for node in level:
            below += [c for c in (node.values() if isinstance(node, dict) else node) if isinstance(c, dict | list)]
        level = below
        depth += 1


def loads_bounded(text: str | bytes, max_chars: int = PRETTY_LIMIT) -> Any:
    """Parse JSON found inside a string attribute; None if it is too long, invalid or too deep."""
    if len(text) > max_chars:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    try:
        check_depth(value, raw=text)
    except DepthError:
        return None
    return value


MARKER_ROOM = 120  # a clipped text's marker; clipping a clipped text again changes nothing


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """`text` cut to `limit` characters, with a marker saying how many were left out (so at most
    `limit + MARKER_ROOM` characters; texts within that are kept whole)."""
    if len(text) <= limit + MARKER_ROOM:
        return text
    return f"{text[:limit]}\n… [{len(text) - limit:,} more characters not shown; the raw payload is kept]"


def clip_name(text: str | None, limit: int = MAX_NAME) -> str | None:
    """A name or id cut to `limit` characters (with a trailing ellipsis); None stays None."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + "…"
