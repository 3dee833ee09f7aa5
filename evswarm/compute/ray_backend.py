"""The Ray backend: each chunk is a Ray task; the shared settings go to the object store once and each
worker process reads them once.

Without an address a local Ray instance is started, sized to this machine (or to `workers` CPUs); with
one (`auto`, `HOST:6379`, `ray://HOST:10001`) the work joins that cluster (see `ray_cluster`). Every
worker node needs the same evswarm version installed, and tasks write where the paths they are given
point, so batch directories must be on storage every node sees.

Errors keep the local pool's shape: a task's exception is raised here as the same exception (type and
message); a worker that dies or a cluster that goes away is `WorkerLost` naming the chunk. On the first
error, on Ctrl-C and on SIGTERM every task still running is cancelled (its worker killed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from evswarm import __version__
from evswarm.compute.backend import Backend, Interrupted, WorkerLost
from evswarm.compute.local import stop_requested
from evswarm.compute.ray_cluster import connect
from evswarm.core.errors import EvswarmError

S = TypeVar("S")
C = TypeVar("C")
R = TypeVar("R")

_SHARED: dict[str, Any] = {}
"""In a worker process: the shared settings of the last map it ran a chunk of, by object id."""


def _call(task: Callable[[Any, Any], Any], shared: list[Any], chunk: Any, version: str) -> Any:
    """Worker side of one chunk. `shared` holds the settings' object ref (in a list, so Ray passes the
    ref rather than its value); the value is fetched on this worker's first chunk of the map and kept."""
    if version != __version__:
        raise EvswarmError(
            f"a Ray worker runs evswarm {__version__}, this command evswarm {version}",
            hint="install the same evswarm version on every node of the cluster",
        )
    import ray

    key = shared[0].hex()
    if key not in _SHARED:
        _SHARED.clear()
        _SHARED[key] = ray.get(shared[0])
    return task(_SHARED[key], chunk)


CANCEL_WAIT_S = 10.0
"""How long a cancellation waits for the cancelled tasks to be gone before it returns."""


def _cancel(ray: Any, refs: Sequence[Any]) -> None:
    """Cancel `refs` (their workers killed) and wait, up to `CANCEL_WAIT_S`, until they have ended: `ray.cancel`
    only asks, so without the wait a task could still write after `map_chunks` said it stopped."""
    for ref in refs:
        with contextlib.suppress(Exception):  # already finished, or the cluster is gone
            ray.cancel(ref, force=True)
    if refs:
        with contextlib.suppress(Exception):
            ray.wait(list(refs), num_returns=len(refs), timeout=CANCEL_WAIT_S)


def _result(ray: Any, ref: Any, index: int) -> Any:
    """A finished chunk's result; its task's own exception re-raised as it was raised."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause
        if isinstance(cause, Exception) and not isinstance(cause, ray.exceptions.RayError):
            raise cause from None
        raise EvswarmError(f"chunk {index} failed on Ray: {exc}") from None
    except ray.exceptions.RayError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise WorkerLost(
            f"a Ray worker died or the cluster went away while running chunk {index} ({type(exc).__name__}: {first})",
            hint="out of memory, or a node lost? Run the same command again to resume",
        ) from None


def map_chunks(
    task: Callable[[S, C], R],
    shared: S,
    chunks: Sequence[C],
    backend: Backend,
    on_done: Callable[[int, R], None] | None,
) -> list[R]:
    """`evswarm.compute.map_chunks` as Ray tasks; at most `backend.workers` run at once when it is set
    (else as many as the cluster has CPUs for)."""
    if not chunks:
        return []
    ray = connect(backend)
    remote = ray.remote(num_cpus=1, max_retries=0)(_call)
    shared_box = [ray.put(shared)]
    limit = backend.workers or len(chunks)
    done: dict[int, R] = {}
    queue = list(enumerate(chunks))[::-1]
    running: dict[Any, int] = {}
    with stop_requested() as stop:
        try:
            while (queue or running) and not stop.is_set():
                while queue and len(running) < limit:
                    i, chunk = queue.pop()
                    running[remote.remote(task, shared_box, chunk, __version__)] = i
                ready, _ = ray.wait(list(running), num_returns=1, timeout=0.2)
                for ref in ready:
                    i = running.pop(ref)
                    try:
                        done[i] = _result(ray, ref, i)
                    except Exception:
                        if stop.is_set():  # a task that Ctrl-C reached ends in an error: not the task's
                            break
                        raise
                    if on_done is not None:
                        on_done(i, done[i])
        finally:
            _cancel(ray, list(running))
        if stop.is_set():
            raise Interrupted(dict(done))
    return [done[i] for i in range(len(chunks))]
