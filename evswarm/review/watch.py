"""Loading the batch at start, then following changes with watchfiles' own change stream (`awatch`):
trace files under the trace roots (the batch's bundles and the watched directories, recursively) and the
sidecar files other commands write (`eval_labels.jsonl`, the analysis tables), watched through their
directories since those files are replaced, not edited.

Nothing here can die of one file: every failure is logged (and recorded as an import error where it is
about a file) and the watchers go on; a watcher whose stream itself fails is started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import anyio
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from watchfiles import Change, awatch

from evswarm.core.layout import BatchLayout
from evswarm.review.sidecar import load_grades
from evswarm.review.state import ReviewState

logger = logging.getLogger("evswarm.review")

TRACE_SUFFIXES = (".json", ".jsonl")
RETRY_SECONDS = 2.0  # pause before a failed change stream is started again
ANALYSIS_TABLES = ("trace_patterns", "suspects")


def is_trace_name(path: Path) -> bool:
    return path.suffix in TRACE_SUFFIXES and not path.name.startswith(".")


def trace_files(directory: Path) -> list[Path]:
    """.json and .jsonl files under `directory` (subfolders included, symlinked folders not followed),
    in name order."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(directory, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(folder, name) for name in files if is_trace_name(Path(name))]
    return sorted(found)


def trace_roots(state: ReviewState) -> list[Path]:
    """Where trace files are read from, existing or not: the batch's bundles dir and the watched dirs."""
    roots = [BatchLayout(state.config.batch_dir).bundles_dir] if state.config.load_batch else []
    return list(dict.fromkeys([*roots, *state.config.watch_dirs]))


def root_of(path: Path, roots: Iterable[Path]) -> Path | None:
    """The trace root `path` lies under (by name, not following links), or None."""
    return next((root for root in roots if path == root or path.is_relative_to(root)), None)


def initial_files(state: ReviewState) -> list[tuple[Path, Path]]:
    """(file, root) for every trace file to load at start: the batch's bundles, then the watched dirs."""
    files: dict[Path, Path] = {}
    if state.config.load_batch:
        layout = BatchLayout(state.config.batch_dir)
        files.update((path, layout.bundles_dir) for path in layout.bundle_paths())
    for directory in state.config.watch_dirs:
        for path in trace_files(directory):
            files.setdefault(path, directory)
    return list(files.items())


def load_files(state: ReviewState, files: Iterable[tuple[Path, Path]], *, progress: bool) -> None:
    """Ingest (file, root) pairs, skipping unchanged files, with a progress bar on the terminal when asked.
    Never raises because of a file (each failure is an import error)."""
    todo = list(files)
    state.loading["total"] = len(todo)
    columns = (TextColumn("importing traces"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not progress or not todo, transient=False) as bar:
        task = bar.add_task("import", total=len(todo))
        for path, root in todo:
            state.ingestor.ingest_file(path, root=root)
            state.loading["done"] += 1
            bar.advance(task)


def sidecar_paths(state: ReviewState) -> set[Path]:
    """The files whose change reloads grades or macro tables."""
    paths = {state.config.labels_path}
    if state.config.analysis_dir is not None:
        paths |= {
            state.config.analysis_dir / f"{name}{suffix}"
            for name in ANALYSIS_TABLES
            for suffix in (".jsonl", ".json", ".csv")
        }
    return paths


def refresh_sidecars(state: ReviewState) -> None:
    """Reload grades and macro tables; a failure is logged and recorded, never raised."""
    labels = state.config.labels_path
    try:
        state.store.clear_errors(str(labels))
        load_grades(labels, state.store)
    except Exception as exc:
        logger.exception("could not load grades from %s", labels)
        with contextlib.suppress(Exception):
            state.store.record_error(str(labels), f"could not be loaded: {type(exc).__name__}: {exc}")
    try:
        state.analysis.reload(state.store)
    except Exception as exc:
        logger.exception("could not load the analysis tables")
        with contextlib.suppress(Exception):
            state.store.record_error(
                str(state.config.analysis_dir), f"could not be loaded: {type(exc).__name__}: {exc}"
            )


def handle_trace_changes(state: ReviewState, changes: Iterable[tuple[Change, str]], roots: list[Path]) -> None:
    """Ingest added or changed trace files (and the files of a new folder); forget deleted ones."""
    for change, name in sorted(changes, key=lambda c: c[1]):
        path = Path(name)
        root = root_of(path, roots)
        if root is None:
            continue
        try:
            if change == Change.deleted:
                if is_trace_name(path):
                    state.ingestor.forget_file(path)
            elif path.is_dir() and not path.is_symlink():  # a new folder: its files may predate the event
                for file in trace_files(path):
                    state.ingestor.ingest_file(file, root=root)
            elif is_trace_name(path):
                state.ingestor.ingest_file(path, root=root)
        except Exception:
            logger.exception("could not handle a change of %s", path)


def watch_targets(roots: list[Path]) -> list[Path]:
    """The directories to watch (recursively) for `roots`: each root, or its parent while the root does not
    exist yet (so that a bundles folder created later is seen with its files); none inside another."""
    targets = {root if root.is_dir() else root.parent for root in roots}
    targets = {target for target in targets if target.is_dir()}
    return sorted(t for t in targets if not any(o != t and t.is_relative_to(o) for o in targets))


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def watch_traces(state: ReviewState, stop: asyncio.Event) -> None:
    """Follow the trace roots until `stop`: ingest added or changed files, forget deleted ones. A failed
    change stream is logged and started again."""
    roots = trace_roots(state)

    def wanted(change: Change, name: str) -> bool:
        path = Path(name)
        if path.name.startswith(".") or root_of(path, roots) is None:
            return False
        return path.suffix in TRACE_SUFFIXES or change != Change.deleted

    while not stop.is_set():
        targets = watch_targets(roots)
        if not targets:
            return
        try:
            async for changes in awatch(
                *targets, watch_filter=wanted, recursive=True, stop_event=stop, yield_on_timeout=False
            ):
                await anyio.to_thread.run_sync(handle_trace_changes, state, changes, roots)
        except Exception:
            logger.exception("the trace watcher failed; starting it again")
            await _pause(stop, RETRY_SECONDS)


async def watch_sidecars(state: ReviewState, stop: asyncio.Event) -> None:
    """Reload grades and macro tables when their files change (through their directories: other commands
    replace these files rather than edit them). A failed change stream is logged and started again."""
    sidecars = sidecar_paths(state)

    def wanted(change: Change, name: str) -> bool:
        return Path(name) in sidecars

    while not stop.is_set():
        directories = sorted({path.parent for path in sidecars if path.parent.is_dir()})
        if not directories:
            return
        try:
            async for _ in awatch(
                *directories, watch_filter=wanted, recursive=False, stop_event=stop, yield_on_timeout=False
            ):
                await anyio.to_thread.run_sync(refresh_sidecars, state)
        except Exception:
            logger.exception("the sidecar watcher failed; starting it again")
            await _pause(stop, RETRY_SECONDS)
