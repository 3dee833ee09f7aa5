"""The one test on the real default path: MiniLM embeddings (offline), UMAP, HDBSCAN."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.metrics import adjusted_rand_score

from evswarm.macro import AnalyzeConfig, analyze
from tests.macro.builders import make_batch


@pytest.mark.slow
def test_minilm_umap_hdbscan_recovers_planted_faults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    batch = make_batch(tmp_path / "batch", n=240, seed=11)
    config = AnalyzeConfig(cache_root=tmp_path / "cache", progress=False)
    result = analyze(batch, tmp_path / "out", config=config)
    assert result.embedding_method.startswith("all-MiniLM-L6-v2")
    assert result.extra["embedding_computed"] == result.documents.document.nunique()
    # ground truth for this test only: the fault each fixture bundle planted (or the legit block)
    import json

    truth = {}
    for path in (batch / "bundles").glob("run_*.json"):
        b = json.loads(path.read_text())
        faults = b["injected_faults"]
        truth[b["run"]["run_id"]] = faults[0]["fault_id"] if faults else b["run"]["summary"]["scenario_family"]
    a = result.assignments
    assert adjusted_rand_score([truth[r] for r in a.run_id], a.pattern_id) >= 0.8
    assert result.patterns.label.is_unique
    # the whole path again from nothing (no cache): the same patterns, trace for trace
    fresh = analyze(batch, tmp_path / "out2", config=config.model_copy(update={"cache_root": tmp_path / "cache2"}))
    assert fresh.extra["embedding_computed"] > 0
    assert fresh.assignments.pattern_id.tolist() == a.pattern_id.tolist()
    assert fresh.patterns.label.tolist() == result.patterns.label.tolist()
    # and once more on the warm cache: nothing is embedded again, same patterns
    again = analyze(batch, tmp_path / "out3", config=config)
    assert again.extra["embedding_computed"] == 0 and again.extra["embedding_cached"] > 0
    assert again.assignments.pattern_id.tolist() == a.pattern_id.tolist()
