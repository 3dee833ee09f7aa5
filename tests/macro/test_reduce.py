"""UMAP layouts are the same on every run, even where its spectral start is ill-posed."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from evswarm.macro.reduce import reduce


def _with_a_clique_of_copies() -> np.ndarray:
    """Sixty documents, plus twelve copies of two near-identical ones far from the rest: the copies form a
    connected component of their own whose graph is complete with every weight 1, where ARPACK, started
    from UMAP's vector of ones, must restart (what made layouts differ from run to run)."""
    rng = np.random.default_rng(3)
    rest = np.abs(rng.normal(size=(60, 16)))
    a = -np.abs(rng.normal(size=16))
    b = a.copy()
    b[0] *= 1.01
    return np.vstack([rest, np.repeat([a], 6, axis=0), np.repeat([b], 6, axis=0)]).astype(np.float32)


@pytest.mark.slow
def test_umap_gives_the_same_layout_every_run_on_a_component_of_copies(tmp_path: Path) -> None:
    x = _with_a_clique_of_copies()
    layouts = []
    for _ in range(3):
        layouts.append(reduce(x, 5, "umap", 15, 42, tmp_path))
        shutil.rmtree(tmp_path / "reduce")  # recompute: never read the layout cache
    assert layouts[0].shape == (72, 5) and np.isfinite(layouts[0]).all()
    assert all(np.array_equal(layouts[0], other) for other in layouts[1:])
    # the copies stay together, apart from the rest
    copies, rest = layouts[0][60:], layouts[0][:60]
    assert (
        np.linalg.norm(copies.mean(axis=0) - rest.mean(axis=0))
        > np.linalg.norm(copies - copies.mean(axis=0), axis=1).max()
    )
