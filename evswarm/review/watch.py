"""Loading the batch at start, watching directories for new trace files, and refreshing grades and
macro tables when their files change."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from pathlib import Path

import anyio
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from watchfiles import Change, awatch

from evswarm.core.layout import BatchLayout
from evswarm.review.sidecar import load_grades
from evswarm.review.state import ReviewState

TRACE_SUFFIXES = (".json", ".jsonl")


def is_trace_file(path: Path) -> bool:
    return path.suffix in TRACE_SUFFIXES and not path.name.startswith(".") and path.is_file()


def trace_files(directory: Path) -> list[Path]:
    """.json and .jsonl files under `directory` (subfolders included), in name order."""
    if not directory.is_dir():
        return []
    return sorted(
        p for p in directory.rglob("*") if p.suffix in TRACE_SUFFIXES and not p.name.startswith(".") and p.is_file()
    )


def initial_files(state: ReviewState) -> list[Path]:
    files: list[Path] = []
    if state.config.load_batch:
        files += list(BatchLayout(state.config.batch_dir).bundle_paths())
    for directory in state.config.watch_dirs:
        files += trace_files(directory)
    return list(dict.fromkeys(files))


def load_files(state: ReviewState, files: Iterable[Path], *, progress: bool) -> None:
    """Ingest files (skipping unchanged ones), with a progress bar on the terminal when asked."""
    todo = list(files)
    state.loading["total"] = len(todo)
    columns = (TextColumn("importing traces"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not progress or not todo, transient=False) as bar:
        task = bar.add_task("import", total=len(todo))
        for path in todo:
            state.ingestor.ingest_file(path)
            state.loading["done"] += 1
            bar.advance(task)


def refresh_sidecars(state: ReviewState) -> None:
    load_grades(state.config.labels_path, state.store)
    state.analysis.reload(state.store)


def _sidecar_stamp(state: ReviewState) -> tuple[tuple[str, int, int], ...]:
    paths = [state.config.labels_path]
    if state.config.analysis_dir is not None:
        paths += [
            state.config.analysis_dir / f"{name}{suffix}"
            for name in ("trace_patterns", "suspects")
            for suffix in (".jsonl", ".json", ".csv")
        ]
    stamps = []
    for path in paths:
        with contextlib.suppress(OSError):
            stat = path.stat()
            stamps.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(stamps)


async def poll_sidecars(state: ReviewState, stop: asyncio.Event, interval: float = 2.0) -> None:
    """Reload grades and macro tables when their files change (they are written by other commands)."""
    seen = _sidecar_stamp(state)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        stamp = _sidecar_stamp(state)
        if stamp != seen:
            seen = stamp
            await anyio.to_thread.run_sync(refresh_sidecars, state)


def _roots(state: ReviewState) -> list[Path]:
    candidates = [BatchLayout(state.config.batch_dir).bundles_dir, *state.config.watch_dirs]
    return [d for d in candidates if d.is_dir()]


def _ingest_paths(state: ReviewState, paths: list[Path]) -> None:
    for path in paths:
        if path.is_dir():  # a new folder: its files may predate the watch on it
            for file in trace_files(path):
                state.ingestor.ingest_file(file)
        elif is_trace_file(path):
            state.ingestor.ingest_file(path)


def rescan(state: ReviewState) -> None:
    """Ingest any new or changed file under the watched roots (a safety net for missed events)."""
    _ingest_paths(state, [f for root in _roots(state) for f in trace_files(root)])


async def watch_directories(state: ReviewState, stop: asyncio.Event, rescan_every: float = 15.0) -> None:
    """Ingest .json/.jsonl files as they are added or changed under the watched directories."""
    roots = _roots(state)
    if not roots:
        return

    def wanted(change: Change, path: str) -> bool:
        name = Path(path).name
        if change == Change.deleted or name.startswith("."):
            return False
        return Path(path).suffix in TRACE_SUFFIXES or Path(path).is_dir()

    async def periodic() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=rescan_every)
            if not stop.is_set():
                await anyio.to_thread.run_sync(rescan, state)

    safety_net = asyncio.create_task(periodic())
    try:
        async for changes in awatch(
            *roots,
            watch_filter=wanted,
            recursive=True,
            stop_event=stop,
            rust_timeout=1000,
            yield_on_timeout=False,
        ):
            paths = sorted({Path(p) for _, p in changes})
            await anyio.to_thread.run_sync(_ingest_paths, state, paths)
    finally:
        safety_net.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await safety_net
