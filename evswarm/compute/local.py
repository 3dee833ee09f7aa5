"""The local backend: a process pool on this machine whose workers stop when asked and die with their parent.

Workers ignore SIGINT (the parent decides what Ctrl-C means) and exit when their parent dies
(`PR_SET_PDEATHSIG` where Linux offers it, and a watchdog thread everywhere), so no orphan keeps writing
into a batch directory. With one worker the chunks run in this process.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from evswarm.compute.backend import Interrupted, WorkerLost

S = TypeVar("S")
C = TypeVar("C")
R = TypeVar("R")

_TASK: tuple[Callable[[Any, Any], Any], Any] | None = None
"""In a worker process: the task and the shared settings, set once by `_start_worker`."""


def _start_worker(parent: int, task: Callable[[Any, Any], Any], shared: Any) -> None:
    """Worker initializer: keep the task and its shared settings (so each submission carries only its chunk:
    a few bytes never fill the pipe to a worker that a Ctrl-C has killed), ignore Ctrl-C, and exit as soon
    as the parent process is gone."""
    global _TASK
    _TASK = (task, shared)
    die_with_parent(parent)


def _run_chunk(chunk: Any) -> Any:
    assert _TASK is not None, "the worker was not started by map_chunks"
    task, shared = _TASK
    return task(shared, chunk)


def die_with_parent(parent: int) -> None:
    """Ignore Ctrl-C, and exit as soon as the parent process is gone. SIGTERM gets its default action back:
    a forked worker inherits the parent's handler, which only sets the parent's stop event, and would
    otherwise outlive the death signal below (writers write atomically, so nothing partial is left)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: the kernel signals us when the parent exits

    def watchdog() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            threading.Event().wait(0.5)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watchdog, name="evswarm-parent-watchdog", daemon=True).start()


@contextlib.contextmanager
def terminate_on_signal() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt for the duration (SIGINT already is one)."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def stop_requested() -> Iterator[threading.Event]:
    """An event set by Ctrl-C or SIGTERM for the duration, instead of an exception.

    A KeyboardInterrupt raised at an arbitrary point of the parent can land inside concurrent.futures while
    it holds a future's lock; the pool's manager thread then blocks on that lock and the interpreter's exit,
    which joins it, hangs. Polling an event keeps every signal out of the library's code."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and kill the workers now."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.kill()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=2)


def map_chunks(
    task: Callable[[S, C], R],
    shared: S,
    chunks: Sequence[C],
    workers: int,
    on_done: Callable[[int, R], None] | None,
) -> list[R]:
    """`evswarm.compute.map_chunks` on `workers` local processes."""
    done: dict[int, R] = {}

    def finish(i: int, result: R) -> None:
        done[i] = result
        if on_done is not None:
            on_done(i, result)

    if workers == 1 or len(chunks) <= 1:
        with terminate_on_signal():
            try:
                for i, chunk in enumerate(chunks):
                    finish(i, task(shared, chunk))
            except KeyboardInterrupt:
                raise Interrupted(dict(done)) from None
        return [done[i] for i in range(len(chunks))]
    with stop_requested() as stop:
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(chunks)), initializer=_start_worker, initargs=(os.getpid(), task, shared)
        )
        pending: dict[Future[R], int] = {pool.submit(_run_chunk, chunk): i for i, chunk in enumerate(chunks)}
        try:
            while pending and not stop.is_set():
                finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in finished:
                    i = pending.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool as exc:
                        raise WorkerLost(
                            f"a worker process died while running chunk {i} ({exc})",
                            hint="out of memory, or killed? Run the same command again to resume",
                        ) from None
                    finish(i, result)
        except BaseException:
            _stop_pool(pool)  # a task's error (or on_done's) stops the other chunks too
            raise
        if stop.is_set():
            _stop_pool(pool)
            raise Interrupted(dict(done))
        pool.shutdown(wait=True)
    return [done[i] for i in range(len(chunks))]
