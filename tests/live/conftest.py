"""Fixtures for live mode: the scripted model server, and `evswarm simulate` against it in a fresh process."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from agents.tracing import get_trace_provider, set_trace_processors

from evswarm.core.bundle import Bundle
from evswarm.core.io import read_bundle, read_jsonl
from evswarm.core.layout import BatchLayout
from tests.live.scripted_server import Script, ScriptedServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(Script()) as running:
        yield running


@dataclass
class LiveBatch:
    code: int
    output: str
    layout: BatchLayout

    @property
    def bundles(self) -> list[Bundle]:
        return [read_bundle(p) for p in self.layout.bundle_paths()]

    @property
    def rows(self) -> list[dict[str, object]]:
        return list(read_jsonl(self.layout.results))


def simulate_live(
    out: Path, base_url: str, *args: str, key: str = "sk-test-dummy", env: dict[str, str] | None = None
) -> LiveBatch:
    """`evswarm simulate --model openai:scripted` in its own process: the real CLI, the real HTTP client."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k != "OPENAI_API_KEY" and not k.startswith("EVSWARM_MODEL_") and "proxy" not in k.lower()
    }
    environment.update(OPENAI_API_KEY=key, NO_PROXY="127.0.0.1,localhost", COLUMNS="400", **(env or {}))
    command = [
        sys.executable,
        "-m",
        "tests.live.guarded_cli",  # `evswarm`, refusing any connection beyond 127.0.0.1
        "simulate",
        "--out",
        str(out),
        "--model",
        "openai:scripted",
        "--base-url",
        base_url,
        "--quiet",
        *args,
    ]
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)
    return LiveBatch(done.returncode, " ".join((done.stdout + done.stderr).split()), BatchLayout(out))


@pytest.fixture
def keep_trace_processors() -> Iterator[None]:
    """An in-process replay installs its own trace recorder; put back whatever was installed before."""
    saved = list(get_trace_provider()._multi_processor._processors)  # type: ignore[attr-defined]
    yield
    set_trace_processors(saved)


def replay_in_process(batch: LiveBatch, saved: Bundle) -> Bundle:
    """Re-run one saved bundle from its recorded calls (and recorded model failure) on the SDK Runner."""
    from evswarm.agents.replay import ReplayProvider, recorded_failure
    from evswarm.agents.runner import RunEnvironment, run_scenario
    from evswarm.simulator.cases import generate
    from evswarm.simulator.plan import read_batch_versions

    manifest = json.loads(batch.layout.manifest.read_text())
    versions = read_batch_versions(batch.layout)
    assert versions is not None, "simulate records the versions it ran (versions.json)"
    index = int(saved.run.config_id.rsplit("_", 1)[1])
    scenario = generate(
        saved.seed, index, version_sets=manifest["version_sets"], batch_label=manifest["batch_label"], versions=versions
    )
    env = RunEnvironment.create(ReplayProvider(), versions.version_sets[scenario.version_set])
    env.provider.load(saved.model_calls, recorded_failure(saved))  # type: ignore[attr-defined]
    return asyncio.run(run_scenario(scenario, saved.oracle, env))
