"""One agent on a live model, the other 23 offline: the version file's per-agent `model`, over real HTTP to
a scripted OpenAI-compatible server on 127.0.0.1, recorded per agent and replayed with no key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evswarm.agents.versions import builtin_catalog
from evswarm.cli import app
from evswarm.core.io import read_bundle
from evswarm.core.layout import BatchLayout
from tests.live.guarded_cli import MARK
from tests.live.scripted_server import Script, ScriptedServer

ROOT = Path(__file__).resolve().parents[2]


def simulate_split(out: Path, versions: Path, *, key: str | None) -> tuple[int, str]:
    """`evswarm simulate --versions FILE --version-set split` in its own process, refusing any connection
    beyond this machine."""
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY" and "proxy" not in k.lower()}
    env.update(NO_PROXY="127.0.0.1,localhost", COLUMNS="400", PYTHONPATH=str(ROOT))
    if key is not None:
        env["OPENAI_API_KEY"] = key
    command = [
        sys.executable, "-m", "tests.live.guarded_cli", "simulate", "--runs", "3", "--seed", "7", "--workers", "1",
        "--versions", str(versions), "--version-set", "split", "--out", str(out), "--quiet",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return done.returncode, " ".join((done.stdout + done.stderr).split())


@pytest.mark.slow
def test_only_the_changed_agent_runs_on_the_live_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedServer(Script()) as server:
        versions = tmp_path / "versions.yaml"
        versions.write_text(
            "format: evswarm.versions.v1\n"
            "version_sets:\n"
            "  split:\n"
            "    extends: v1.0\n"
            "    agents:\n"
            "      PricingAgent:\n"
            "        model: openai:scripted\n"
            f"        base_url: {server.base_url}\n",
            encoding="utf-8",
        )
        code, output = simulate_split(tmp_path / "none", versions, key=None)
        assert code == 2, output
        assert (
            f"{versions}:7: `version_sets.split.agents.PricingAgent.model` openai:scripted needs OPENAI_API_KEY"
            in output
        )
        assert not (tmp_path / "none").exists()
        code, output = simulate_split(tmp_path / "split", versions, key="sk-test-dummy")
        assert code == 0, output
        assert MARK not in output, "nothing but the local model server is contacted"
        requests = [agent for _, status, agent in server.script.log if status == 200]
    bundles = [read_bundle(p) for p in BatchLayout(tmp_path / "split").bundle_paths()]
    assert len(bundles) == 3
    live_calls = 0
    for bundle in bundles:
        assert bundle.run.summary.final_decision is not None, bundle.run.summary.error_message
        for call in bundle.model_calls:
            assert call.model == ("scripted" if call.agent_name == "PricingAgent" else f"policy/{call.agent_name}")
        live_calls += sum(c.agent_name == "PricingAgent" for c in bundle.model_calls)
        baseline = builtin_catalog().sets["v1.0"].with_default_model("offline", None).agent_versions
        recorded = bundle.run.summary.agent_versions or {}
        assert sorted(agent for agent in baseline if baseline[agent] != recorded[agent]) == ["PricingAgent"]
    assert live_calls > 0 and set(requests) == {"PricingAgent"}, "only the pricing agent asked the server"
    assert live_calls == len(requests), "one recorded call per request"

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # replay needs neither the key nor the server
    replayed = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["replay", str(tmp_path / "split"), "--verify", "--quiet"])
    assert replayed.exit_code == 0, replayed.output
    assert "3 run(s) replayed: 3 match" in " ".join(replayed.output.split())
