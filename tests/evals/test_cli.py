"""`evswarm grade` from the command line: exit codes and messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evswarm.core.layout import BatchLayout
from tests.evals.builders import ROOT, requires_promptfoo

LAUNCH = "from evswarm.cli import app\napp(prog_name='evswarm')\n"
"""Runs the real Typer app in a fresh interpreter."""


def evswarm(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160", **env}
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, *args],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_help_names_the_rubrics_and_the_install_command() -> None:
    done = evswarm("grade", "--help")
    assert done.returncode == 0
    assert "market_drift_awareness" in done.stdout and "npm install --omit=optional" in done.stdout


def test_missing_batch_dir_is_a_usage_error(tmp_path: Path) -> None:
    done = evswarm("grade", str(tmp_path / "nope"))
    assert done.returncode == 2 and "does not exist" in done.stderr


def test_empty_batch_is_a_usage_error(tmp_path: Path) -> None:
    done = evswarm("grade", str(tmp_path))
    assert done.returncode == 2 and "no bundles to grade" in done.stderr


def test_unknown_grader_is_a_usage_error(handmade_batch: tuple[Path, dict[str, str]]) -> None:
    batch, _ = handmade_batch
    done = evswarm("grade", str(batch), "--grader", "gpt")
    assert done.returncode == 2 and "unknown grader 'gpt'" in done.stderr


def test_model_grader_without_key_is_a_usage_error(handmade_batch: tuple[Path, dict[str, str]]) -> None:
    batch, _ = handmade_batch
    environ = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    done = subprocess.run(
        [sys.executable, "-c", LAUNCH, "grade", str(batch), "--grader", "openai:gpt-4.1-mini"],
        env={**environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "needs OPENAI_API_KEY" in done.stderr


def test_promptfoo_not_installed_exits_2_with_the_install_hint(
    handmade_batch: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    batch, _ = handmade_batch
    done = evswarm("grade", str(batch), EVSWARM_PROMPTFOO=str(tmp_path / "promptfoo"))
    assert done.returncode == 2
    assert "promptfoo is not installed" in done.stderr and "npm install --omit=optional" in done.stderr


@pytest.mark.slow
@requires_promptfoo
def test_grading_prints_rates_and_strict_fails_on_error_rows(
    handmade_batch: tuple[Path, dict[str, str]],
) -> None:
    batch, _ = handmade_batch
    done = evswarm("grade", str(batch), "--no-progress")
    assert done.returncode == 0, done.stderr
    printed = " ".join(done.stdout.split())
    assert "all = all rubrics" in printed and "95% Wilson" in printed
    assert "2 run(s) could not be graded" in done.stdout
    assert BatchLayout(batch).labels.is_file()
    assert evswarm("grade", str(batch), "--no-progress", "--strict").returncode == 1
