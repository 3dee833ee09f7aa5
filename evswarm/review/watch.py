"""Loading the batch at start, then following changes with watchfiles' own change stream (`awatch`):
trace files under the trace roots (the batch's bundles and the watched directories, recursively) and the
sidecar files other commands write (`eval_labels.jsonl`, the analysis tables). Those are replaced rather
than edited, so each is watched itself and watched anew after every event; a missing one is watched through
its directory, except the directory that holds the database (see `sidecar_targets`).

Nothing here can die of one file: every failure is logged (and recorded as an import error where it is
about a file) and the watchers go on; a watcher whose stream itself fails is started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path

import anyio
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from watchfiles import Change, awatch

from evswarm.core.layout import BatchLayout
from evswarm.review.archive import batch_archive, bundle_members, ingest_archive
from evswarm.review.sidecar import load_grades
from evswarm.review.state import ReviewState

logger = logging.getLogger("evswarm.review")

TRACE_SUFFIXES = (".json", ".jsonl")
RETRY_SECONDS = 2.0  # pause before a failed change stream is started again
LOOK_SECONDS = 2.0  # how often a missing sidecar file or trace root beside the database is looked for


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
    """Ingest (file, root) pairs, then the batch's `bundles.zip` if it keeps its bundles zipped, skipping
    unchanged files, with a progress bar on the terminal when asked and the count in `state.loading` (what
    the list page shows). Never raises because of a file (each failure is an import error)."""
    todo = list(files)
    archive = batch_archive(state.config.batch_dir) if state.config.load_batch else None
    members = bundle_members(archive) if archive is not None else []
    if isinstance(members, str):
        assert archive is not None
        state.store.clear_errors(str(archive))
        state.store.record_error(str(archive), members)
        members = []
    loading = state.loading
    loading.update(total=len(todo) + len(members), done=0, phase="importing")
    started = time.monotonic()
    batch_root = BatchLayout(state.config.batch_dir).bundles_dir
    columns = (TextColumn("importing traces"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, disable=not progress or not loading["total"], transient=False) as bar:
            task = bar.add_task("import", total=loading["total"])

            def advance() -> None:
                loading["done"] += 1
                loading["seconds"] = round(time.monotonic() - started, 1)
                bar.advance(task)

            for path, root in todo:
                if state.closing.is_set():
                    return
                state.ingestor.ingest_file(path, root=root, keep_raw=root != batch_root)
                advance()
            if archive is not None and members:
                ingest_archive(state.ingestor, archive, members=members, advance=advance, stop=state.closing)
    finally:
        loading.update(phase="done", seconds=round(time.monotonic() - started, 1))


def sidecar_paths(state: ReviewState) -> set[Path]:
    """The files whose change reloads grades or macro tables."""
    return {state.config.labels_path, *state.analysis.paths()}


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


def _ingest_all(state: ReviewState, files: list[tuple[Path, Path]]) -> None:
    for path, root in files:
        state.ingestor.ingest_file(path, root=root)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _first(*events: asyncio.Event) -> None:
    """Return when the first of `events` is set."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


async def _changes(
    targets: list[Path],
    *,
    recursive: bool,
    wanted: Callable[[Change, str], bool],
    stop: asyncio.Event,
    armed: Callable[[], Awaitable[None]],
) -> AsyncIterator[set[tuple[Change, str]]]:
    """watchfiles' change stream over `targets`, calling `armed` once its OS watches are set up (so that
    a catch-up scan run there cannot miss a file written in between)."""
    stream = awatch(*targets, watch_filter=wanted, recursive=recursive, stop_event=stop, yield_on_timeout=False)
    pending = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)  # the stream's first step creates its watcher (and its OS watches) at once
    try:
        await armed()
        while True:
            try:
                changes = await pending
            except StopAsyncIteration:
                return
            yield changes
            pending = asyncio.ensure_future(anext(stream))
    finally:
        pending.cancel()
        with contextlib.suppress(BaseException):
            await pending
        await stream.aclose()


