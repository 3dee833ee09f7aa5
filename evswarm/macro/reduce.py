"""Reduce embeddings: a few UMAP dimensions for clustering, 2-D only for the trace map.

UMAP is seeded and runs on one thread (numba and BLAS alike), and its spectral start is made deterministic
(see `_seeded_arpack`), so reruns are bit-identical. Results are cached as .npy files keyed by a hash of
the input matrix and the parameters, so a warm rerun skips the numba JIT entirely. `pca` is a fast,
JIT-free alternative used by tests.
"""

from __future__ import annotations

import functools
import hashlib
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np

from evswarm.core.io import atomic_write_bytes


def _key(x: np.ndarray, *parts: object) -> str:
    h = hashlib.sha256(np.ascontiguousarray(x).tobytes())
    h.update(repr((x.shape, *parts)).encode())
    return h.hexdigest()[:32]


def _load(path: Path) -> np.ndarray | None:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None


def _save(path: Path, arr: np.ndarray) -> None:
    import io

    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())


def _pca(x: np.ndarray, dims: int, random_state: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    k = max(1, min(dims, x.shape[0] - 1, x.shape[1]))
    with warnings.catch_warnings():  # identical documents give zero variance: harmless here
        warnings.simplefilter("ignore", RuntimeWarning)
        out = PCA(n_components=k, random_state=random_state).fit_transform(x)
    if out.shape[1] < dims:
        out = np.hstack([out, np.zeros((out.shape[0], dims - out.shape[1]))])
    return out.astype(np.float32)


def fit_sample(n: int, limit: int | None, random_state: int) -> np.ndarray | None:
    """The rows a model is fitted on when there are more than `limit` (a seeded sample, in row order), or None
    to fit on all of them."""
    if limit is None or n <= limit:
        return None
    return np.sort(np.random.default_rng(random_state).choice(n, size=limit, replace=False))


def _sampled(n: int, limit: int | None) -> tuple[int, ...]:
    """The sampling's part of a cache key: nothing when every row is fitted (keys made before sampling stay)."""
    return (limit,) if limit is not None and n > limit else ()


_ARPACK_SEED: ContextVar[int | None] = ContextVar("evswarm_arpack_seed", default=None)


@contextmanager
def _seeded_arpack(random_state: int) -> Iterator[None]:
    """Within the block, a call of scipy's `eigsh` that names no `rng` gets one seeded by `random_state`.

    UMAP's spectral start (umap-learn 0.5) calls `eigsh` from a vector of ones and no `rng`. On a connected
    component made of exact copies of a few documents (common: identical traces give identical documents)
    that vector is an eigenvector, ARPACK must restart, and scipy then draws the new start from OS entropy:
    the layout, hence the patterns, changed from run to run (lmcinnes/umap#1277). Seeded, the restart is
    the same every time; a layout that needed no restart is unchanged. `eigsh` is wrapped once per process;
    the seed is a context variable, so other threads' calls, and calls outside the block, are untouched."""
    import scipy.sparse.linalg as linalg

    if not getattr(linalg.eigsh, "evswarm_seeded", False):
        original = linalg.eigsh

        @functools.wraps(original)
        def eigsh(*args: Any, **kwargs: Any) -> Any:
            seed = _ARPACK_SEED.get()
            if seed is not None and kwargs.get("rng") is None:
                kwargs["rng"] = np.random.default_rng(seed)
            return original(*args, **kwargs)

        eigsh.evswarm_seeded = True  # type: ignore[attr-defined]
        linalg.eigsh = eigsh
    token = _ARPACK_SEED.set(random_state)
    try:
        yield
    finally:
        _ARPACK_SEED.reset(token)


def _umap(
    x: np.ndarray, dims: int, n_neighbors: int, random_state: int, numba_cache: Path, limit: int | None = None
) -> np.ndarray:
    numba_cache.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NUMBA_CACHE_DIR", str(numba_cache))
    import umap
    from threadpoolctl import threadpool_limits

    reducer = umap.UMAP(
        n_components=dims,
        n_neighbors=n_neighbors,
        min_dist=0.0,
        metric="cosine",
        random_state=random_state,
        n_jobs=1,
    )
    sample = fit_sample(x.shape[0], limit, random_state)
    # one BLAS thread: summation order, hence the layout, never varies
    with threadpool_limits(limits=1), _seeded_arpack(random_state):
        if sample is None:
            return np.asarray(reducer.fit_transform(x), dtype=np.float32)
        out = np.empty((x.shape[0], dims), dtype=np.float32)
        out[sample] = reducer.fit_transform(x[sample])
        rest = np.setdiff1d(np.arange(x.shape[0]), sample)
        out[rest] = reducer.transform(x[rest])
        return out


def reduce(
    x: np.ndarray,
    dims: int,
    method: str,
    n_neighbors: int,
    random_state: int,
    cache_root: Path | None,
    fit_limit: int | None = None,
) -> np.ndarray:
    """Reduce rows of `x` to `dims` columns; tiny inputs (< 6 rows) fall back to PCA. With more than
    `fit_limit` rows, UMAP is fitted on a seeded sample of that size and the other rows are placed with it."""
    n = x.shape[0]
    if method == "pca" or n < 6:
        return _pca(x, dims, random_state)
    nn = max(2, min(n_neighbors, n - 1))
    key = _key(x, dims, nn, random_state, *_sampled(n, fit_limit), "arpack-seeded")  # not a layout made before
    path = cache_root / "reduce" / f"umap-{key}.npy" if cache_root else None
    if path is not None and path.is_file() and (hit := _load(path)) is not None:
        return hit
    numba = (cache_root or Path.home() / ".cache" / "evswarm") / "numba"
    out = _umap(x, min(dims, n - 2), nn, random_state, numba, fit_limit)
    if out.shape[1] < dims:
        out = np.hstack([out, np.zeros((n, dims - out.shape[1]), dtype=np.float32)])
    if path is not None:
        _save(path, out)
    return out


def picture_coordinates(reduced: np.ndarray, random_state: int) -> np.ndarray:
    """2-D coordinates for the trace map: the clustering space projected on its two main axes
    (cheap, and the picture shows the same geometry the clusters were found in)."""
    if reduced.shape[1] <= 2:
        return reduced[:, :2]
    return _pca(reduced, 2, random_state)
