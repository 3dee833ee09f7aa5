"""Errors that the CLI turns into a readable message and an exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class EvswarmError(Exception):
    """A problem the user can fix (bad input, bad usage): the CLI prints it and exits with `exit_code`."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class BundleError(EvswarmError):
    """A bundle file that is missing, unreadable, of another format or invalid."""


def first_problem(exc: ValidationError) -> str:
    """A pydantic validation error as one line naming its first offending field:
    "field `a.b`: <message> (N problem(s) in all)"."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(document)"
    return f"field `{where}`: {first['msg']} ({exc.error_count()} problem(s) in all)"
