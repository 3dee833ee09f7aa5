"""A small simulated, graded batch and a hand-made analysis whose patterns and suspects come from the
causal record, so the verify tests know which suspects must be confirmed and which rejected."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from evswarm.core.analysis import PatternRow, SuspectRow, TracePatternRow, write_table
from evswarm.core.causes import REPORT_VERIFIED_END, REPORT_VERIFIED_START
from evswarm.core.io import read_bundle
from evswarm.core.layout import BatchLayout

ROOT = Path(__file__).resolve().parents[2]
UNINVOLVED = "CustomerCommsAgent"


@dataclass(frozen=True)
class VerifyCase:
    batch: Path
    analysis: Path
    incentive_runs: list[str]
    """Runs whose only cause is stale_incentive (IncentivePolicyAgent's planted fault)."""
    stockout_runs: list[str]
    """Runs whose only cause is missed_stockout (SupplyAllocationAgent's planted fault)."""
    input_run: str
    """A run whose only cause is an ambiguous customer note."""


def _evswarm(*args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "evswarm", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr


def _only_cause(batch: Path) -> dict[str, list[str]]:
    """cause id -> runs in which it is the only cause (read from the causal record: ground truth)."""
    found: dict[str, list[str]] = {}
    for path in BatchLayout(batch).bundle_paths():
        bundle = read_bundle(path)
        if len(bundle.injected_faults) == 1:
            cause = bundle.injected_faults[0]
            key = "input" if cause.side == "input" else cause.cause_id
            found.setdefault(key, []).append(bundle.run.run_id)
    return found


def _pattern(pattern_id: int, label: str, members: list[str]) -> PatternRow:
    return PatternRow(
        pattern_id=pattern_id, label=label, label_basis="test", keywords=[], trace_count=len(members),
        prevalence=0.1, share_of_analyzed=0.1, severity=1.0, severity_weighted_prevalence=0.1, impact=0.1,
        dominant_case_type="standard", dominant_outcome="completed",
    )  # fmt: skip


def _member(run_id: str, pattern_id: int, label: str) -> TracePatternRow:
    return TracePatternRow(
        run_id=run_id, pattern_id=pattern_id, pattern=label, probability=1.0, case_type="standard",
        run_outcome="completed", agent_version_set="v1.1", anchor_event_id=None, anchor_reason=None, map_x=0.0,
        map_y=0.0,
    )  # fmt: skip


def _suspect(pattern_id: int, label: str, rank: int, component: str, side: str) -> SuspectRow:
    return SuspectRow(
        pattern_id=pattern_id, pattern=label, rank=rank, component=component, side=side, traces=1, share=1.0,
        mean_score=1.0, example_step="",
    )  # fmt: skip


@pytest.fixture(scope="session")
def verify_case(tmp_path_factory: pytest.TempPathFactory) -> VerifyCase:
    """17 runs of v1.1 and v1.4 (seed 5), graded by the real promptfoo, and an analysis with two patterns:
    P1 mixes two planted causes (suspects: both owners, then an agent that had nothing to do with it),
    P2 is a run whose customer note is ambiguous (suspect: the input)."""
    batch = tmp_path_factory.mktemp("verify") / "batch"
    _evswarm("simulate", "--runs", "17", "--seed", "5", "--out", str(batch), "--version-set", "v1.1",
             "--version-set", "v1.4", "--quiet")  # fmt: skip
    _evswarm("grade", str(batch), "--no-progress")
    only = _only_cause(batch)
    incentive, stockout = only.get("stale_incentive", [])[:2], only.get("missed_stockout", [])[:2]
    inputs = only.get("input", [])
    assert len(incentive) == 2 and len(stockout) == 2 and inputs, f"the batch no longer has the runs needed: {only}"
    analysis = batch / "analysis"
    analysis.mkdir()
    mixed, ambiguous = "mixed pricing and stock", "ambiguous order"
    write_table(analysis, PatternRow, [_pattern(1, mixed, incentive + stockout), _pattern(2, ambiguous, inputs[:1])])
    write_table(
        analysis,
        TracePatternRow,
        [_member(r, 1, mixed) for r in incentive + stockout] + [_member(inputs[0], 2, ambiguous)],
    )
    write_table(
        analysis,
        SuspectRow,
        [
            _suspect(1, mixed, 1, "IncentivePolicyAgent", "agent"),
            _suspect(1, mixed, 2, "SupplyAllocationAgent", "agent"),
            _suspect(1, mixed, 3, UNINVOLVED, "agent"),
            _suspect(2, ambiguous, 1, "order_input", "input"),
        ],
    )
    report = f"<html><body><h1>report</h1>{REPORT_VERIFIED_START}<p>Not verified yet.</p>{REPORT_VERIFIED_END}</body>"
    (analysis / "report.html").write_text(report, encoding="utf-8")
    return VerifyCase(batch, analysis, sorted(incentive), sorted(stockout), inputs[0])
