"""The tables do not depend on how the bundles were read: workers, chunk size, zipped or not."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import orjson
import pandas as pd

from evswarm.compute import Backend
from evswarm.macro.load import locate
from evswarm.macro.tables import Normalized, load_tables


def _load(root: Path, **kw: object) -> tuple[Normalized, list]:
    skipped: list = []
    return load_tables(locate(root), skipped, **kw), skipped  # type: ignore[arg-type]


def _same(a: Normalized, b: Normalized) -> None:
    pd.testing.assert_frame_equal(a.traces.drop(columns="source"), b.traces.drop(columns="source"))
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.aliases, b.aliases)


def test_workers_and_chunks_give_the_same_tables(batch_dir: Path) -> None:
    serial, _ = _load(batch_dir, backend=Backend(workers=1), chunk_size=1000)
    assert len(serial.traces) == 120 and len(serial.events) > 120 * 10
    pooled, _ = _load(batch_dir, backend=Backend(workers=2), chunk_size=7)
    _same(serial, pooled)


def test_zipped_batch_reads_in_place_with_progress(batch_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "zipped"
    shutil.copytree(batch_dir, root, ignore=shutil.ignore_patterns("bundles"))
    with zipfile.ZipFile(root / "bundles.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((batch_dir / "bundles").glob("run_*.json")):
            archive.write(path, f"bundles/{path.name}")
    seen: list[int] = []
    zipped, skipped = _load(root, backend=Backend(workers=2), chunk_size=16, on_bundles=seen.append)
    assert not skipped and sum(seen) == 120 and len(seen) == 8
    assert zipped.traces.source.str.contains("bundles.zip!bundles/run_").all()
    plain, _ = _load(batch_dir, backend=Backend(workers=1))
    _same(plain, zipped)


def test_bad_and_duplicate_bundles_are_skipped_not_fatal(batch_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    shutil.copytree(batch_dir, root)
    paths = sorted((root / "bundles").glob("run_*.json"))
    paths[3].write_text("{not json")
    shutil.copy(paths[10], root / "bundles" / "run_zzzz_copy.json")  # the same run id again, read last
    tables, skipped = _load(root, backend=Backend(workers=2), chunk_size=5)
    assert [Path(s.source).name for s in skipped] == [paths[3].name]
    assert "not valid JSON" in skipped[0].reason
    assert len(tables.traces) == 119 and tables.traces.run_id.is_unique
    run_id = tables.traces.run_id[tables.traces.source == str(paths[10])].item()
    assert tables.events.groupby("run_id").seq.apply(lambda s: list(s) == list(range(len(s)))).all()
    assert (tables.events.run_id == run_id).sum() == tables.traces.set_index("run_id").event_count[run_id]


def test_render_cache_gives_the_same_tables_and_notices_changes(batch_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "cached"
    shutil.copytree(batch_dir, root)
    cache = tmp_path / "rendered.sqlite"
    plain, _ = _load(root, backend=Backend(workers=1))
    cold, _ = _load(root, backend=Backend(workers=2), chunk_size=9, cache=cache)
    warm, _ = _load(root, backend=Backend(workers=1), cache=cache)
    _same(plain, cold)
    _same(plain, warm)
    # a bundle edited in place is rendered again, not served stale
    path = sorted((root / "bundles").glob("run_*.json"))[0]
    bundle = orjson.loads(path.read_bytes())
    bundle["spans"] = bundle["spans"][:3]
    path.write_bytes(orjson.dumps(bundle))
    edited, _ = _load(root, backend=Backend(workers=1), cache=cache)
    run_id = bundle["run"]["run_id"]
    assert edited.traces.set_index("run_id").span_count[run_id] == 3
    assert (edited.events.run_id == run_id).sum() < (plain.events.run_id == run_id).sum()


def test_ray_backend_gives_the_same_tables(batch_dir: Path, ray_backend: Backend, tmp_path: Path) -> None:
    local, _ = _load(batch_dir, backend=Backend(workers=1))
    seen: list[int] = []
    on_ray, skipped = _load(batch_dir, backend=ray_backend, chunk_size=13, on_bundles=seen.append)
    assert not skipped and sum(seen) == 120
    _same(local, on_ray)


def test_an_unusable_render_cache_costs_speed_not_the_analysis(batch_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "rendered.sqlite"
    broken.write_bytes(b"this is not a database" * 100)
    plain, _ = _load(batch_dir, backend=Backend(workers=1))
    tables, skipped = _load(batch_dir, backend=Backend(workers=2), chunk_size=4, cache=broken)
    assert not skipped
    _same(plain, tables)
