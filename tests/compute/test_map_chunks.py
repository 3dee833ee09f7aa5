"""The `map_chunks` contract, on the local pool and on a real local Ray: results in chunk order, `on_done`
per chunk in this process, the shared settings sent to each worker once, a task's error raised as itself,
and Ctrl-C stopping every chunk with what finished."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from evswarm.compute import Backend, Interrupted, WorkerLost, check_backend, map_chunks
from evswarm.core.errors import EvswarmError
from tests.compute import tasks


@pytest.fixture(params=["local", "ray"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "ray":
        return request.getfixturevalue("ray_backend")  # type: ignore[no-any-return]
    return Backend(workers=2)


def test_results_come_in_chunk_order_and_on_done_sees_each_chunk_here(backend: Backend) -> None:
    seen: list[tuple[int, int, int]] = []
    chunks = list(range(10))
    results = map_chunks(
        tasks.square_plus, 7, chunks, backend=backend, on_done=lambda i, r: seen.append((i, r, os.getpid()))
    )
    assert results == [c * c + 7 for c in chunks]
    assert sorted(seen) == [(i, i * i + 7, os.getpid()) for i in chunks]


def test_the_shared_settings_reach_each_worker_once(backend: Backend) -> None:
    shared = tasks.Shared(f"settings-{backend.kind}-{time.monotonic_ns()}", b"x" * 100_000)
    results = map_chunks(tasks.where_shared, shared, list(range(12)), backend=backend)
    assert [chunk for chunk, _, _ in results] == list(range(12))
    workers = {pid for _, pid, _ in results}
    assert os.getpid() not in workers, "two workers run the chunks, not this process"
    assert all(unpickled <= 1 for _, _, unpickled in results), results


def test_a_task_error_is_raised_as_itself(backend: Backend) -> None:
    with pytest.raises(ValueError, match=r"^batch: chunk 3 is bad$"):
        map_chunks(tasks.fail_on_three, "batch", list(range(6)), backend=backend)
    with pytest.raises(EvswarmError, match=r"^batch: chunk 2 names a missing file$"):
        map_chunks(tasks.user_error_on_two, "batch", list(range(4)), backend=backend)


def test_a_worker_that_dies_is_worker_lost_naming_its_chunk(backend: Backend) -> None:
    with pytest.raises(WorkerLost, match="chunk 1") as lost:
        map_chunks(tasks.die_on_one, "batch", [0, 1], backend=backend)
    assert lost.value.exit_code == 1


def test_ctrl_c_stops_every_chunk_and_keeps_what_finished(backend: Backend, tmp_path: Path) -> None:
    marker = tmp_path / "never"
    pressed: list[float] = []

    def interrupt(i: int, result: int) -> None:
        pressed.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)  # what a terminal's Ctrl-C does, as chunk 0 finishes

    with pytest.raises(Interrupted) as stop:
        map_chunks(tasks.first_then_block, str(marker), list(range(4)), backend=backend, on_done=interrupt)
    assert pressed and time.monotonic() - pressed[0] < 20, "map_chunks must stop soon after Ctrl-C"
    assert stop.value.done == {0: 0}
    marker.write_text("go")  # a chunk still alive would now finish and say so
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert not list(tmp_path.glob("never.*.finished")), "a chunk kept running after Ctrl-C"
        time.sleep(0.1)


def test_a_bad_backend_fails_before_any_work_with_a_message_naming_it() -> None:
    with pytest.raises(EvswarmError, match="--address needs --backend ray"):
        Backend("local", address="auto")
    with pytest.raises(EvswarmError, match="unknown backend 'spark'"):
        Backend("spark")  # type: ignore[arg-type]
    with pytest.raises(EvswarmError, match="'nowhere' is not a Ray address"):
        check_backend(Backend("ray", address="nowhere"))
    with pytest.raises(EvswarmError, match=r"cannot reach Ray at 127\.0\.0\.1:1"):
        check_backend(Backend("ray", address="127.0.0.1:1"))
    with pytest.raises(EvswarmError, match=r"ray://127\.0\.0\.1:1"):
        check_backend(Backend("ray", address="ray://127.0.0.1:1"))
