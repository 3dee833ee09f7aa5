"""The shipped batch in data/: regenerates byte for byte, fits its budget, and drives `evswarm demo`."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evswarm.cli import app
from evswarm.core.layout import BatchLayout
from evswarm.macro.demo import default_data_dir, run_demo
from evswarm.simulator import simulate

DATA = default_data_dir()
FIGURES = (
    "fig-impact-leaderboard",
    "fig-trace-map",
    "fig-heatmap",
    "fig-sankey-findings",
    "fig-sankey-patterns",
    "fig-version-comparison",
)


def test_shipped_batch_is_complete_and_within_30_mb() -> None:
    for name in ("batch.json", "results.jsonl", "run_summary.json", "eval_labels.jsonl", "bundles.zip"):
        assert (DATA / name).is_file(), name
    assert (DATA / "cache" / "embeddings.sqlite").is_file()
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total <= 30 * 1024 * 1024
    with zipfile.ZipFile(DATA / "bundles.zip") as archive:
        assert len(archive.namelist()) == json.loads((DATA / "run_summary.json").read_text())["bundle_count"] == 1000


@pytest.mark.slow
def test_first_20_runs_regenerate_byte_for_byte(tmp_path: Path) -> None:
    manifest = json.loads((DATA / "batch.json").read_text())
    simulate(20, manifest["seed"], tmp_path, version_sets=manifest["version_sets"], workers=2, progress=False)
    regenerated = list(BatchLayout(tmp_path).bundle_paths())
    assert len(regenerated) == 20
    with zipfile.ZipFile(DATA / "bundles.zip") as archive:
        for path in regenerated:
            assert archive.read(path.name) == path.read_bytes(), path.name


@pytest.mark.slow
def test_demo_writes_a_report_with_every_section_from_the_shipped_batch(tmp_path: Path) -> None:
    summary = run_demo(tmp_path / "demo", progress=False)
    html = summary.report_path.read_text(encoding="utf-8")
    for figure in FIGURES:
        assert f'data-figure="{figure}"' in html, figure
    for section in ('id="summary"', 'id="table-lift"', 'id="table-version-compare"', "Root-cause diagnosis"):
        assert section in html, section
    numbered = [line for line in summary.lines if line[:2] in {f"{n}." for n in range(1, 6)}]
    assert len(numbered) == 5 and all("impact" in line for line in numbered)
    assert summary.lines[-1].startswith("Versions:")


def test_demo_without_the_shipped_batch_says_how_to_get_it_back(tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "300"})
    result = runner.invoke(app, ["demo", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "the shipped batch is missing" in result.output and "make data" in result.output
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("batch.json", "results.jsonl", "run_summary.json", "eval_labels.jsonl"):
        shutil.copyfile(DATA / name, broken / name)
    (broken / "bundles.zip").write_bytes(b"PK\x03\x04 not really a zip")
    result = runner.invoke(app, ["demo", "--data", str(broken), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not a readable zip archive" in " ".join(result.output.split())
