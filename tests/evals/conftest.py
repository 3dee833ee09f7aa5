"""Fixtures for the grading tests: hand-made batches, and a small simulated batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.evals.builders import clean_bundle, write_bundle

ROOT = Path(__file__).resolve().parents[2]


def make_handmade_batch(root: Path) -> dict[str, str]:
    """Six runs: four graded (one per failure kind plus a clean one) and two unreadable bundles.

    Returns run_id -> what the run should get ("pass", a failing rubric, or "error")."""
    expected: dict[str, str] = {}
    clean = clean_bundle("a" * 32, version="v1.0")
    write_bundle(root, clean)
    expected["run_" + "a" * 32] = "pass"

    escalated = clean_bundle("b" * 32, version="v1.2")
    escalated["run"]["summary"]["final_decision"]["review_required"] = True
    write_bundle(root, escalated)
    expected["run_" + "b" * 32] = "review_appropriateness"

    overpriced = clean_bundle("c" * 32, version="v1.2")
    overpriced["run"]["summary"]["final_decision"]["quoted_price"] = 45000.0
    write_bundle(root, overpriced)
    expected["run_" + "c" * 32] = "policy_compliance_correctness"

    undecided = clean_bundle("d" * 32, version="v1.0")
    undecided["run"]["summary"]["final_decision"] = None
    undecided["run"]["summary"]["terminal_state"] = "failed"
    write_bundle(root, undecided)
    expected["run_" + "d" * 32] = "final_decision_quality"

    (root / "bundles" / ("run_" + "e" * 32 + ".json")).write_text('{"format": "evswarm.bundle.v1", "seed": ')
    expected["run_" + "e" * 32] = "error"
    (root / "bundles" / ("run_" + "f" * 32 + ".json")).write_text('{"format": "cookbook.bundle", "run": {}}')
    expected["run_" + "f" * 32] = "error"
    return expected


@pytest.fixture
def handmade_batch(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    batch = tmp_path / "batch"
    return batch, make_handmade_batch(batch)


@pytest.fixture(scope="session")
def simulated_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-run batch from the real simulator."""
    out = tmp_path_factory.mktemp("sim") / "batch"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "evswarm", "simulate", "--runs", "12", "--seed", "7", "--out", str(out)],
        check=True, env=env, cwd=ROOT, capture_output=True, timeout=600,
    )  # fmt: skip
    return out


@pytest.fixture
def promptfoo_installed() -> None:
    from tests.evals.builders import PROMPTFOO

    assert PROMPTFOO.is_file(), "promptfoo is not installed: run `make test-setup` (npm install, see package.json)"
