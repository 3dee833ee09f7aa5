"""The backend choice, its errors, and the contract every backend keeps (`evswarm.compute.mapping` runs it).

Contract of `map_chunks(task, shared, chunks, backend=..., on_done=...)`:
- `task(shared, chunk)` runs once per chunk, in a worker process (in this process when the backend has
  one worker); `task` must be a module-level function and `shared` and each chunk picklable. `shared` goes
  to each worker once, so a chunk can be a few run indices.
- The result is the list of task results in chunk order, whatever order they finished in, so the same
  inputs give the same output on every backend and worker count.
- `on_done(i, result)` is called in this process as each chunk finishes (for progress and resumable
  writes), in completion order.
- Ctrl-C or SIGTERM stops every worker within a second or two and raises `Interrupted` carrying the results
  of the chunks that finished.
- A task's exception is raised here as the same exception (type and message) on every backend, and stops
  the chunks still running; a worker that dies (or, on Ray, a cluster that goes away) is `WorkerLost`.
- Ray needs the task's module importable on every worker (the same evswarm installed) and any path in
  `shared` or a chunk to mean the same on every node.

`check_backend(backend)` fails fast (EvswarmError) on a backend that cannot run, before a stage writes;
`start_backend(backend)` starts (or joins) it ahead of the first map.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

from evswarm.core.errors import EvswarmError

BackendKind = Literal["local", "ray"]


@dataclass(frozen=True)
class Backend:
    """Which engine runs the work: `local` (a process pool on this machine, the default) or `ray` (a Ray
    cluster at `address`, or a local Ray instance sized to this machine when `address` is None)."""

    kind: BackendKind = "local"
    workers: int | None = None
    """Parallel workers; None: one per core (local) or every CPU the Ray cluster offers (ray)."""
    address: str | None = None
    """Ray only: the cluster to join, e.g. `ray://head:10001` or `auto`."""

    def __post_init__(self) -> None:
        if self.kind not in ("local", "ray"):
            raise EvswarmError(f"unknown backend {self.kind!r}", hint="use --backend local or --backend ray")
        if self.address is not None and self.kind != "ray":
            raise EvswarmError("--address needs --backend ray", hint="drop --address, or add --backend ray")
        if self.workers is not None and self.workers < 1:
            raise EvswarmError(f"--workers must be at least 1, not {self.workers}")

    def local_workers(self) -> int:
        """Worker processes of the local pool."""
        return self.workers or os.cpu_count() or 1


class WorkerLost(EvswarmError):
    """A worker process died (killed, out of memory) or the Ray cluster went away while running a chunk;
    the chunks that finished are written, so running the same command again resumes."""

    exit_code = 1


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) stopped the work; `done` maps each finished chunk's index to its result."""

    def __init__(self, done: dict[int, Any]) -> None:
        super().__init__("interrupted")
        self.done = done