async def watch_traces(state: ReviewState, stop: asyncio.Event, appeared: asyncio.Event, armed: asyncio.Event) -> None:
    """Follow the trace roots that exist until `stop`: ingest added or changed files, forget deleted ones.
    `appeared` (set by the sidecar watcher) starts the stream again with a root that was created, and the
    files it already holds are ingested once the new stream is armed. `armed` is set when the first stream
    is. A failed stream is logged and started again."""
    roots = trace_roots(state)
    watched: list[Path] = []

    def wanted(change: Change, name: str) -> bool:
        path = Path(name)
        if path.name.startswith(".") or root_of(path, roots) is None:
            return False
        return path.suffix in TRACE_SUFFIXES or change != Change.deleted

    failed = False
    while not stop.is_set():
        appeared.clear()
        targets = [root for root in roots if root.is_dir()]
        if not targets:
            armed.set()
            await _first(stop, appeared)
            continue
        # What to scan once armed: nothing the first time (the start-up scan follows), every root after a
        # failure (changes may have been missed), else the roots that appeared since the last stream.
        if not armed.is_set():
            scan: list[Path] = []
        elif failed:
            scan = targets
        else:
            scan = [root for root in targets if root not in watched]
        catch_up = [(file, root) for root in scan for file in trace_files(root)]
        watched, failed = targets, False

        async def on_armed(files: list[tuple[Path, Path]] = catch_up) -> None:
            armed.set()
            if files:
                await anyio.to_thread.run_sync(_ingest_all, state, files)

        interrupt = asyncio.Event()
        relay = asyncio.ensure_future(_relay(interrupt, stop, appeared))
        try:
            async for changes in _changes(targets, recursive=True, wanted=wanted, stop=interrupt, armed=on_armed):
                await anyio.to_thread.run_sync(handle_trace_changes, state, changes, roots)
        except Exception:
            logger.exception("the trace watcher failed; starting it again")
            failed = True
            await _pause(stop, RETRY_SECONDS)
        finally:
            relay.cancel()


async def _relay(interrupt: asyncio.Event, stop: asyncio.Event, appeared: asyncio.Event) -> None:
    """Set `interrupt` (which ends one change stream) at `stop` or when a trace root appears."""
    await _first(stop, appeared)
    interrupt.set()


def sidecar_targets(state: ReviewState) -> tuple[list[Path], list[Path]]:
    """(targets, waiting): what the sidecar watcher watches, not recursively, and what it looks for.

    An existing sidecar file is watched itself, and a missing sidecar file or trace root through its
    directory, except the directory that holds the database: watching that one would wake the watcher on
    every database write (measured: a third more time per stored trace), so what is missing there is
    looked for every LOOK_SECONDS instead, and watched once it exists.
    """
    db_dir = state.config.db_path.parent
    targets: set[Path] = set()
    waiting: set[Path] = set()
    for path in [*sorted(sidecar_paths(state)), *trace_roots(state)]:
        if path.is_file():
            targets.add(path)
        elif path.exists():
            continue  # an existing trace root: the trace watcher's
        elif path.parent == db_dir:
            waiting.add(path)
        elif path.parent.is_dir():
            targets.add(path.parent)
    return sorted(targets), sorted(waiting)


async def _look_for(paths: list[Path], stop: asyncio.Event, interrupt: asyncio.Event) -> None:
    """Set `interrupt` at `stop`, or once one of `paths` exists (checked every LOOK_SECONDS)."""
    while not stop.is_set():
        if any(path.exists() for path in paths):
            break
        await _pause(stop, LOOK_SECONDS if paths else 3600.0)
    interrupt.set()


async def watch_sidecars(
    state: ReviewState, stop: asyncio.Event, appeared: asyncio.Event, armed: asyncio.Event
) -> None:
    """Reload grades and macro tables when their files change, and set `appeared` when a missing trace
    root is created. Other commands replace these files rather than edit them, which ends a watch on the
    file: after any event on a watched file the stream is started again (and the tables reloaded once it
    is armed). A failed stream is logged and started again."""
    sidecars = sidecar_paths(state)
    roots = set(trace_roots(state))
    missing = {root for root in roots if not root.is_dir()}

    def wanted(change: Change, name: str) -> bool:
        return Path(name) in sidecars or Path(name) in roots

    first = True
    while not stop.is_set():
        if created := {root for root in missing if root.is_dir()}:
            missing -= created
            appeared.set()
        targets, waiting = sidecar_targets(state)
        interrupt = asyncio.Event()
        looking = asyncio.ensure_future(_look_for(waiting, stop, interrupt))

        async def on_armed(reload: bool = not first) -> None:
            armed.set()
            if reload:  # a file may have been replaced (or created) before this stream was armed
                await anyio.to_thread.run_sync(refresh_sidecars, state)

        first = False
        try:
            if not targets:
                await on_armed()
                await interrupt.wait()
                continue
            async for changes in _changes(targets, recursive=False, wanted=wanted, stop=interrupt, armed=on_armed):
                paths = {Path(name) for _, name in changes}
                if paths & sidecars:
                    await anyio.to_thread.run_sync(refresh_sidecars, state)
                if paths & set(targets) or sidecar_targets(state) != (targets, waiting):
                    break  # a watched file was replaced, or something appeared: watch anew
        except Exception:
            logger.exception("the sidecar watcher failed; starting it again")
            await _pause(stop, RETRY_SECONDS)
        finally:
            looking.cancel()
