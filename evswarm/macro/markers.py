"""Failure markers in text: what a tool result or a message says when something went wrong, for traces
whose steps carry no structured error (chat logs, imported traces).

Each marker is a named regular expression, searched (case-insensitively, multi-line) in the full text of
tool outputs, agents' messages and the user's messages. The defaults look for errors reported as such
(an `"error":` key, `Error:` / `Exception:` lines), non-zero exit codes, tracebacks and refusals; plain
words such as "failed" or "retry" are not markers. `EVSWARM_FAILURE_MARKERS` names a file of one marker
a line, `name: regex` (lines starting with # are comments), that replaces the defaults.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from evswarm.core.errors import EvswarmError

DEFAULT_MARKERS: dict[str, str] = {
    "traceback": r"Traceback \(most recent call last\)|^\s+at [\w$.]+\([\w.]+:\d+\)",
    "exit_code": r"\bexit ?code[:= ]+\s*-?[1-9]\d*|\bexited with (?:status|code) -?[1-9]\d*"
    r"|\breturn(?:ed)? code -?[1-9]",
    "error": r"^\s*(?:[A-Z]\w*(?:Error|Exception)|Error|ERROR|FATAL)\b[:\s]"
    r"|\"(?:error|error_message)\"\s*:\s*(?!null|\"\"|false)",
    "refusal": r"\bI(?:'m| am) (?:sorry|afraid)[^.]{0,40}\b(?:can(?:no|')t|unable|not able)\b"
    r"|\bI can(?:no|')t (?:help|assist|do that)",
}
ENV = "EVSWARM_FAILURE_MARKERS"
MAX_SCAN = 20_000
"""Characters of a text searched (its start and its end: errors show at either)."""


def parse_markers(text: str, source: str) -> dict[str, re.Pattern[str]]:
    """Markers from `name: regex` lines; a bad line raises an EvswarmError naming `source` and the line."""
    markers: dict[str, re.Pattern[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, pattern = line.partition(":")
        if not sep or not name.strip() or not pattern.strip():
            raise EvswarmError(f"{source}:{number}: expected `name: regex`")
        try:
            markers[name.strip()] = re.compile(pattern.strip(), re.IGNORECASE | re.MULTILINE)
        except re.error as exc:
            raise EvswarmError(f"{source}:{number}: not a regular expression ({exc})") from exc
    if not markers:
        raise EvswarmError(f"{source}: no markers (expected lines `name: regex`)")
    return markers


@lru_cache(maxsize=4)
def _compiled(path: str | None) -> dict[str, re.Pattern[str]]:
    if path:
        file = Path(path)
        try:
            return parse_markers(file.read_text(encoding="utf-8"), str(file))
        except OSError as exc:
            raise EvswarmError(f"{ENV}={path}: cannot read ({exc.strerror})") from exc
    return {n: re.compile(p, re.IGNORECASE | re.MULTILINE) for n, p in DEFAULT_MARKERS.items()}


def active_markers() -> dict[str, re.Pattern[str]]:
    """The markers in force: the file named by `EVSWARM_FAILURE_MARKERS`, else the defaults."""
    return _compiled(os.environ.get(ENV) or None)


@lru_cache(maxsize=4)
def _any_marker(path: str | None) -> re.Pattern[str] | None:
    """One pattern matching wherever any marker matches: a single search rules out the common text with no
    marker at all. None when the markers cannot be joined (e.g. group names used twice)."""
    patterns = list(_compiled(path).values())
    if len({p.flags for p in patterns}) != 1:
        return None
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in patterns), patterns[0].flags)
    except re.error:
        return None


def text_marker(text: str | None) -> str:
    """The name of the first marker found in `text`, or ""."""
    if not text:
        return ""
    if len(text) > MAX_SCAN:
        text = text[: MAX_SCAN // 2] + "\n" + text[-MAX_SCAN // 2 :]
    path = os.environ.get(ENV) or None
    return _remembered_marker(text, path) if len(text) <= REMEMBER_CHARS else _marker_in(text, path)


REMEMBER_CHARS = 2000
"""Texts up to this long have their marker remembered: the same tool outputs and messages recur from run to run
(about half the texts of a batch are repeats)."""


def _marker_in(text: str, path: str | None) -> str:
    """`text_marker` under the markers of `path`."""
    combined = _any_marker(path)
    if combined is not None and combined.search(text) is None:
        return ""
    for name, pattern in _compiled(path).items():
        if pattern.search(text):
            return name
    return ""


_remembered_marker = lru_cache(maxsize=8192)(_marker_in)
