"""Real promptfoo runs (the pinned CLI from node_modules) over small batches."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from evswarm.core.io import read_bundle
from evswarm.core.labels import read_labels
from evswarm.core.layout import BatchLayout
from evswarm.evals.pipeline import grade
from evswarm.evals.promptfoo import PromptfooError
from evswarm.evals.rubrics import EV_RUBRICS, RUBRICS, grade_bundle
from tests.evals.builders import clean_bundle, requires_promptfoo, write_bundle

pytestmark = [pytest.mark.slow, requires_promptfoo]
STUB = Path(__file__).with_name("stub_grader.py")


def quiet() -> Console:
    return Console(file=io.StringIO(), width=160)


def test_grading_a_handmade_batch_writes_labels_and_promptfoo_json(
    handmade_batch: tuple[Path, dict[str, str]],
) -> None:
    batch, expected = handmade_batch
    console = quiet()
    result = grade(batch, console=console, progress=False)

    rows = {row.run_id: row for row in read_labels(BatchLayout(batch).labels)}
    assert list(rows) == sorted(expected)
    for run_id, want in expected.items():
        row = rows[run_id]
        if want == "error":
            assert row.grade_status == "error" and row.promptfoo_pass is None and row.grade_error
        elif want == "pass":
            assert row.promptfoo_pass is True and row.promptfoo_failed_checks == []
        else:
            assert row.promptfoo_failed_checks == [want] and row.promptfoo_primary_finding == want
    assert "format is 'cookbook.bundle'" in (rows["run_" + "f" * 32].grade_error or "")

    output = json.loads(BatchLayout(batch).promptfoo_results.read_text())
    assert output["results"]["stats"]["errors"] == 2 and len(output["results"]["results"]) == 6
    assert result.labels_path == BatchLayout(batch).labels
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert "v1.0" in printed and "v1.2" in printed and "2 run(s) could not be graded" in printed


def test_labels_agree_with_direct_grading_and_are_deterministic(
    handmade_batch: tuple[Path, dict[str, str]],
) -> None:
    batch, _ = handmade_batch
    grade(batch, console=quiet(), progress=False)
    first = BatchLayout(batch).labels.read_bytes()
    for row in read_labels(BatchLayout(batch).labels):
        if row.grade_status == "error":
            continue
        direct = grade_bundle(read_bundle(BatchLayout(batch).bundle_path(row.run_id)))
        assert row.promptfoo_check_scores == {name: direct[name].score for name in EV_RUBRICS}
        assert row.promptfoo_rationales == {name: direct[name].reason for name in EV_RUBRICS}
    grade(batch, console=quiet(), progress=False)
    assert BatchLayout(batch).labels.read_bytes() == first


def test_simulated_batch_is_graded_like_direct_grading(simulated_batch: Path) -> None:
    layout = BatchLayout(simulated_batch)
    grade(simulated_batch, console=quiet(), progress=False)
    rows = read_labels(layout.labels)
    assert [row.run_id for row in rows] == [path.stem for path in layout.bundle_paths()]
    for row in rows:
        assert row.grade_status == "graded", row.grade_error
        bundle = read_bundle(layout.bundle_path(row.run_id))
        direct = grade_bundle(bundle)
        assert row.promptfoo_failed_checks == [n for n in EV_RUBRICS if not direct[n].passed]
        assert row.case_type == bundle.run.summary.scenario_family
        assert row.agent_version_set == bundle.run.summary.agent_version_set


def test_local_model_grader_adds_llm_rubric_verdicts(handmade_batch: tuple[Path, dict[str, str]]) -> None:
    batch, _ = handmade_batch
    grade(batch, grader=f"file://{STUB}", console=quiet(), progress=False)
    rows = {row.run_id: row for row in read_labels(BatchLayout(batch).labels)}
    clean = rows["run_" + "a" * 32]
    assert clean.promptfoo_llm_failed_checks == [] and clean.promptfoo_llm_error is None
    assert set(clean.promptfoo_llm_check_scores or {}) == set(RUBRICS)
    for name in RUBRICS:  # the judge saw the rubric and the run account, not the deterministic grades
        assert (clean.promptfoo_llm_rationales or {})[name].startswith(f"stub judge on {name}: Run run_aaaa")
    undecided = rows["run_" + "d" * 32]
    assert undecided.promptfoo_llm_failed_checks == list(RUBRICS)
    assert undecided.promptfoo_failed_checks == ["final_decision_quality"]  # deterministic verdicts intact
    assert rows["run_" + "e" * 32].grade_status == "error"
    assert "promptfoo_llm_check_scores" in BatchLayout(batch).labels.read_text()


def test_missing_promptfoo_is_a_clear_error(
    handmade_batch: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch, _ = handmade_batch
    monkeypatch.setenv("EVSWARM_PROMPTFOO", str(tmp_path / "node_modules" / ".bin" / "promptfoo"))
    with pytest.raises(PromptfooError, match="promptfoo is not installed") as info:
        grade(batch, console=quiet(), progress=False)
    assert "npm install --omit=optional --no-package-lock" in str(info.value)
    assert not BatchLayout(batch).labels.exists()


def test_promptfoo_failing_is_a_clear_error_and_keeps_old_labels(
    handmade_batch: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch, _ = handmade_batch
    BatchLayout(batch).labels.write_text("previous labels\n")
    config = tmp_path / "promptfooconfig.yaml"
    asserts = "".join(f"    - {{type: javascript, metric: {n}, value: 'true'}}\n" for n in RUBRICS)
    config.write_text(f"prompts: 42\nproviders: [{{id: 'file://x.py'}}]\ndefaultTest:\n  assert:\n{asserts}")
    monkeypatch.setenv("EVSWARM_PROMPTFOO_CONFIG", str(config))
    with pytest.raises(PromptfooError, match=r"exited with code 1: Error: Invalid input prompt") as info:
        grade(batch, console=quiet(), progress=False)
    log = Path(str(info.value).split("full log: ")[1].strip())
    assert log.is_file()
    shutil.rmtree(log.parent)  # the scratch dir is kept on error for the user; tidy up after the test
    assert BatchLayout(batch).labels.read_text() == "previous labels\n"


def test_run_listed_in_results_but_missing_its_bundle_gets_an_error_row(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    present = clean_bundle("1" * 32, version="v1.1")
    write_bundle(batch, present)
    rows = [
        {"run_id": "run_" + "1" * 32, "bundle_path": "bundles/run_" + "1" * 32 + ".json"},
        {"run_id": "run_" + "2" * 32, "bundle_path": "bundles/run_" + "2" * 32 + ".json",
         "scenario_family": "clean_simple", "agent_version_set": "v1.3"},
        {"run_id": "run_" + "3" * 32, "bundle_path": None, "status": "runner_error"},
    ]  # fmt: skip
    (batch / "results.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    grade(batch, console=quiet(), progress=False)
    labels = {row.run_id: row for row in read_labels(BatchLayout(batch).labels)}
    assert sorted(labels) == ["run_" + "1" * 32, "run_" + "2" * 32]  # a runner error has no bundle to grade
    missing = labels["run_" + "2" * 32]
    assert missing.grade_status == "error" and "No such file" in (missing.grade_error or "")
    assert (missing.case_type, missing.agent_version_set) == ("clean_simple", "v1.3")
    assert labels["run_" + "1" * 32].promptfoo_pass is True
