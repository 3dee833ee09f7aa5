"""The `evswarm` Typer application and the error handling every command shares. Each command lives in its
own module and registers itself on `app` (see `evswarm.cli`).

Fast by design: importing this package loads typer and click only. Every command imports its stage inside
its body, so `--help`, `--version` and argument errors answer before any heavy module (pydantic models,
pandas, torch, the SDK, uvicorn) is loaded. Help is plain text wrapped at the terminal's width.
"""

from __future__ import annotations

import contextlib
import faulthandler
import functools
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import typer
from typer._click.core import Context
from typer._click.exceptions import UsageError
from typer.core import TyperArgument, TyperCommand, TyperGroup

from evswarm import __version__
from evswarm.cli.hints import usage_hint

P = ParamSpec("P")
R = TypeVar("R")

PROG = "evswarm"
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 10_000}
"""`max_content_width` lifts click's 80-column cap: help wraps at the terminal's width."""


class PlainArgument(TyperArgument):
    """An argument shown by its metavar alone: `DIR` in the usage line and the help, not `{DIR}` and
    `DIR <path>`."""

    def _usage_display_name(self) -> str:
        return self.display_name_raw if self.required else f"[{self.display_name_raw}]"

    def display_type_rich(self, ctx: Context) -> str | None:
        return None


class Command(TyperCommand):
    """Every evswarm command: arguments read as their metavars (see PlainArgument)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = PlainArgument


class HintingGroup(TyperGroup):
    """The command group: lists commands in the order they were added, and adds a hint for common mistakes
    (a flag given a value, a comma list for a repeatable option, ...) to a usage error."""

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)

    def make_context(
        self, info_name: str | None, args: list[str], parent: Context | None = None, **extra: Any
    ) -> Context:
        self.raw_args = list(args)
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except UsageError as exc:
            raise _with_hint(exc, self.raw_args, list(self.commands)) from None

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise _with_hint(exc, getattr(self, "raw_args", []), list(self.commands)) from None


def _with_hint(exc: UsageError, args: Sequence[str], commands: list[str]) -> UsageError:
    hint = usage_hint(exc.format_message(), list(args), commands)
    if hint and "hint:" not in exc.message:
        exc.message = f"{exc.message}\n  hint: {hint}"
    return exc


def _version(value: bool) -> None:
    if value:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name=PROG,
    cls=HintingGroup,
    help=(
        "Simulate an EV-order agent swarm on the OpenAI Agents SDK, grade its traces, find recurring "
        "behavior patterns, and review traces by hand. Everything runs offline by default.\n\n"
        "Typical flow: simulate -> grade -> analyze -> serve. `evswarm demo` analyzes the shipped batch. "
        "Run `evswarm COMMAND --help` for a command's options and an example."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=CONTEXT,
)


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Options of `evswarm` itself (before the command)."""
    # `kill -USR1 PID` prints every thread's stack to stderr: what a stuck command is doing. (Not possible where
    # stderr is no file, as under a test runner that captures it: then nothing is registered.)
    if sys.__stderr__ is not None and hasattr(signal, "SIGUSR1"):
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            faulthandler.register(signal.SIGUSR1, file=sys.__stderr__, all_threads=True, chain=False)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn an EvswarmError into a one-paragraph message and its exit code (2 for bad input)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt:
            typer.echo("interrupted (files already written are complete)", err=True)
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except Exception as exc:
            from evswarm.core.errors import EvswarmError  # only now: importing core takes a while

            if not isinstance(exc, EvswarmError):
                raise
            _print_error(exc.message, exc.hint)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def _print_error(message: str, hint: str | None, label: str = "error:", fg: str = "red") -> None:
    colour = sys.stderr.isatty()
    typer.secho(label, fg=fg, bold=True, nl=False, err=True, color=colour)
    typer.echo(f" {message}", err=True)
    if hint:
        typer.secho("  hint:", fg="yellow", nl=False, err=True, color=colour)
        typer.echo(f" {hint}", err=True)


def warn(message: str, hint: str | None = None) -> None:
    """A warning on stderr that does not stop the command."""
    _print_error(message, hint, label="warning:", fg="yellow")


class InputError(typer.Exit):
    """Bad input found by a command before it imports its stage: printed as `error: ...` (and a hint),
    exit code 2, like an EvswarmError, without loading the core package."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        _print_error(message, hint)
        super().__init__(2)


def no_comma_lists(values: Sequence[str] | None, flag: str) -> list[str]:
    """The values of a repeatable option; a value with a comma is a mistake that gets a clear error."""
    out = list(values or [])
    for value in out:
        if "," in value:
            parts = [p.strip() for p in value.split(",") if p.strip()]
            raise InputError(
                f"{flag} {value!r}: one value per flag, not a comma-separated list",
                "repeat the flag: " + " ".join(f"{flag} {p}" for p in parts),
            )
    return out
