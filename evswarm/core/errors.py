"""Errors that the CLI turns into a readable message and an exit code."""

from __future__ import annotations


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
