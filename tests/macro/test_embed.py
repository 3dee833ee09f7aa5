"""MiniLM vectors depend on the text alone: not on the texts embedded beside it, nor on what a cache holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evswarm.macro.embed import EmbeddingCache, embed

TEXTS = [
    "pricing_agent quoted 45,000 EUR for the long-range trim",
    "supply check: battery packs short at the Berlin plant, delivery slips two weeks",
    "refund denied",
    "compliance flagged the order: export licence missing for the destination market " * 3,
    "orchestrator handed off to finance_agent after the credit check came back",
    "order approved",
    # longer than one 180-word chunk: embedded in pieces and averaged
    " ".join(f"step {i} the factory agent re-planned the build slot" for i in range(60)),
    # short texts of one token length: batched together they met other kernels than alone
    *(f"agent {name} handled order {name}" for name in ("alpha", "beta", "gamma", "delta", "omega", "sigma")),
]


@pytest.mark.slow
def test_a_text_gets_the_same_bits_alone_beside_others_and_from_a_cache(tmp_path: Path) -> None:
    together = embed(TEXTS, "minilm", None).vectors
    alone = np.stack([embed([t], "minilm", None).vectors[0] for t in TEXTS])
    reversed_ = embed(TEXTS[::-1], "minilm", None).vectors[::-1]
    assert together.shape == (len(TEXTS), 384)
    assert np.array_equal(together, alone)
    assert np.array_equal(together, reversed_)

    # a cache filled piecemeal by earlier, different batches serves what a cold run computes
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    embed(TEXTS[:2], "minilm", cache)
    embed([*TEXTS[4:], "an unrelated text that only this run embeds"], "minilm", cache)
    warm = embed(TEXTS, "minilm", cache)
    assert warm.cached == len(TEXTS) - 2 and warm.computed == 2  # texts 2 and 3 are new here
    assert np.array_equal(warm.vectors, together)
    # distinct texts stay distinct: the check above is not comparing one repeated vector
    assert len({row.tobytes() for row in together}) == len(TEXTS)
