"""Past `fit_limit` traces, UMAP and HDBSCAN are fitted on a seeded sample and the rest are placed with them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evswarm.macro import analyze
from evswarm.macro.cluster import cluster
from evswarm.macro.reduce import reduce
from tests.macro.conftest import fast_config


def _blobs(n_per: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0] * 5, [10.0] * 5, [-10.0, 10.0, -10.0, 10.0, -10.0]])
    truth = np.repeat(np.arange(3), n_per)
    return centres[truth] + rng.normal(0, 0.5, (truth.size, 5)), truth


def test_sampled_clustering_assigns_every_row_to_its_blob() -> None:
    x, truth = _blobs(200)
    full = cluster(x, 20, None)
    sampled = cluster(x, 20, None, fit_limit=150, random_state=1)
    assert "sample of 150 of the 600 traces" in sampled.note and full.note == ""
    assert (sampled.labels >= 0).mean() > 0.95
    for blob in range(3):  # one cluster per blob, the same partition as the full fit
        assert len(set(sampled.labels[truth == blob]) - {-1}) == 1
    again = cluster(x, 20, None, fit_limit=150, random_state=1)
    assert np.array_equal(sampled.labels, again.labels)


def test_sampled_umap_places_every_row(tmp_path: Path) -> None:
    x, truth = _blobs(60, seed=2)
    out = reduce(np.hstack([x, x]).astype(np.float32), 3, "umap", 10, 42, tmp_path, fit_limit=100)
    assert out.shape == (180, 3) and np.isfinite(out).all()
    centres = np.array([out[truth == b].mean(axis=0) for b in range(3)])
    spread = max(np.linalg.norm(out[truth == b] - centres[b], axis=1).mean() for b in range(3))
    gaps = min(np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3))
    assert gaps > 2 * spread  # placed rows land with their blob, not anywhere


def test_the_report_says_when_it_clustered_a_sample(batch_dir: Path, tmp_path: Path) -> None:
    result = analyze(batch_dir, tmp_path / "out", config=fast_config(tmp_path, fit_limit=30))
    assert len(result.assignments) > 30
    note = next(n for n in result.notes if "seeded sample of 30 of the" in n)
    assert note in (tmp_path / "out" / "report.html").read_text()
