"""Module-level tasks for the backend contract tests (a worker imports them by name, on either backend)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evswarm.core.errors import EvswarmError

_UNPICKLED: dict[str, int] = {}
"""In a worker process: how many times each `Shared` (by name) was unpickled there."""


def _restore(name: str, payload: bytes) -> Shared:
    _UNPICKLED[name] = _UNPICKLED.get(name, 0) + 1
    return Shared(name, payload)


@dataclass(frozen=True)
class Shared:
    """Settings that count their own unpickling in each process."""

    name: str
    payload: bytes = b""

    def __reduce__(self) -> tuple[Any, tuple[str, bytes]]:
        return _restore, (self.name, self.payload)


def square_plus(shared: int, chunk: int) -> int:
    """Finishes out of order: a chunk's work shrinks as its index grows."""
    deadline = time.perf_counter() + 0.02 * (5 - chunk % 5)
    while time.perf_counter() < deadline:
        pass
    return chunk * chunk + shared


def where_shared(shared: Shared, chunk: int) -> tuple[int, int, int]:
    """(chunk, worker pid, how often the shared settings were unpickled in that worker so far)."""
    return chunk, os.getpid(), _UNPICKLED.get(shared.name, 0)


def fail_on_three(shared: str, chunk: int) -> int:
    if chunk == 3:
        raise ValueError(f"{shared}: chunk {chunk} is bad")
    return chunk


def user_error_on_two(shared: str, chunk: int) -> int:
    if chunk == 2:
        raise EvswarmError(f"{shared}: chunk {chunk} names a missing file")
    return chunk


def first_then_block(marker: str, chunk: int) -> int:
    """Chunk 0 returns at once; every other chunk waits (up to a minute) for `marker`, which never comes,
    so only an interruption ends it."""
    if chunk == 0:
        return 0
    deadline = time.monotonic() + 60
    while not Path(marker).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    Path(f"{marker}.{chunk}.finished").write_text("the interruption did not stop this chunk")
    return chunk


def die_on_one(shared: str, chunk: int) -> int:
    """Chunk 1's worker process dies (as if killed or out of memory)."""
    if chunk == 1:
        os._exit(1)
    return chunk
