"""The features of a step's content: what kind of thing it said, field by field.

Two runs of the same case take the same steps with different particulars, so a step is compared across
runs through the leaves of its JSON payload (tool arguments, tool output, an answer): one feature per
leaf, `path=value`, where lists become their size (0, 1 or n), numbers '#', short lowercase words stay
(they are states such as `ok`, `blocked`, `release`, or categories) and every other string is 's'.

Text that is not JSON (a chat message, a plain tool output) has the feature `text`, the leaves of every JSON
object or array written inside it (a tool call spelled out in a message), and one feature per distinct word
of the rest, `text~word` (lowercased, at least `MIN_WORD` letters, digits dropped, the first `MAX_WORDS`),
so that two chat turns that say different things differ. A word is weak evidence of failure on its own, so
the rules that pick failing traces without grades ignore word features (`is_word`); contrast with peers
uses them. Which features matter is decided later by contrast with peer runs (see `behavior`), not here:
this module knows no vocabulary of any dataset.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

import orjson

MAX_DEPTH = 2
MAX_LEAVES = 24
_WORD = re.compile(r"^[a-z][a-z_]{0,23}$")
SEPARATOR = " ; "
WORD_MARK = "text~"
"""Prefix of a word feature of free text."""
MIN_WORD = 3
MAX_WORDS = 32
"""Distinct words of one text that become features (the first ones)."""
MAX_TEXT_SCAN = 4000
"""Characters of a free text read for embedded JSON and words."""
_TOKEN = re.compile(r"[A-Za-z][A-Za-z_]+")
_OPENING = re.compile(r"[{\[]")
_DECODER = json.JSONDecoder()


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


def _embedded(text: str) -> tuple[list[Any], str]:
    """The non-empty JSON objects and arrays written inside `text`, and the text around them."""
    found: list[Any] = []
    rest: list[str] = []
    at = 0
    while (opening := _OPENING.search(text, at)) is not None:
        start = opening.start()
        try:
            value, end = _DECODER.raw_decode(text, start)
        except ValueError:
            rest.append(text[at : start + 1])
            at = start + 1
            continue
        if isinstance(value, dict | list) and value:
            found.append(value)
        rest.append(text[at:start])
        at = end
    rest.append(text[at:])
    return found, " ".join(rest)


def text_features(text: str) -> list[str]:
    """Features of free text: `text`, the leaves of JSON written inside it, and its words (`text~word`)."""
    found, rest = _embedded(text[:MAX_TEXT_SCAN])
    out = ["text"]
    inner: list[str] = []
    for value in found:
        inner += leaves(value)
    out += list(dict.fromkeys(inner))[:MAX_LEAVES]
    words = dict.fromkeys(w.lower() for w in _TOKEN.findall(rest) if len(w) >= MIN_WORD)
    out += [WORD_MARK + w for w in list(words)[:MAX_WORDS]]
    return out


def is_word(feature: str) -> bool:
    """Whether a feature (or a step feature ending in one) is a word of free text."""
    return WORD_MARK in feature


def features(payload: Any) -> list[str]:
    """The features of a payload given as JSON text or already decoded; non-JSON text gets `text_features`."""
    if isinstance(payload, dict | list):
        return leaves(payload)
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", errors="replace")
    if not isinstance(payload, str) or not payload:
        return ["empty"]
    stripped = payload.strip()
    if stripped[:1] in ("{", "["):
        try:
            return leaves(orjson.loads(stripped))
        except orjson.JSONDecodeError:
            pass
    return text_features(stripped)


def joined(payload: Any, prefix: str = "") -> str:
    """`features(payload)`, each prefixed, as one string (the event table's `shape` column)."""
    if isinstance(payload, str) and len(payload) <= REMEMBER_CHARS:
        return _remembered_join(payload, prefix)
    return _join(payload, prefix)


REMEMBER_CHARS = 4000
"""Texts up to this long have their joined features remembered: the same arguments and outputs recur from run
to run."""


def _join(payload: Any, prefix: str) -> str:
    return SEPARATOR.join(prefix + f for f in features(payload))


_remembered_join = lru_cache(maxsize=16384)(_join)
