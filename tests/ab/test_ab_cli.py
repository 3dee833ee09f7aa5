"""`evswarm ab` and `evswarm compare` end to end, as a user runs them: real simulation, real promptfoo
grading, the verdict files, and the exit codes CI gates on."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evswarm.cli import app
from evswarm.core.ab import read_ab_report
from evswarm.core.io import read_bundle
from evswarm.core.layout import BatchLayout
from evswarm.simulator import simulate

RUNS, SEED = 24, 5
VERSIONS = """\
format: evswarm.versions.v1
version_sets:
  veto-all:
    extends: v1.0-shadow
    description: the shadow orchestrator vetoes every release it sees, all year
    agents:
      ShadowOrchestrator: {faults: [rogue_shadow_veto]}
  market-words:
    extends: v1.0
    description: market intelligence gets new wording (and nothing else)
    agents:
      MarketIntelligenceAgent:
        instructions: {file: market.txt}
"""


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "300"}).invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("versions")
    (root / "market.txt").write_text("Read the competitor and demand feeds; report every active signal.\n")
    path = root / "versions.yaml"
    path.write_text(VERSIONS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def regressed(tmp_path_factory: pytest.TempPathFactory, versions: Path) -> tuple[int, str, Path]:
    out = tmp_path_factory.mktemp("ab") / "veto"
    code, output = invoke(
        "ab", "--base", "v1.0", "--candidate", "veto-all", "--runs", str(RUNS), "--seed", str(SEED),
        "--out", str(out), "--versions", str(versions), "--workers", "2", "--quiet",
    )  # fmt: skip
    return code, output, out


def arm(tmp_path: Path, version_set: str, versions: Path, *, seed: int = SEED) -> Path:
    out = tmp_path / version_set
    simulate(RUNS, seed, out, version_sets=[version_set], versions=versions, workers=2, progress=False)
    return out


@pytest.mark.slow
def test_a_faulty_candidate_fails_the_gate_with_exit_1_and_names_the_rubrics(regressed: tuple[int, str, Path]) -> None:
    code, output, out = regressed
    assert code == 1, output
    report = read_ab_report(out / "ab.json")
    assert report.mode == "paired" and report.pairs == RUNS
    assert report.verdict.outcome == "regressed"
    assert {"final_decision_quality", "routing_specialist_activation"} <= set(report.verdict.regressions)
    assert "ShadowOrchestrator: fault(s) switched on: rogue_shadow_veto" in report.changes
    decision = next(c for c in report.checks if c.name == "final_decision_quality")
    assert decision.worse_pairs > decision.better_pairs and decision.examples
    assert "## evswarm A/B: veto-all vs v1.0 — ❌ regressed" in output
    markdown = (out / "ab.md").read_text(encoding="utf-8")
    assert markdown.splitlines()[2].startswith("Regressed: veto-all is significantly worse than v1.0")
    assert f"`{decision.examples[0]}`" in markdown
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("failures", "0")) == len(report.verdict.regressions)
    failed = {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None}
    assert failed == set(report.verdict.regressions)


@pytest.mark.slow
def test_the_arms_are_ordinary_batches_that_ran_the_same_scenarios(regressed: tuple[int, str, Path]) -> None:
    _, _, out = regressed
    base, candidate = BatchLayout(out / "base"), BatchLayout(out / "candidate")
    for layout in (base, candidate):
        assert layout.manifest.is_file() and layout.versions.is_file() and layout.labels.is_file()
    pairs = list(zip(base.bundle_paths(), candidate.bundle_paths(), strict=True))
    assert len(pairs) == RUNS
    for base_path, candidate_path in pairs:
        b, c = read_bundle(base_path), read_bundle(candidate_path)
        assert b.run.run_id == c.run.run_id and b.run.config == c.run.config
        assert b.environment_events == c.environment_events
        old, new = b.run.summary.agent_versions or {}, c.run.summary.agent_versions or {}
        changed = sorted(agent for agent in old if old[agent] != new[agent])
        assert changed == ["Orchestrator", "ShadowOrchestrator"], "only the agents the candidate changes differ"
    code, output = invoke("replay", str(out / "candidate"), "--verify", "--limit", "3", "--quiet")
    assert code == 0 and "3 match" in output, output


@pytest.mark.slow
def test_compare_tolerates_a_regression_within_max_regression(regressed: tuple[int, str, Path], tmp_path: Path) -> None:
    _, _, out = regressed
    code, output = invoke("compare", str(out / "base"), str(out / "candidate"), "--max-regression", "90")
    assert code == 0 and "within tolerance" in output, output


@pytest.mark.slow
def test_a_candidate_that_changes_no_failing_agent_is_tied(
    regressed: tuple[int, str, Path], versions: Path, tmp_path: Path
) -> None:
    _, _, out = regressed
    # new instructions only: the offline policy decides the same, so nothing changes but the recorded version
    code, output = invoke(
        "compare", str(out / "base"), str(arm(tmp_path, "market-words", versions)), "--out", str(tmp_path / "mw")
    )
    report = read_ab_report(tmp_path / "mw" / "ab.json")
    assert code == 0 and report.verdict.outcome == "tied", output
    assert report.verdict.changed_behavior_runs == 0
    assert report.changes == ["MarketIntelligenceAgent: instructions changed (from market.txt, 66 characters)"]
    assert "Statistically tied" in report.verdict.headline and "80% of the time" in report.verdict.headline
    # a redundant confirmation: behavior changes in most runs, yet no rubric sees it, so the gate passes
    code, output = invoke(
        "compare", str(out / "base"), str(arm(tmp_path, "v1.6", versions)), "--out", str(tmp_path / "v16")
    )
    report = read_ab_report(tmp_path / "v16" / "ab.json")
    assert code == 0 and report.verdict.outcome == "tied", output
    assert all(not c.worse_pairs and not c.better_pairs for c in report.checks if c.gates)
    repeated = next(c for c in report.checks if c.name == "CustomerCommsAgent calls send_customer_message ×2")
    assert repeated.status == "changed" and repeated.presence == "appears" and not repeated.gates
    assert "Behavior changed in" in report.verdict.headline and "without any grade changing" in report.verdict.headline


@pytest.mark.slow
def test_the_baseline_against_another_seed_is_refused_paired_and_not_flagged_unpaired(
    regressed: tuple[int, str, Path], versions: Path, tmp_path: Path
) -> None:
    _, _, out = regressed
    other = arm(tmp_path, "v1.0", versions, seed=SEED + 1)
    code, output = invoke("compare", str(out / "base"), str(other))
    assert code == 2
    assert (
        f"{out / 'base' / 'batch.json'}: field `seed` is {SEED}, but {other / 'batch.json'}: field `seed` is {SEED + 1}"
        in output
    )
    assert not (other / "eval_labels.jsonl").exists(), "refused before grading anything"
    code, output = invoke("compare", str(out / "base"), str(other), "--unpaired", "--out", str(tmp_path / "u"))
    report = read_ab_report(tmp_path / "u" / "ab.json")
    assert code == 0 and report.mode == "unpaired" and report.verdict.outcome != "regressed", output
    assert json.loads((tmp_path / "u" / "ab.json").read_text())["pairs"] == 0


BAD_AB = [
    (["--candidate", "v9"], "unknown version set 'v9' (--candidate)"),
    (["--candidate", "v1.1", "--alpha", "1.5"], "--alpha must be between 0 and 1"),
    (["--candidate", "v1.1", "--max-regression", "-1"], "--max-regression is in percentage points"),
    (["--candidate", "v1.1", "--runs", "0"], "--runs must be at least 1"),
]


@pytest.mark.parametrize(("args", "message"), BAD_AB)
def test_bad_ab_input_exits_2_before_running_anything(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out"
    base = ["ab", "--base", "v1.0", "--runs", "5", "--out", str(out)]
    code, output = invoke(*base, *args)
    assert code == 2 and message in output, output
    assert not out.exists()
    (tmp_path / "file").write_text("")
    code, output = invoke("ab", "--base", "v1.0", "--candidate", "v1.1", "--runs", "5", "--out", str(tmp_path / "file"))
    assert code == 2 and "is a file, not a directory" in output


def test_compare_refuses_directories_that_are_not_batches(tmp_path: Path) -> None:
    code, output = invoke("compare", str(tmp_path / "a"), str(tmp_path / "b"))
    assert code == 2 and "has no bundles/ directory" in output


@pytest.mark.slow
def test_an_arm_whose_model_server_fails_gives_no_verdict_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    versions = tmp_path / "versions.yaml"
    versions.write_text(
        "format: evswarm.versions.v1\nversion_sets:\n  live-pricing:\n    extends: v1.0\n    agents:\n"
        f"      PricingAgent: {{model: 'openai:m', base_url: 'http://127.0.0.1:{port}/v1'}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")
    monkeypatch.setenv("EVSWARM_MODEL_RETRIES", "0")
    out = tmp_path / "ab"
    code, output = invoke(
        "ab", "--base", "v1.0", "--candidate", "live-pricing", "--runs", "3", "--seed", "7", "--out", str(out),
        "--versions", str(versions), "--workers", "1", "--quiet",
    )  # fmt: skip
    assert code == 1, output
    assert "the candidate arm (live-pricing) is incomplete, so there is no verdict" in output
    assert f"the model server at http://127.0.0.1:{port}/v1 cannot be reached" in output
    assert not (out / "ab.json").exists()
