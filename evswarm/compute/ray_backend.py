"""The Ray backend: each chunk is a Ray task; the shared settings go to the object store once.

Without an address a local Ray instance is started, sized to this machine (or to `workers` CPUs), with no
dashboard and no usage reporting. With an address (`auto`, `ray://head:10001`, ...) the work joins that
cluster: every worker node needs the same evswarm version installed, and tasks write where the paths they
are given point, so batch directories must be on storage every node sees.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from evswarm.compute.backend import Backend, Interrupted
from evswarm.compute.local import stop_requested
from evswarm.core.errors import EvswarmError

S = TypeVar("S")
C = TypeVar("C")
R = TypeVar("R")


def _connect(backend: Backend) -> Any:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - ray is a declared dependency
        raise EvswarmError("--backend ray needs the `ray` package", hint="pip install 'ray>=2.50,<3'") from exc
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not ray.is_initialized():
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
        if backend.address is None:
            options["num_cpus"] = backend.local_workers()
        try:
            ray.init(address=backend.address, **options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise EvswarmError(
                f"cannot start or join Ray at {backend.address or 'a new local instance'}: {exc}",
                hint="check --address (ray://HOST:10001 or auto), or drop it to start Ray on this machine",
            ) from exc
    return ray


def _call(task: Callable[[Any, Any], Any], shared: Any, chunk: Any) -> Any:
    return task(shared, chunk)


def map_chunks(
    task: Callable[[S, C], R],
    shared: S,
    chunks: Sequence[C],
    backend: Backend,
    on_done: Callable[[int, R], None] | None,
) -> list[R]:
    """`evswarm.compute.map_chunks` as Ray tasks; at most `backend.workers` run at once when it is set."""
    ray = _connect(backend)
    remote = ray.remote(num_cpus=1, max_retries=0)(_call)
    shared_ref = ray.put(shared)
    limit = backend.workers or len(chunks) or 1
    done: dict[int, R] = {}
    queue = list(enumerate(chunks))
    running: dict[Any, int] = {}
    with stop_requested() as stop:
        while (queue or running) and not stop.is_set():
            while queue and len(running) < limit:
                i, chunk = queue.pop(0)
                running[remote.remote(task, shared_ref, chunk)] = i
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.2)
            for ref in ready:
                i = running.pop(ref)
                done[i] = ray.get(ref)
                if on_done is not None:
                    on_done(i, done[i])
        if stop.is_set():
            for ref in running:
                ray.cancel(ref, force=True)
            raise Interrupted(dict(done))
    return [done[i] for i in range(len(chunks))]
