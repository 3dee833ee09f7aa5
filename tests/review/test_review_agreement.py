"""Agreement statistics checked against scikit-learn, statsmodels and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from evswarm.review.agreement import cohen_kappa, fleiss_kappa, krippendorff_alpha
from evswarm.review.config import pad_pane_labels


def test_cohen_kappa_matches_scikit_learn() -> None:
    first = [1, 2, 3, 3, 2, 1, 5, 4, 4, 2]
    second = [1, 2, 3, 2, 2, 1, 4, 4, 5, 2]
    assert cohen_kappa(first, second) == pytest.approx(cohen_kappa_score(first, second))


def test_cohen_kappa_is_undefined_when_both_raters_never_vary() -> None:
    assert cohen_kappa(["pass"] * 4, ["pass"] * 4) is None


def test_fleiss_kappa_matches_statsmodels_for_a_fixed_number_of_raters() -> None:
    rng = np.random.default_rng(3)
    ratings = rng.integers(1, 4, size=(30, 4))
    ratings[:10] = ratings[:10, :1]  # some agreement
    table, _ = aggregate_raters(ratings)
    assert fleiss_kappa([list(row) for row in ratings]) == pytest.approx(sm_fleiss(table))


def test_krippendorff_alpha_nominal_on_a_known_example() -> None:
    # Krippendorff (2011), 2 coders, binary data: alpha = 0.095
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    units = {str(i): {"a": a[i], "b": b[i]} for i in range(10)}
    assert krippendorff_alpha(units, ["a", "b"], "nominal") == pytest.approx(0.095, abs=0.001)
    assert krippendorff_alpha({"u": {"a": 1}}, ["a"], "nominal") is None


def test_pane_labels_are_padded_from_the_defaults() -> None:
    assert pad_pane_labels(["Only One"]) == ["Only One", "Function Calls", "Final Answer"]
    assert pad_pane_labels(["A", "", "C", "D"]) == ["A", "Function Calls", "C"]
    assert pad_pane_labels(None) == ["Reasoning", "Function Calls", "Final Answer"]
