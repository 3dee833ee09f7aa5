"""The features of a step's content: what kind of thing it said, field by field.

Two runs of the same case take the same steps with different particulars, so a step is compared across
runs through the leaves of its JSON payload (tool arguments, tool output, an answer): one feature per
leaf, `path=value`, where lists become their size (0, 1 or n), numbers '#', short lowercase words stay
(they are states such as `ok`, `blocked`, `release`, or categories) and every other string is 's'.
Text that is not JSON is one feature, `text`. Which features matter is decided later by contrast with
peer runs (see `behavior`), not here: this module knows no vocabulary of any dataset.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

MAX_DEPTH = 2
MAX_LEAVES = 24
_WORD = re.compile(r"^[a-z][a-z_]{0,23}$")
SEPARATOR = " ; "


def _size(n: int) -> str:
    return "0" if n == 0 else "1" if n == 1 else "n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "#"
    if isinstance(value, str):
        return value if _WORD.match(value) else "s"
    if isinstance(value, list):
        return f"[{_size(len(value))}]"
    return "{}" if not value else "{…}"


def leaves(value: Any, prefix: str = "", depth: int = 0) -> list[str]:
    """`path=value` features of a decoded JSON value (dicts walked to `MAX_DEPTH`, keys sorted)."""
    if isinstance(value, dict) and value and depth < MAX_DEPTH:
        out: list[str] = []
        for key in sorted(value, key=str)[:MAX_LEAVES]:
            out += leaves(value[key], f"{prefix}{key}.", depth + 1)
        return out[:MAX_LEAVES]
    return [f"{prefix.rstrip('.') or 'value'}={_value(value)}"]


def features(payload: Any) -> list[str]:
    """The features of a payload given as JSON text or already decoded; non-JSON text is `text`."""
    if isinstance(payload, dict | list):
        return leaves(payload)
    if not isinstance(payload, str | bytes) or not payload:
        return ["empty"]
    stripped = payload.strip()
    if stripped[:1] in ("{", "[", b"{", b"["):
        try:
            return leaves(orjson.loads(stripped))
        except orjson.JSONDecodeError:
            return ["text"]
    return ["text"]


def joined(payload: Any, prefix: str = "") -> str:
    """`features(payload)`, each prefixed, as one string (the event table's `shape` column)."""
    return SEPARATOR.join(prefix + f for f in features(payload))
