"""Live mode end to end over real HTTP: a scripted OpenAI-compatible server on 127.0.0.1 drives the swarm,
every model call lands in the bundle, and the batch replays with no key and no network."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evswarm.cli import app
from evswarm.core.compare import diff_bundles
from tests.live.conftest import LiveBatch, replay_in_process, simulate_live
from tests.live.guarded_cli import MARK
from tests.live.scripted_server import Script, ScriptedServer


@pytest.mark.slow
def test_a_live_batch_records_every_model_call_and_replays_offline(
    server: ScriptedServer, tmp_path: Path, no_network: list[object], keep_trace_processors: None
) -> None:
    # one worker runs two chunks of runs, each in its own event loop: the client must not cross loops
    batch = simulate_live(
        tmp_path / "live", server.base_url, "--runs", "5", "--seed", "11", "--version-set", "v1.0", "--workers", "1"
    )
    assert batch.code == 0, batch.output
    assert MARK not in batch.output, "with a dummy key, nothing but the local model server is contacted"
    bundles = batch.bundles
    assert len(bundles) == 5
    for bundle in bundles:
        decision = bundle.run.summary.final_decision
        assert decision is not None, bundle.run.summary.error_message
        assert decision.decision == bundle.oracle.decision
        assert bundle.run.status == bundle.oracle.expected_status
        calls = bundle.model_calls
        assert calls and {c.model for c in calls} == {"scripted"}
        assert calls[0].agent_name == "Orchestrator" and len({c.agent_name for c in calls}) > 2
        response_ids = {item["provider_data"]["response_id"] for c in calls for item in c.output}
        assert all(r.startswith("chatcmpl-") for r in response_ids), "the server's ids are recorded"
        generations = [s for s in bundle.spans if s.span_type == "generation"]
        assert len(generations) == len(calls)
    assert sum(len(b.model_calls) for b in bundles) == len(server.script.log), "one recorded call per request"
    assert 5 <= len(server.script.connections) < len(server.script.log) / 10, "connections are kept alive per run"
    assert "final_output" in server.script.schemas_seen, "the final answer was asked for with a strict schema"
    assert json.loads(batch.layout.manifest.read_text())["model"] == "openai:scripted"

    replayed = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["replay", str(batch.layout.root), "--verify", "--quiet"])
    assert replayed.exit_code == 0, replayed.output
    assert "5 run(s) replayed: 5 match" in " ".join(replayed.output.split())
    assert no_network == []


@pytest.mark.slow
def test_429_and_500_are_retried_with_exponential_backoff(tmp_path: Path) -> None:
    with ScriptedServer(Script(fail_first=[429, 500])) as server:
        batch = simulate_live(tmp_path / "b", server.base_url, "--runs", "1", "--seed", "11", "--version-set", "v1.0")
        log = server.script.log
    assert batch.code == 0, batch.output
    assert [status for _, status, _ in log[:3]] == [429, 500, 200]
    (bundle,) = batch.bundles
    assert bundle.run.status == bundle.oracle.expected_status and bundle.run.summary.error_code is None
    first_wait, second_wait = log[1][0] - log[0][0], log[2][0] - log[1][0]
    assert first_wait >= 0.35 and second_wait >= 0.7, "the client backs off 0.5s, then 1s (less up to 25% jitter)"


def _failed_with(batch: LiveBatch, code: str) -> list[str]:
    """Every run is a failed bundle with `code` (none lost, no runner errors); returns their messages."""
    rows = batch.rows
    assert rows and all(r["final_status"] == "failed" and r["error_code"] == code for r in rows), rows
    bundles = sorted(batch.bundles, key=lambda b: b.run.config_id)
    assert len(bundles) == len(rows)
    for bundle in bundles:
        assert bundle.run.status == "failed" and bundle.run.summary.terminal_state == "failed"
        assert bundle.run.summary.failure_agent is not None
    return [str(b.run.summary.error_message) for b in bundles]


@pytest.mark.slow
def test_a_server_that_keeps_failing_fails_the_run_after_the_retries(tmp_path: Path) -> None:
    with ScriptedServer(Script(fail_first=[503] * 10)) as server:
        batch = simulate_live(tmp_path / "b", server.base_url, "--runs", "1", env={"EVSWARM_MODEL_RETRIES": "1"})
        requests = len(server.script.log)
    (message,) = _failed_with(batch, "model_server_error")
    assert (
        message == f"the model server at {server.base_url} kept failing (HTTP 503) after 1 retry: scripted failure 503"
    )
    assert requests == 2, "one request and one retry"


@pytest.mark.slow
def test_a_bad_key_fails_every_run_clearly_and_asks_the_server_once(
    tmp_path: Path, keep_trace_processors: None
) -> None:
    with ScriptedServer(Script(api_key="sk-the-right-one")) as server:
        batch = simulate_live(tmp_path / "b", server.base_url, "--runs", "3", "--workers", "1", key="sk-wrong")
        requests = len(server.script.log)
    messages = _failed_with(batch, "model_auth_error")
    said = f"the model server at {server.base_url} rejected the API key (HTTP 401): Incorrect API key provided"
    assert messages[0] == said or messages[0].startswith(said + " (not attempted again")
    assert sum(m == said for m in messages) == 1, "later runs fail fast with the same cause"
    assert requests == 1
    for bundle in batch.bundles:  # the real failure and the fast ones leave the same trace shape, and replay
        assert bundle.model_calls == [] and bundle.run.summary.failure_agent == "Orchestrator"
        failed_calls = [s for s in bundle.spans if s.span_type == "generation"]
        assert len(failed_calls) == 1 and failed_calls[0].error is not None
        assert diff_bundles(bundle, replay_in_process(batch, bundle)) is None


@pytest.mark.slow
def test_a_run_the_server_fails_midway_keeps_its_calls_and_replays_to_the_same_failure(
    tmp_path: Path, keep_trace_processors: None
) -> None:
    with ScriptedServer(Script(fail_after=7)) as server:
        batch = simulate_live(
            tmp_path / "b", server.base_url, "--runs", "2", "--workers", "1", env={"EVSWARM_MODEL_RETRIES": "0"}
        )
    messages = _failed_with(batch, "model_server_error")
    assert messages == [f"the model server at {server.base_url} kept failing (HTTP 500): scripted failure 500"] * 2
    first, second = sorted(batch.bundles, key=lambda b: b.run.config_id)
    assert [len(first.model_calls), len(second.model_calls)] == [7, 0]
    for bundle in (first, second):
        assert diff_bundles(bundle, replay_in_process(batch, bundle)) is None


@pytest.mark.slow
def test_nothing_listening_fails_every_run_as_unreachable(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    batch = simulate_live(tmp_path / "b", url, "--runs", "2", "--workers", "1", env={"EVSWARM_MODEL_RETRIES": "1"})
    messages = _failed_with(batch, "model_unreachable")
    assert all(m.startswith(f"the model server at {url} cannot be reached: connection refused") for m in messages)


@pytest.mark.slow
def test_a_server_slower_than_the_timeout_fails_the_run_as_a_timeout(tmp_path: Path) -> None:
    with ScriptedServer(Script(delay_s=30)) as server:
        batch = simulate_live(
            tmp_path / "b",
            server.base_url,
            "--runs",
            "1",
            env={"EVSWARM_MODEL_TIMEOUT": "0.3", "EVSWARM_MODEL_RETRIES": "1"},
        )
    (message,) = _failed_with(batch, "model_timeout")
    assert message == f"the model server at {server.base_url} did not answer within 0.3s after 1 retry"


@pytest.mark.slow
def test_simulate_says_in_one_line_what_went_wrong_and_exits_non_zero(tmp_path: Path) -> None:
    with ScriptedServer(Script(api_key="sk-the-right-one")) as server:
        batch = simulate_live(tmp_path / "b", server.base_url, "--runs", "2", "--workers", "1", key="sk-wrong")
    assert batch.code == 1
    assert (
        f"2 of 2 runs failed because the model server at {server.base_url} rejected the API key (HTTP 401)"
        in batch.output
    )


@pytest.mark.slow
def test_replay_verifies_a_live_batch_whose_runs_the_server_failed(tmp_path: Path, keep_trace_processors: None) -> None:
    with ScriptedServer(Script(fail_after=7)) as server:
        batch = simulate_live(
            tmp_path / "b", server.base_url, "--runs", "2", "--workers", "1", env={"EVSWARM_MODEL_RETRIES": "0"}
        )
    replayed = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["replay", str(batch.layout.root), "--verify", "--quiet"])
    assert replayed.exit_code == 0, replayed.output
    assert "2 run(s) replayed: 2 match" in " ".join(replayed.output.split())


@pytest.mark.slow
def test_rerunning_after_fixing_the_key_reruns_the_runs_the_server_failed(tmp_path: Path) -> None:
    with ScriptedServer(Script(api_key="sk-the-right-one")) as server:
        failed = simulate_live(tmp_path / "b", server.base_url, "--runs", "2", "--workers", "1", key="sk-wrong")
        assert [r["error_code"] for r in failed.rows] == ["model_auth_error"] * 2
        fixed = simulate_live(tmp_path / "b", server.base_url, "--runs", "2", "--workers", "1", key="sk-the-right-one")
    assert [r["error_code"] for r in fixed.rows] == [None, None], fixed.output


@pytest.mark.slow
def test_a_web_page_instead_of_a_model_fails_the_run_as_a_bad_response(tmp_path: Path) -> None:
    with ScriptedServer(Script(page="<html><body>Welcome to nginx!</body></html>")) as server:
        batch = simulate_live(tmp_path / "b", server.base_url, "--runs", "1")
    (message,) = _failed_with(batch, "model_bad_response")
    said = "sent a response that is not a chat completion; is that the API root?"
    assert message.startswith(f"the model server at {server.base_url} {said}")
