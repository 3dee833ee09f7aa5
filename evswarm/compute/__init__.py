"""Where work runs: a backend (the local process pool, or Ray) maps a task over chunks of work.

`map_chunks(task, shared, chunks, backend=...)` is the one entry point; the simulator, the counterfactual
re-runs and the per-trace stages of analysis all go through it, so each runs the same way on every backend.
"""

from evswarm.compute.backend import Backend, Interrupted, WorkerLost
from evswarm.compute.mapping import check_backend, map_chunks, start_backend

__all__ = ["Backend", "Interrupted", "WorkerLost", "check_backend", "map_chunks", "start_backend"]
