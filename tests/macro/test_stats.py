from __future__ import annotations

import numpy as np
import pytest

from evswarm.macro.stats import bh, fisher, newcombe, wilson


def test_wilson_matches_published_values() -> None:
    lo, hi = wilson(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson(81, 263)  # Newcombe (1998) example: 0.2553 to 0.3662
    assert (lo, hi) == (pytest.approx(0.2553, abs=1e-4), pytest.approx(0.3662, abs=1e-4))


def test_newcombe_difference_interval_matches_paper() -> None:
    # Newcombe (1998) table II example (a): 56/70 vs 48/80 -> difference 0.2, CI 0.0524 to 0.3339
    lo, hi = newcombe(48, 80, 56, 70)
    assert lo == pytest.approx(0.0524, abs=1e-4)
    assert hi == pytest.approx(0.3339, abs=1e-4)


def test_fisher_on_perfect_separation() -> None:
    assert fisher(3, 0, 0, 3) == pytest.approx(0.1)
    assert fisher(2, 2, 2, 2) == pytest.approx(1.0)


def test_benjamini_hochberg_by_hand() -> None:
    q = bh([0.01, 0.04, 0.03, 0.20])
    # sorted p: .01 .03 .04 .20 -> p*n/rank: .04 .06 .0533 .20 -> monotone from the top: .04 .0533 .0533 .20
    assert np.allclose(q, [0.04, 0.0533333, 0.0533333, 0.20])
