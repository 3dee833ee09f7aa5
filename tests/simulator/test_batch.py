"""`evswarm simulate` as a user runs it: determinism, files, storage, resume, bad input, no network."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evswarm.cli import app
from evswarm.core.io import bundle_bytes, read_bundle, read_jsonl
from evswarm.core.layout import BatchLayout
from evswarm.simulator import simulate

REFERENCE_COLUMNS = frozenset(
    [
        "activation_slice",
        "active_competitors",
        "agent_version_set",
        "arbitration_count",
        "batch_index",
        "batch_label",
        "batch_size",
        "bundle_path",
        "config_id",
        "environment_batch_id",
        "environment_event_ids",
        "error",
        "error_code",
        "error_message",
        "factory_assignment",
        "failure_agent",
        "failure_model",
        "failure_parameter",
        "final_status",
        "incentive_program",
        "input_manifest_path",
        "input_path",
        "input_shard_count",
        "input_shard_index",
        "loop_count",
        "market_regime",
        "openai_trace_id",
        "orchestrator_mode",
        "price_regime",
        "product_set",
        "promo_program",
        "review_decision",
        "review_hit",
        "review_packet_id",
        "review_snapshot_packet_id",
        "review_snapshot_path",
        "review_status",
        "rogue_window_id",
        "run_id",
        "runtime_backend",
        "scenario",
        "scenario_family",
        "schedule_regime",
        "simulation_date",
        "specialist_activations",
        "status",
        "supplier_mix",
        "tariff_regime",
        "trace_family",
        "trace_id",
        "trace_name",
        "triage_outcome",
    ]
)
"""The columns of the reference notebook's run table (`trace_results.jsonl`), which ours keeps."""


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> BatchLayout:
    out = tmp_path_factory.mktemp("batch")
    simulate(10, 11, out, workers=2, progress=False)
    return BatchLayout(out)


def _files(layout: BatchLayout) -> dict[str, bytes]:
    names = ["results.jsonl", "run_summary.json"] + [f"bundles/{p.name}" for p in layout.bundle_paths()]
    return {name: (layout.root / name).read_bytes() for name in names}


@pytest.mark.slow
def test_same_seed_gives_identical_files_whatever_the_worker_count(batch: BatchLayout, tmp_path: Path) -> None:
    simulate(10, 11, tmp_path, workers=1, progress=False)
    assert _files(BatchLayout(tmp_path)) == _files(batch)


@pytest.mark.slow
def test_batch_files_describe_every_run(batch: BatchLayout) -> None:
    bundles = [read_bundle(p) for p in batch.bundle_paths()]
    assert len(bundles) == 10
    for bundle in bundles:
        assert bundle_bytes(bundle) == batch.bundle_path(bundle.run.run_id).read_bytes()
    rows = list(read_jsonl(batch.results))
    assert [r["run_id"] for r in rows] == [b.run.run_id for b in sorted(bundles, key=lambda b: b.run.config_id)]
    assert set(rows[0]) >= REFERENCE_COLUMNS
    summary = json.loads(batch.summary.read_bytes())
    assert summary["count"] == 10 and sum(summary["status_counts"].values()) == 10
    assert sum(summary["scenario_counts"].values()) == 10
    assert summary["handoff_count_distribution"] and summary["agent_activation_run_counts"]["Orchestrator"] == 10


@pytest.mark.slow
def test_sqlite_snapshot_rows_match_the_bundles(batch: BatchLayout) -> None:
    db = sqlite3.connect(batch.sqlite)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "runs",
        "configs",
        "traces",
        "trace_events",
        "spans",
        "review_packets",
        "environment_events",
        "environment_decisions",
    } <= tables
    for path in batch.bundle_paths():
        bundle = read_bundle(path)
        rid = bundle.run.run_id

        def count(table: str, rid: str = rid) -> int:
            return int(db.execute(f"SELECT COUNT(*) FROM {table} WHERE run_id=?", (rid,)).fetchone()[0])

        assert count("spans") == len(bundle.spans)
        assert count("trace_events") == len(bundle.events)
        assert count("environment_events") == len(bundle.environment_events)
        assert count("review_packets") == (bundle.review_packet is not None)
        status = db.execute("SELECT status FROM runs WHERE run_id=?", (rid,)).fetchone()[0]
        assert status == bundle.run.status


@pytest.mark.slow
def test_a_batch_killed_midway_resumes_without_rewriting_complete_bundles(batch: BatchLayout, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "evswarm",
        "simulate",
        "--runs",
        "10",
        "--seed",
        "11",
        "--out",
        str(tmp_path),
        "--workers",
        "1",
        "--quiet",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    layout = BatchLayout(tmp_path)
    deadline = time.monotonic() + 120
    while len(list(layout.bundle_paths())) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    written = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in layout.bundle_paths()}
    assert 3 <= len(written) < 10, "the batch should have been cut off midway"
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for name, (mtime, content) in written.items():
        path = layout.bundles_dir / name
        assert path.stat().st_mtime_ns == mtime and path.read_bytes() == content
    assert _files(layout) == _files(batch)
    assert not [p for p in layout.bundles_dir.iterdir() if p.name.startswith(".")], "no temp files left"


