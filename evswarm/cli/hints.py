"""Hints for the usage mistakes people make most often, added under click's own error message."""

from __future__ import annotations

import itertools
import re

BOOL_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})
REPEATABLE = ("--version-set", "--annotator", "--watch", "--allow-host")
_EXTRA = re.compile(r"unexpected extra arguments? \((?P<args>.*)\)")
_NO_COMMAND = re.compile(r"No such command '(?P<name>[^']*)'")
_MISSING_OPTION = re.compile(r"Missing option '(?P<option>--[a-z-]+)'")


def _flag_with_value(args: list[str]) -> str | None:
    """A `--flag` followed by a word such as `true` or `no` (flags take no value)."""
    for before, word in itertools.pairwise(args):
        if before.startswith("--") and "=" not in before and word.lower() in BOOL_WORDS:
            return before
    return None


def usage_hint(message: str, args: list[str], commands: list[str] | None = None) -> str | None:
    """One line that tells how to fix a usage error, or None when there is nothing to add."""
    flag = _flag_with_value(args)
    if flag and ("unexpected extra argument" in message or "does not exist" in message):
        return f"{flag} is a flag and takes no value: write {flag} to turn it on, leave it out to keep it off"
    if _NO_COMMAND.search(message) and commands:
        return "the commands are " + ", ".join(commands) + " (evswarm -h says what each does)"
    extra = _EXTRA.search(message)
    if extra:
        words = extra.group("args").split()
        first = words[0] if words else ""
        for option in REPEATABLE:
            if option in args and first not in args[args.index(option) + 1 : args.index(option) + 2]:
                return f"{option} takes one value; repeat the flag for more: {option} A {option} B"
        return "an option name may be missing before it; see --help for the options"
    missing = _MISSING_OPTION.search(message)
    if missing and missing.group("option") == "--out":
        return "say where to write, e.g. --out runs/batch1"
    if "No such option" in message and any(a.startswith("-") and "_" in a for a in args):
        return "option names use dashes, not underscores (e.g. --version-set)"
    return None
