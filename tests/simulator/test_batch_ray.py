"""`evswarm simulate --backend ray` on a real local Ray: the same files as the local pool, byte for byte, a
partial batch finished the same way, and Ctrl-C stopping the Ray tasks."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evswarm.cli import app
from evswarm.compute import Backend
from evswarm.core.io import read_bundle
from evswarm.core.layout import BatchLayout
from evswarm.simulator import simulate

RUNS, SEED = 6, 11


def _files(layout: BatchLayout) -> dict[str, bytes]:
    """Every file of a batch the determinism tests compare, the SQLite snapshot included."""
    names = ["results.jsonl", "run_summary.json", "trace_snapshot.sqlite", "batch.json", "versions.json"]
    names += [f"bundles/{p.name}" for p in layout.bundle_paths()]
    return {name: (layout.root / name).read_bytes() for name in names}


@pytest.fixture(scope="module")
def local_batch(tmp_path_factory: pytest.TempPathFactory) -> BatchLayout:
    out = tmp_path_factory.mktemp("local")
    simulate(RUNS, SEED, out, workers=2, progress=False)
    return BatchLayout(out)


def _simulate_on_ray(out: Path) -> str:
    args = ["simulate", "--runs", str(RUNS), "--seed", str(SEED), "--out", str(out), "--backend", "ray",
            "--workers", "2"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_ray_writes_the_local_pools_files_byte_for_byte(
    ray_backend: Backend, local_batch: BatchLayout, tmp_path: Path
) -> None:
    output = _simulate_on_ray(tmp_path)
    assert f"{RUNS} runs in {tmp_path} (0 already complete, {RUNS} run now)" in " ".join(output.split())
    assert f"{RUNS}/{RUNS}" in output, "the progress bar reached every run"
    assert _files(BatchLayout(tmp_path)) == _files(local_batch)


@pytest.mark.slow
def test_a_partial_batch_finishes_on_ray_without_rewriting_complete_bundles(
    ray_backend: Backend, local_batch: BatchLayout, tmp_path: Path
) -> None:
    simulate(RUNS, SEED, tmp_path, workers=2, progress=False)
    layout = BatchLayout(tmp_path)
    bundles = sorted(layout.bundle_paths())
    for path in bundles[1::2]:  # what a batch stopped midway leaves: some bundles, no batch files
        path.unlink()
    for name in ("results.jsonl", "run_summary.json", "trace_snapshot.sqlite"):
        (tmp_path / name).unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in bundles[0::2]}
    output = _simulate_on_ray(tmp_path)
    assert f"({len(kept)} already complete, {RUNS - len(kept)} run now)" in " ".join(output.split())
    assert {name: (layout.bundles_dir / name).stat().st_mtime_ns for name in kept} == kept
    assert _files(layout) == _files(local_batch)


@pytest.mark.slow
def test_ctrl_c_stops_a_ray_batch_within_seconds_and_leaves_only_complete_bundles(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "evswarm", "simulate", "--runs", "200", "--seed", "13", "--out", str(tmp_path),
               "--workers", "2", "--quiet", "--backend", "ray"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    layout = BatchLayout(tmp_path)
    deadline = time.monotonic() + 180
    while len(list(layout.bundle_paths())) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(list(layout.bundle_paths())) >= 2, "the batch never got going"
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends to its foreground group
    sent = time.monotonic()
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        _, err = process.communicate()
        pytest.fail("simulate --backend ray did not exit 30 s after Ctrl-C:\n" + err.decode(errors="replace")[-4000:])
    assert time.monotonic() - sent < 10, "simulate --backend ray must stop within 10 seconds of Ctrl-C"
    assert process.returncode == 130, err.decode()
    assert "run the same command again" in err.decode()
    stopped = {p.name for p in layout.bundle_paths()}
    deadline = time.monotonic() + 3  # a Ray task that survived would keep adding bundles
    while time.monotonic() < deadline:
        assert {p.name for p in layout.bundle_paths()} == stopped, "Ray tasks kept running after Ctrl-C"
        time.sleep(0.2)
    assert not [p for p in layout.bundles_dir.iterdir() if p.name.startswith(".")], "no partial file left"
    for path in layout.bundle_paths():
        read_bundle(path)
    assert len(stopped) < 200


def test_address_without_ray_or_unreachable_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    cases = [
        (["--address", "auto"], "--address needs --backend ray"),
        (["--backend", "ray", "--address", "127.0.0.1:1"], "cannot reach Ray at 127.0.0.1:1"),
        (["--backend", "ray", "--address", "ray://127.0.0.1:1"], "ray://127.0.0.1:1"),
        (["--backend", "spark"], "unknown backend 'spark'"),
    ]
    for extra, message in cases:
        out = tmp_path / "batch"
        result = CliRunner().invoke(app, ["simulate", "--runs", "2", "--out", str(out), *extra])
        assert result.exit_code == 2, result.output
        assert message in " ".join(result.output.split())
        assert not out.exists(), "nothing is written before the backend is known to work"
