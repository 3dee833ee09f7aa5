"""`map_chunks`, `check_backend` and `start_backend`: hand work to the backend a `Backend` names (the
contract is in `evswarm.compute.backend`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from evswarm.compute.backend import Backend

S = TypeVar("S")
C = TypeVar("C")
R = TypeVar("R")


def check_backend(backend: Backend) -> None:
    """Fail fast, before a stage writes anything, on a backend that cannot run here: for Ray, the package
    is missing, or `address` is malformed, does not answer or cannot be joined (EvswarmError naming it)."""
    if backend.kind == "ray":
        import evswarm.compute.ray_cluster as ray_cluster

        ray_cluster.check_ray(backend)


def start_backend(backend: Backend) -> None:
    """Start or join the backend now rather than at the first `map_chunks` (a local Ray instance takes
    seconds to start), so that what follows, a progress bar for instance, times the work alone. Idempotent;
    nothing to do for the local pool."""
    if backend.kind == "ray":
        import evswarm.compute.ray_cluster as ray_cluster

        ray_cluster.connect(backend)


def map_chunks(
    task: Callable[[S, C], R],
    shared: S,
    chunks: Sequence[C],
    *,
    backend: Backend | None = None,
    on_done: Callable[[int, R], None] | None = None,
) -> list[R]:
    """Run `task(shared, chunk)` for every chunk on `backend` (see the module docstring for the contract)."""
    backend = backend or Backend()
    if backend.kind == "ray":
        import evswarm.compute.ray_backend as ray_backend

        return ray_backend.map_chunks(task, shared, chunks, backend, on_done)
    import evswarm.compute.local as local

    return local.map_chunks(task, shared, chunks, backend.local_workers(), on_done)
