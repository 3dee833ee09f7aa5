"""The `evswarm` Typer application and the error handling every command shares. Each command lives in its
own module and registers itself on `app` (see `evswarm.cli`)."""

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
        except KeyboardInterrupt:
            err_console.print("[bold red]interrupted[/] (files already written are complete)", highlight=False)
            raise typer.Exit(130) from None

    return wrapper
