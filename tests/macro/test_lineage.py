"""`analyze --previous`: pattern lineage over real analyses of small batches, and the stability figures.

The batches are the hand-made ones of `builders` (shared with the other macro tests); the embedder is the
static one (a real model, comparable across batches, fast); the reducer PCA (deterministic, no JIT)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import orjson
import pytest

from evswarm.core.analysis import PatternRow, TracePatternRow, read_table
from evswarm.core.errors import EvswarmError
from evswarm.core.lineage import read_lineage
from evswarm.macro import AnalysisResult, AnalyzeConfig, analyze


def lineage_config(tmp: Path, **kw: object) -> AnalyzeConfig:
    settings: dict[str, object] = {"embedder": "static", "reducer": "pca", "stability_runs": 2, **kw}
    return AnalyzeConfig(cache_root=tmp / "cache", progress=False, **settings)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def first(batch_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    tmp = tmp_path_factory.mktemp("lineage-first")
    return analyze(batch_dir, tmp / "out", config=lineage_config(tmp))


def _patterns(out: Path) -> dict[int, PatternRow]:
    return {p.pattern_id: p for p in read_table(out, PatternRow) if p.pattern_id > 0}


def _members(out: Path) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for row in read_table(out, TracePatternRow):
        found.setdefault(row.pattern_id, set()).add(row.run_id)
    return found


def _most_distinct(out: Path) -> int:
    """The pattern whose centre is farthest from every other pattern's (its traces cannot pass for another's)."""
    chain = read_lineage(out)
    c = np.asarray([p.centroid for p in chain.patterns])
    d = 1 - c @ c.T
    np.fill_diagonal(d, np.inf)
    return chain.patterns[int(np.argmax(d.min(axis=1)))].pattern_id


def _without(batch: Path, runs: set[str], target: Path) -> Path:
    """A copy of `batch` without the bundles (and run rows) of `runs`."""
    shutil.copytree(batch, target, ignore=lambda _d, names: [n for n in names if Path(n).stem in runs])
    rows = [orjson.loads(line) for line in (batch / "results.jsonl").read_bytes().splitlines() if line.strip()]
    kept = b"".join(orjson.dumps(r) + b"\n" for r in rows if r["run_id"] not in runs)
    (target / "results.jsonl").write_bytes(kept)
    return target


def test_the_first_analysis_starts_a_chain_with_rank_ids_and_is_byte_identical_when_repeated(
    first: AnalysisResult, batch_dir: Path, tmp_path: Path
) -> None:
    out = first.out_dir
    patterns = _patterns(out)
    assert patterns and all(p.pattern_id == p.rank and p.status == "new" for p in patterns.values())
    chain = read_lineage(out)
    assert chain.step == 1 and chain.embedder == first.embedding_method
    assert sorted(p.pattern_id for p in chain.patterns) == sorted(patterns)
    again = analyze(batch_dir, tmp_path / "again", config=lineage_config(tmp_path))
    for name in ("patterns.json", "trace_patterns.json", "lineage.json", "lift.json", "suspects.json"):
        assert (out / name).read_bytes() == (again.out_dir / name).read_bytes(), name


def test_reanalyzing_the_same_batch_continues_every_pattern_under_its_id_and_name(
    first: AnalysisResult, batch_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "second"
    analyze(batch_dir, out, config=lineage_config(tmp_path, previous=first.out_dir))
    before, after = _patterns(first.out_dir), _patterns(out)
    assert {pid: p.label for pid, p in after.items()} == {pid: p.label for pid, p in before.items()}
    assert all(p.status == "continuing" for p in after.values())
    assert all(p.prevalence_then == pytest.approx(before[pid].prevalence) for pid, p in after.items())
    chain = read_lineage(out)
    assert chain.step == 2 and chain.steps[1].previous == str(first.out_dir)
    assert all([s.status for s in p.history] == ["new", "continuing"] for p in chain.patterns)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="table-lineage"' in report or "id='table-lineage'" in report
    assert "continuing" in report and "fig-lineage" in report
    assert f"Against the previous analysis ({first.out_dir}): {len(after)} continuing." in report
    assert f"{len(after)} patterns carried over by assignment</strong>" in report
    assert "the clustering of all traces alone left" in report


def test_a_pattern_whose_traces_are_absent_is_gone_and_comes_back_as_new_under_a_fresh_id(
    first: AnalysisResult, batch_dir: Path, tmp_path: Path
) -> None:
    members = _members(first.out_dir)
    top = _most_distinct(first.out_dir)
    removed = _without(batch_dir, members[top], tmp_path / "without")

    out = tmp_path / "gone"
    analyze(removed, out, config=lineage_config(tmp_path, previous=first.out_dir))
    chain = read_lineage(out)
    assert chain.by_id()[top].latest.status == "gone"
    assert top not in _patterns(out)
    assert "id='gone-p" in (out / "report.html").read_text(encoding="utf-8")

    # the other way round: a chain that starts without those traces meets them as a new pattern
    start = tmp_path / "start"
    analyze(removed, start, config=lineage_config(tmp_path))
    old_ids = {p.pattern_id for p in read_lineage(start).patterns}
    later = tmp_path / "later"
    analyze(batch_dir, later, config=lineage_config(tmp_path, previous=start))
    holder = max(_members(later).items(), key=lambda kv: len(kv[1] & members[top]))[0]
    row = _patterns(later)[holder]
    assert row.status == "new" and holder not in old_ids and holder >= read_lineage(start).next_id
    report = (later / "report.html").read_text(encoding="utf-8")
    assert f"id='lineage-p{holder}'" in report and f"id='gone-p{holder}'" not in report


def test_stability_is_measured_deterministically_and_costs_a_visible_stage(first: AnalysisResult) -> None:
    manifest = orjson.loads((first.out_dir / "analysis.json").read_bytes())
    assert len(manifest["stability_ari"]) == 2 and all(-1 <= a <= 1 for a in manifest["stability_ari"])
    assert "stability" in manifest["timings_seconds"]
    values = [p.stability for p in _patterns(first.out_dir).values()]
    assert values and all(v is not None and 0 <= v <= 1 for v in values)
    report = (first.out_dir / "report.html").read_text(encoding="utf-8")
    assert "id='stability'" in report and "Adjusted Rand index" in report


def test_stability_off_leaves_no_figures(batch_dir: Path, tmp_path: Path) -> None:
    result = analyze(batch_dir, tmp_path / "out", config=lineage_config(tmp_path, stability_runs=0))
    assert "stability" not in result.timings and result.stability is None
    assert all(p.stability is None for p in _patterns(result.out_dir).values())


def test_a_bad_previous_fails_before_any_work_and_names_the_file_and_field(
    first: AnalysisResult, batch_dir: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old"
    shutil.copytree(first.out_dir, old)
    data = orjson.loads((old / "lineage.json").read_bytes())
    data["patterns"][0]["radius"] = -1
    (old / "lineage.json").write_bytes(orjson.dumps(data))
    out = tmp_path / "out"
    with pytest.raises(EvswarmError, match=r"lineage\.json: field `patterns\.0\.radius`"):
        analyze(batch_dir, out, config=lineage_config(tmp_path, previous=old))
    assert not out.exists()
    with pytest.raises(EvswarmError, match="cannot be compared across batches"):
        analyze(batch_dir, out, config=lineage_config(tmp_path, previous=first.out_dir, embedder="tfidf"))
    assert not out.exists()
