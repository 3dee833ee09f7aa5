"""`evswarm analyze --previous OLD_OUT` on the command line: a chain of two analyses, and every bad OLD_OUT
answered with a clear message, exit code 2 and nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.macro.builders import make_batch

REPO = Path(__file__).resolve().parents[2]
FAST = ["--embedder", "static", "--reducer", "pca", "--stability-runs", "1", "--quiet"]


def _evswarm(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "EVSWARM_CACHE_DIR": str(tmp / "c"),
    }
    return subprocess.run(
        [sys.executable, "-m", "evswarm", *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A batch, its first analysis and a second analysis that continues the first."""
    tmp = tmp_path_factory.mktemp("cli-lineage")
    batch = make_batch(tmp / "batch", n=120)
    first = _evswarm(tmp, "analyze", str(batch), "--out", str(tmp / "first"), *FAST)
    assert first.returncode == 0, first.stderr
    second = _evswarm(tmp, "analyze", str(batch), "--out", str(tmp / "second"), "--previous", str(tmp / "first"), *FAST)
    assert second.returncode == 0, second.stderr
    patterns = len([p for p in orjson.loads((tmp / "second" / "patterns.json").read_bytes()) if p["pattern_id"] > 0])
    assert f"against {tmp / 'first'}: {patterns} continuing; 0 earlier pattern(s) gone" in second.stdout
    return batch, tmp / "first", tmp / "second"


def test_a_second_analysis_continues_the_first_and_records_the_chain(chain: tuple[Path, Path, Path]) -> None:
    _, first, second = chain
    lineage = orjson.loads((second / "lineage.json").read_bytes())
    assert [s["step"] for s in lineage["steps"]] == [1, 2]
    assert lineage["steps"][1]["previous"] == str(first)
    manifest = orjson.loads((second / "analysis.json").read_bytes())
    assert manifest["lineage_step"] == 2 and manifest["config"]["stability_runs"] == 1
    assert manifest["clustering_noise"] >= 0
    assert "clustering_noise" not in orjson.loads((first / "analysis.json").read_bytes())
    old = {p["pattern_id"]: p["label"] for p in orjson.loads((first / "patterns.json").read_bytes())}
    new = {p["pattern_id"]: p["label"] for p in orjson.loads((second / "patterns.json").read_bytes())}
    assert {k: v for k, v in new.items() if k > 0} == {k: v for k, v in old.items() if k > 0}
    # assignment first: every trace of a pattern is assigned to it again (traces the first clustering left as
    # noise may now fit a pattern's centre), and the step says how many were assigned
    before = {r["run_id"]: r["pattern_id"] for r in orjson.loads((first / "trace_patterns.json").read_bytes())}
    after = {r["run_id"]: r["pattern_id"] for r in orjson.loads((second / "trace_patterns.json").read_bytes())}
    assert all(after[run] == pid for run, pid in before.items() if pid > 0)
    step = lineage["steps"][1]
    assert step["assigned"] == sum(1 for pid in after.values() if pid > 0) and step["clustered"] == 0


@pytest.mark.parametrize("problem", ["missing", "older", "invalid", "other-format", "embedder", "stability"])
def test_a_bad_previous_exits_2_with_a_message_naming_the_file_and_writes_nothing(
    chain: tuple[Path, Path, Path], tmp_path: Path, problem: str
) -> None:
    batch, first, _ = chain
    old = tmp_path / "old"
    extra: list[str] = []
    if problem == "missing":
        expected = "is not an analysis directory"
    else:
        import shutil

        shutil.copytree(first, old)
        data = orjson.loads((old / "lineage.json").read_bytes())
        if problem == "older":
            (old / "lineage.json").unlink()
            expected = "made by an evswarm without pattern lineage"
        elif problem == "invalid":
            del data["patterns"][0]["history"]
            (old / "lineage.json").write_bytes(orjson.dumps(data))
            expected = "lineage.json: field `patterns.0.history`: Field required"
        elif problem == "other-format":
            data["format"] = "evswarm.lineage.v0"
            (old / "lineage.json").write_bytes(orjson.dumps(data))
            expected = "lineage.json: field `format`"
        elif problem == "embedder":
            extra = ["--embedder", "minilm"]
            expected = "field `embedder`: the earlier analysis used"
        else:
            extra = ["--stability-runs", "-1"]
            expected = "--stability-runs -1 is out of range"
    out = tmp_path / "out"
    args = ["analyze", str(batch), "--out", str(out), "--previous", str(old), *FAST, *extra]
    done = _evswarm(tmp_path, *args)
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, text
    assert expected in text and "Traceback" not in text
    assert not out.exists()
