"""`evswarm diff`: two traces side by side, step by step."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from evswarm.cli.app import Command, app, user_errors

if TYPE_CHECKING:
    from evswarm.core.steps import Trace
    from evswarm.core.trace_diff import StepPair, TraceDiff

_STYLE = {"same": "dim", "changed": "yellow", "removed": "red", "added": "green"}
_MARK = {"same": " ", "changed": "~", "removed": "-", "added": "+"}


def read_trace(path: Path) -> Trace:
    """The one trace in `path` (a bundle, or any format `evswarm import` reads)."""
    from evswarm.core.errors import EvswarmError
    from evswarm.core.formats import ImportFormatError, to_traces
    from evswarm.core.io import load_json

    try:
        traces = to_traces(load_json(path))
    except ImportFormatError as exc:
        raise EvswarmError(f"{path}: {exc}") from None
    if len(traces) != 1:
        raise EvswarmError(f"{path} holds {len(traces)} traces; diff compares one trace with one trace")
    return traces[0]


def _shown(diff: TraceDiff, context: int, everything: bool) -> list[StepPair | None]:
    """The rows to print: differences with `context` rows around them; None marks elided rows."""
    if everything:
        return list(diff.pairs)
    keep = [False] * len(diff.pairs)
    for i, pair in enumerate(diff.pairs):
        if pair.op != "same":
            for j in range(max(0, i - context), min(len(diff.pairs), i + context + 1)):
                keep[j] = True
    rows: list[StepPair | None] = []
    for i, pair in enumerate(diff.pairs):
        if keep[i]:
            rows.append(pair)
        elif rows and rows[-1] is not None:
            rows.append(None)
    return rows


@app.command(
    "diff",
    cls=Command,
    epilog="Example: evswarm diff runs/a.json runs/b.json",
    short_help="Two traces side by side, step by step (a run and its twin).",
)
@user_errors
def diff_command(
    left: Annotated[
        Path,
        typer.Argument(
            metavar="A", show_default=False, help="A trace file: a bundle, or any format `evswarm import` reads."
        ),
    ],
    right: Annotated[Path, typer.Argument(metavar="B", show_default=False, help="The trace to compare it with.")],
    context: Annotated[int, typer.Option(min=0, metavar="N", help="Unchanged steps shown around each difference.")] = 2,
    everything: Annotated[bool, typer.Option("--all", help="Show every step, not only the differences.")] = False,
    width: Annotated[int, typer.Option(min=40, metavar="N", help="Characters per step summary.")] = 70,
) -> None:
    """Compare two traces step by step (a run and its counterfactual twin, or one order under two versions).

    Steps are aligned on kind, agent and tool (longest common subsequence), so one inserted step does not
    misalign the rest; aligned steps whose arguments, text or results differ are marked changed (~),
    steps only on the left removed (-), only on the right added (+). Times and ids are ignored.

    Exit codes: 0 the traces are the same, 1 they differ, 2 a file cannot be read.
    """
    from rich.console import Console
    from rich.table import Table

    from evswarm.core.trace_diff import answer_text, describe, diff_traces

    diff = diff_traces(read_trace(left), read_trace(right))
    console = Console(soft_wrap=False)
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column(left.name, overflow="fold")
    table.add_column("", width=1)
    table.add_column(right.name, overflow="fold")
    for pair in _shown(diff, context, everything):
        if pair is None:
            table.add_row("", "[dim]…[/]", "", "[dim]…[/]")
            continue
        style = _STYLE[pair.op]
        index = pair.left_index if pair.left_index is not None else pair.right_index
        table.add_row(
            str((index or 0) + 1),
            describe(pair.left, width) if pair.left else "",
            _MARK[pair.op],
            describe(pair.right, width) if pair.right else "",
            style=style,
        )
    if diff.pairs and not diff.identical:
        console.print(table)
    counts = diff.counts()
    first = diff.first_difference()
    summary = ", ".join(f"{n} {op}" for op, n in counts.items() if n)
    if diff.identical:
        console.print(f"the traces are the same ({summary or 'no steps'})")
        return
    if first is not None:
        step = first.left or first.right
        assert step is not None
        where = first.left_index if first.left_index is not None else first.right_index
        console.print(f"first difference at step {(where or 0) + 1} ({step.agent or '?'}); {summary}")
    if diff.answer_changed:
        console.print(f"final answer: {_short(answer_text(diff.left))!r} -> {_short(answer_text(diff.right))!r}")
    raise typer.Exit(1)


def _short(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
