"""`rerun_each` keeps a twin only when it was made from the same change, the same original bundle, model
and version sets: a changed intervention or a directory reused by another batch re-makes it (and drops
the directory's grades, which no longer stand)."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from evswarm.core.io import load_json
from evswarm.core.layout import BatchLayout
from evswarm.core.manifest import BatchManifest
from evswarm.simulator.rerun import rerun_each
from evswarm.world.intervention import Intervention
from tests.counterfactual.conftest import VerifyCase


def test_a_twin_is_kept_only_for_the_same_change_and_the_same_original(verify_case: VerifyCase, tmp_path: Path) -> None:
    batch, run_id = verify_case.batch, verify_case.input_run
    manifest = BatchManifest.model_validate(load_json(BatchLayout(batch).manifest))
    out = tmp_path / "twins"
    twin = BatchLayout(out).bundle_path(run_id)
    control, clarify = Intervention(kind="control"), Intervention(kind="input", target="input")

    assert rerun_each(batch, manifest, {run_id: control}, out, workers=1, progress=False) == {run_id: None}
    made = twin.stat().st_mtime_ns
    assert twin.read_bytes() == (batch / "bundles" / f"{run_id}.json").read_bytes()
    BatchLayout(out).labels.write_text("{}\n")  # stands in for the directory's grades
    rerun_each(batch, manifest, {run_id: control}, out, workers=1, progress=False)
    assert twin.stat().st_mtime_ns == made and BatchLayout(out).labels.is_file()  # same change: kept

    rerun_each(batch, manifest, {run_id: clarify}, out, workers=1, progress=False)
    assert twin.read_bytes() != (batch / "bundles" / f"{run_id}.json").read_bytes()  # re-made under the change
    assert not BatchLayout(out).labels.exists()
    record = orjson.loads((out / "counterfactual.json").read_bytes())["runs"][run_id]
    assert record["intervention"]["kind"] == "input" and len(record["original"]) == 64

    other = tmp_path / "other-batch"  # same run id, another original bundle
    shutil.copytree(batch, other, ignore=shutil.ignore_patterns("analysis*"))
    bundle = orjson.loads((other / "bundles" / f"{run_id}.json").read_bytes())
    bundle["run"]["config"]["notes"] = "changed by hand"
    (other / "bundles" / f"{run_id}.json").write_bytes(orjson.dumps(bundle))
    remade = twin.stat().st_mtime_ns
    rerun_each(other, manifest, {run_id: clarify}, out, workers=1, progress=False)
    assert twin.stat().st_mtime_ns != remade


def test_an_unreadable_record_counts_every_twin_as_stale(verify_case: VerifyCase, tmp_path: Path) -> None:
    batch, run_id = verify_case.batch, verify_case.input_run
    manifest = BatchManifest.model_validate(load_json(BatchLayout(batch).manifest))
    out = tmp_path / "twins"
    control = Intervention(kind="control")
    rerun_each(batch, manifest, {run_id: control}, out, workers=1, progress=False)
    twin = BatchLayout(out).bundle_path(run_id)
    made = twin.stat().st_mtime_ns
    for broken in (b"[]", b"{not json", b'{"intervention": {"kind": "control"}}'):
        (out / "counterfactual.json").write_bytes(broken)
        rerun_each(batch, manifest, {run_id: control}, out, workers=1, progress=False)
        assert twin.stat().st_mtime_ns != made
        made = twin.stat().st_mtime_ns


def test_a_twin_that_could_not_be_graded_never_counts_as_a_flip(verify_case: VerifyCase) -> None:
    from evswarm.core.labels import GradeStatus, read_labels
    from evswarm.counterfactual.runs import flipped

    rows = read_labels(BatchLayout(verify_case.batch).labels)
    failing = next(r for r in rows if r.symptoms() and r.promptfoo_failed_checks)
    clean = next(r for r in rows if not r.symptoms() and not r.is_error)
    assert flipped(failing, clean) and not flipped(failing, failing) and not flipped(clean, clean)
    assert not flipped(failing, None)
    crashed = clean.model_copy(update={"grade_status": GradeStatus.ERROR, "grade_error": "grader crashed"})
    assert not flipped(failing, crashed)
    partial = clean.model_copy(
        update={"grade_status": GradeStatus.PARTIAL, "promptfoo_error_checks": failing.promptfoo_failed_checks[:1]}
    )
    assert not flipped(failing, partial)
