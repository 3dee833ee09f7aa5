from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from evswarm.core.errors import EvswarmError
from evswarm.core.io import dumps
from evswarm.macro import analyze
from tests.macro.builders import make_bundle
from tests.macro.conftest import fast_config


def _write(root: Path, bundles: list[dict]) -> Path:
    (root / "bundles").mkdir(parents=True)
    for b in bundles:
        (root / "bundles" / f"{b['run']['run_id']}.json").write_bytes(dumps(b))
    return root


def test_corrupt_and_invalid_bundles_are_skipped_and_listed(batch_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "batch"
    shutil.copytree(batch_dir, root)
    (root / "bundles" / "run_corrupt.json").write_text("{not json")
    bad = json.loads(next((root / "bundles").glob("run_0*.json")).read_text())
    del bad["run"]["summary"]["scenario_family"]
    bad["run"]["run_id"] = "run_missing_field"
    (root / "bundles" / "run_missing_field.json").write_text(json.dumps(bad))
    result = analyze(root, tmp_path / "out", config=fast_config(tmp_path))
    reasons = {Path(s.source).name: s.reason for s in result.skipped}
    assert "not valid JSON" in reasons["run_corrupt.json"]
    assert "scenario_family" in reasons["run_missing_field.json"]
    assert len(result.traces) == 120
    html = result.report_path.read_text()
    assert "run_corrupt.json" in html and "Skipped bundles (2)" in html


def test_all_bundles_corrupt_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "b" / "bundles").mkdir(parents=True)
    (tmp_path / "b" / "bundles" / "run_x.json").write_text("[]")
    with pytest.raises(EvswarmError, match="no readable bundles"):
        analyze(tmp_path / "b", tmp_path / "out", config=fast_config(tmp_path))
    assert not (tmp_path / "out" / "report.html").exists()


def test_no_failing_traces_analyzes_all_and_says_so(tmp_path: Path) -> None:
    rng = random.Random(1)
    bundles = [make_bundle(i, "clean_simple", "v1", None, rng) for i in range(30)]
    result = analyze(_write(tmp_path / "b", bundles), tmp_path / "out", config=fast_config(tmp_path))
    assert result.population.scope == "all" and len(result.assignments) == 30
    assert "None of the 30 traces is failing" in result.report_path.read_text()


def test_too_few_traces_for_clusters(tmp_path: Path) -> None:
    rng = random.Random(2)
    bundles = [make_bundle(i, "validation_block_simple", "v1", None, rng) for i in range(3)]
    result = analyze(_write(tmp_path / "b", bundles), tmp_path / "out", config=fast_config(tmp_path))
    assert (result.patterns.pattern_id > 0).sum() == 1
    assert any("fewer than two clusters" in n for n in result.notes)
    assert result.report_path.is_file()


def test_labels_for_unknown_runs_are_reported(batch_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "batch"
    shutil.copytree(batch_dir, root)
    (root / "eval_labels.jsonl").write_text(json.dumps({"run_id": "run_elsewhere", "promptfoo_pass": False}) + "\n")
    result = analyze(root, tmp_path / "out", config=fast_config(tmp_path))
    assert any("1 label row(s) name runs that are not in this batch" in n for n in result.notes)


def test_the_terminal_says_what_analyze_skipped(
    batch_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from evswarm.cli import app

    monkeypatch.setenv("EVSWARM_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "batch"
    shutil.copytree(batch_dir, root)
    (root / "bundles" / "run_corrupt.json").write_text("{not json")
    (root / "eval_labels.jsonl").write_text('{"run_id": "run_x", "promptfoo_pass": "maybe"}\n')
    args = ["analyze", str(root), "--out", str(tmp_path / "out"), "--embedder", "tfidf", "--reducer", "pca", "-q"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "1 bundle(s) could not be read and were skipped" in text and "run_corrupt.json" in text
    assert "1 label row(s) could not be read" in text and "line 1" in text
