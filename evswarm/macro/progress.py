"""A quiet-by-default progress display on stderr: one bar for bundles, one line per stage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table


class Progress:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.console = Console(stderr=True)
        self._bar: RichProgress | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.__enter__()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(et, ev, tb)
            self._bar = None

    def stage(self, name: str) -> None:
        if self._bar is not None:
            self._bar.console.print(f"[dim]·[/] {name}")

    @contextmanager
    def counter(self, total: int, what: str) -> Iterator[Callable[[int], None]]:
        """A bar for `total` items; the yielded function advances it by n (a no-op when disabled)."""
        if self._bar is None:
            yield lambda n: None
            return
        bar = self._bar
        task = bar.add_task(f"reading {what}", total=total)
        yield lambda n: bar.advance(task, n)
        bar.update(task, completed=total)

    def summary(self, timings: dict[str, float]) -> None:
        if not self.enabled:
            return
        table = Table(title="stage timings", show_header=True, header_style="bold")
        table.add_column("stage")
        table.add_column("seconds", justify="right")
        for name, secs in timings.items():
            table.add_row(name, f"{secs:.2f}")
        table.add_row("[bold]total", f"[bold]{sum(timings.values()):.2f}")
        self.console.print(table)
