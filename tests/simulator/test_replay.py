"""`evswarm replay`: saved runs re-execute to identical traces, and any tampering is caught and located."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evswarm.cli import app
from evswarm.core.layout import BatchLayout
from evswarm.simulator import simulate
from evswarm.simulator.replay import replay


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("recorded")
    simulate(6, 23, out, workers=2, progress=False)
    return out


def _copy(recorded: Path, tmp_path: Path) -> BatchLayout:
    shutil.copytree(recorded, tmp_path / "batch")
    return BatchLayout(tmp_path / "batch")


def _edit_first_bundle(layout: BatchLayout, edit) -> str:  # type: ignore[no-untyped-def]
    path = next(layout.bundle_paths())
    data = json.loads(path.read_bytes())
    edit(data)
    path.write_text(json.dumps(data))
    return str(data["run"]["run_id"])


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["replay", *args, "--quiet"])
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.slow
def test_a_fresh_batch_replays_to_identical_traces_with_no_network(recorded: Path, no_network: list[object]) -> None:
    report = replay(recorded, verify=True, progress=False)
    assert [r.outcome for r in report.runs] == ["match"] * 6, [r.detail for r in report.runs]
    assert no_network == []


@pytest.mark.slow
def test_an_altered_recorded_output_fails_verify_naming_the_step(recorded: Path, tmp_path: Path) -> None:
    layout = _copy(recorded, tmp_path)

    def alter(data: dict) -> None:  # type: ignore[type-arg]
        for call in data["model_calls"]:
            for item in call["output"]:
                if item.get("type") == "function_call" and item["name"] == "check_buildability":
                    args = json.loads(item["arguments"])
                    args["wheels"] = "22in_offroad"
                    item["arguments"] = json.dumps(args, sort_keys=True)
                    return

    run_id = _edit_first_bundle(layout, alter)
    code, output = _invoke(str(layout.root), "--verify")
    assert code == 1
    assert f"mismatch {run_id}" in output
    assert "function check_buildability by BuildabilityValidationAgent" in output and "22in_offroad" in output
    assert "5 match" in output


@pytest.mark.slow
def test_bundles_that_cannot_be_replayed_are_named_with_exit_2(recorded: Path, tmp_path: Path) -> None:
    layout = _copy(recorded, tmp_path)
    no_calls = _edit_first_bundle(layout, lambda data: data.update(model_calls=[]))
    paths = list(layout.bundle_paths())
    other = json.loads(paths[1].read_bytes())
    other["format"] = "aster.bundle.v0"
    paths[1].write_text(json.dumps(other))
    moved = json.loads(paths[2].read_bytes())
    moved["environment_events"][0]["effective_from"] = "1999-01-01"
    paths[2].write_text(json.dumps(moved))
    code, output = _invoke(str(layout.root), "--verify")
    assert code == 2
    assert f"error {no_calls}: the bundle has no recorded model calls" in output
    assert "format is 'aster.bundle.v0', expected 'evswarm.bundle.v1'" in output
    changed = "the world changed since recording: environment_events[0].effective_from"
    assert f"error {moved['run']['run_id']}: {changed}" in output


def test_replay_without_a_batch_manifest_explains_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "bundles").mkdir()
    code, output = _invoke(str(tmp_path))
    assert code == 2 and "batch.json is missing" in output


def test_a_replay_difference_shows_the_text_around_it_not_a_shared_prefix() -> None:
    from evswarm.core.compare import first_difference

    prefix = "x" * 300
    found = first_difference({"out": prefix + "AAA" + "y" * 300}, {"out": prefix + "BBB" + "y" * 300})
    assert found is not None and "AAA" in found and "BBB" in found
    assert found.count("x") < 150  # a window around the difference, not the whole shared prefix


@pytest.mark.slow
def test_a_batch_whose_bundles_are_zipped_replays_in_place(recorded: Path, tmp_path: Path) -> None:
    import zipfile

    layout = _copy(recorded, tmp_path)
    with zipfile.ZipFile(layout.root / "bundles.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for path in layout.bundle_paths():
            archive.write(path, path.name)
    shutil.rmtree(layout.bundles_dir)  # like the shipped data/: bundles.zip only
    code, out = _invoke(str(layout.root), "--verify", "--limit", "3")
    assert code == 0 and "3 run(s) replayed: 3 match" in out, out
    (layout.root / "bundles.zip").write_bytes(b"PK\x03\x04 not a zip")
    code, out = _invoke(str(layout.root))
    assert code == 2 and "not a readable zip archive" in out