def test_bad_arguments_exit_2_with_a_message_that_names_the_problem(tmp_path: Path) -> None:
    runner = CliRunner()
    cases = [
        (["--runs", "-3", "--out", str(tmp_path / "a")], "--runs must be at least 1"),
        (
            ["--runs", "2", "--version-set", "v9.9", "--out", str(tmp_path / "b")],
            "unknown version set 'v9.9' (--version-set)",
        ),
        (["--runs", "2", "--out", str(tmp_path / "file.txt" / "sub")], "cannot write to output directory"),
    ]
    (tmp_path / "file.txt").write_text("not a directory")
    for args, message in cases:
        result = runner.invoke(app, ["simulate", *args])
        assert result.exit_code == 2, result.output
        assert message in " ".join(result.output.split())


@pytest.mark.slow
def test_a_corrupt_bundle_on_resume_stops_with_exit_2_and_is_kept(batch: BatchLayout, tmp_path: Path) -> None:
    simulate(3, 11, tmp_path, workers=1, progress=False)
    victim = next(BatchLayout(tmp_path).bundle_paths())
    victim.write_bytes(b'{"format": "evswarm.bundle.v1", "seed": 11, "run": {')
    result = CliRunner().invoke(app, ["simulate", "--runs", "3", "--seed", "11", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert victim.name in result.output.replace("\n", "") and "corrupt bundle" in result.output
    assert victim.read_bytes().endswith(b'"run": {'), "the corrupt file is left for the user to inspect"


@pytest.mark.slow
def test_simulate_needs_no_network_and_no_api_key(no_network: list[object], tmp_path: Path) -> None:
    report = simulate(3, 5, tmp_path, workers=1, progress=False)
    assert report.ran == 3 and not report.runner_errors
    assert no_network == []


def test_versions_listing_names_every_version_set_and_fault_and_faults_still_works() -> None:
    from evswarm.agents.faults import FAULTS
    from evswarm.agents.versions import builtin_catalog

    runner = CliRunner(env={"COLUMNS": "220"})
    for command in ("versions", "faults"):
        result = runner.invoke(app, [command])
        assert result.exit_code == 0
        text = " ".join(result.output.split())
        for name in [*builtin_catalog().sets, *FAULTS]:
            assert name in text
    assert "`evswarm faults` is now `evswarm versions`" in " ".join(runner.invoke(app, ["faults"]).output.split())
    help_text = " ".join(CliRunner().invoke(app, ["simulate", "--help"]).output.split())
    assert all(fault_id in help_text for fault_id in FAULTS)


def _simulate(out: Path, runs: int, workers: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "evswarm", "simulate", "--runs", str(runs), "--seed", "13", "--out", str(out),
               "--workers", str(workers), "--quiet"]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _wait_for_bundles(layout: BatchLayout, process: subprocess.Popen[bytes], count: int) -> None:
    deadline = time.monotonic() + 180
    while len(list(layout.bundle_paths())) < count and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(list(layout.bundle_paths())) >= count, "the batch never got going"


def _children(pid: int) -> set[int]:
    """Live processes whose parent is `pid` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] != "Z":  # state, parent pid
            found.add(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_ctrl_c_stops_a_batch_within_seconds_and_leaves_only_complete_bundles(tmp_path: Path) -> None:
    layout = BatchLayout(tmp_path)
    process = _simulate(tmp_path, 200, 2)
    _wait_for_bundles(layout, process, 2)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends to the whole foreground group
    sent = time.monotonic()
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGUSR1)  # every evswarm process prints its threads' stacks
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.communicate(timeout=5)
        os.killpg(process.pid, signal.SIGKILL)
        _, err = process.communicate()
        pytest.fail("simulate did not exit 30 s after Ctrl-C; its stacks:\n" + err.decode(errors="replace")[-8000:])
    assert time.monotonic() - sent < 5, "simulate must stop within 5 seconds of Ctrl-C"
    assert process.returncode == 130, err.decode()
    assert "interrupted" in err.decode() and "run the same command again" in err.decode()
    assert not [p for p in layout.bundles_dir.iterdir() if p.name.startswith(".")], "no partial file left"
    for path in layout.bundle_paths():
        read_bundle(path)  # every bundle on disk is complete and valid
    assert len(list(layout.bundle_paths())) < 200


@pytest.mark.slow
def test_workers_exit_when_their_parent_is_killed(tmp_path: Path) -> None:
    layout = BatchLayout(tmp_path)
    process = _simulate(tmp_path, 200, 2)
    _wait_for_bundles(layout, process, 1)
    workers = _children(process.pid)
    assert workers, "the batch should run in worker processes"
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while [w for w in workers if _alive(w)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [w for w in workers if _alive(w)] == [], "orphaned workers kept running"


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
