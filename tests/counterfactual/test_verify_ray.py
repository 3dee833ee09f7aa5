"""`evswarm verify --backend ray` on a real local Ray gives the local pool's causes table, run table, run
causes (the per-run search included: one suspect per pattern leaves the stock-out runs to it) and re-run
bundles."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evswarm.cli import app
from evswarm.compute import Backend
from evswarm.core.analysis import read_table
from evswarm.core.causes import CauseRow, CounterfactualRunRow, RunCauseRow
from tests.counterfactual.conftest import VerifyCase

_WRITTEN_BY_VERIFY = ("counterfactual", "causes.*", "counterfactual_runs.*", "run_causes.*")


def _verify(case: VerifyCase, analysis: Path, *backend: str) -> None:
    shutil.copytree(case.analysis, analysis, ignore=shutil.ignore_patterns(*_WRITTEN_BY_VERIFY))
    args = ["verify", str(case.batch), "--analysis", str(analysis), "--patterns", "2", "--suspects", "1",
            "--workers", "2", "--quiet", *backend]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_verify_on_ray_gives_the_same_causes_and_reruns_as_the_local_pool(
    ray_backend: Backend, verify_case: VerifyCase, tmp_path: Path
) -> None:
    local, ray = tmp_path / "local", tmp_path / "ray"
    _verify(verify_case, local)
    _verify(verify_case, ray, "--backend", "ray")
    causes = read_table(ray, CauseRow)
    assert {c.intervention for c in causes} >= {"control", "agent-IncentivePolicyAgent", "input-input"}
    assert causes == read_table(local, CauseRow)
    assert read_table(ray, CounterfactualRunRow) == read_table(local, CounterfactualRunRow)
    searched = read_table(ray, RunCauseRow)
    assert {r.run_id for r in searched if r.found_by == "search"} == set(verify_case.stockout_runs)
    assert searched == read_table(local, RunCauseRow)
    twins = sorted(p.relative_to(local) for p in (local / "counterfactual").glob("*/bundles/*.json"))
    assert twins and twins == sorted(p.relative_to(ray) for p in (ray / "counterfactual").glob("*/bundles/*.json"))
    for twin in twins:
        assert (ray / twin).read_bytes() == (local / twin).read_bytes(), twin
