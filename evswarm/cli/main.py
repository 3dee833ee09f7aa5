"""The `evswarm` Typer application. Each command lives in its own module and registers itself here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from evswarm.core.errors import EvswarmError

P = ParamSpec("P")
R = TypeVar("R")

err_console = Console(stderr=True, soft_wrap=True)

app = typer.Typer(
    name="evswarm",
    help=(
        "Simulate an EV-order agent swarm on the OpenAI Agents SDK, grade its traces, find recurring "
        "behavior patterns, and review traces by hand. Everything runs offline by default.\n\n"
        "Typical flow: simulate -> grade -> analyze -> serve. `evswarm demo` analyzes the shipped batch."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn an EvswarmError into a one-paragraph message and its exit code (2 for bad input)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except EvswarmError as exc:
            err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
            if exc.hint:
                err_console.print(f"  [yellow]hint:[/] {exc.hint}", highlight=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def _register() -> None:
    # Imported for their side effect of adding commands to `app`; each import is cheap (stage code
    # is imported inside the command functions).
    from evswarm.cli import analyze, demo, grade, replay, serve, simulate  # noqa: F401


_register()
