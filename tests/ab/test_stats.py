"""The A/B statistics against their definitions and against statsmodels, and the coverage of the paired interval."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from evswarm.ab import stats


def pairs(both: int, only_base: int, only_candidate: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    base = [True] * both + [True] * only_base + [False] * only_candidate + [False] * neither
    candidate = [True] * both + [False] * only_base + [True] * only_candidate + [False] * neither
    return np.array(base), np.array(candidate)


def test_exact_mcnemar_counts_only_the_discordant_pairs() -> None:
    result = stats.paired(*pairs(90, 6, 0, 4))
    assert result.p_value == pytest.approx(2 * 0.5**6)
    assert (result.base_count, result.candidate_count, result.only_base, result.only_candidate) == (96, 90, 6, 0)
    assert result.difference == pytest.approx(-0.06)
    assert stats.paired(*pairs(50, 10, 2, 38)).p_value == pytest.approx(2 * (1 + 12 + 66) / 4096)
    same = stats.paired(*pairs(70, 0, 0, 30))
    assert same.p_value == 1.0 and same.min_p == 1.0 and same.difference == 0
    assert stats.paired(*pairs(0, 3, 0, 0)).min_p == pytest.approx(0.25), "3 discordant pairs can never reach 0.05"


def test_the_paired_interval_equals_newcombes_independent_one_when_pairs_are_uncorrelated() -> None:
    low, high = stats.newcombe_paired(25, 25, 35, 15)  # phi = (25*15 - 25*35) / ... != 0
    assert low < 0.1 < high
    uncorrelated = stats.newcombe_paired(25, 25, 25, 25)  # phi = 0
    reference = confint_proportions_2indep(50, 100, 50, 100, method="newcomb", compare="diff")
    assert uncorrelated == pytest.approx(tuple(float(x) for x in reference))


def test_the_paired_interval_covers_the_true_difference_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(7)
    # cells: both, base only, candidate only, neither; true difference = 0.10 - 0.04
    probabilities = [0.70, 0.04, 0.10, 0.16]
    covered = 0
    trials = 1500
    for _ in range(trials):
        counts = rng.multinomial(200, probabilities)
        low, high = stats.newcombe_paired(*map(int, counts))
        covered += low <= 0.06 <= high
    assert 0.93 <= covered / trials <= 0.975


def test_unpaired_comparison_uses_fisher_and_knows_when_it_cannot_be_significant() -> None:
    result = stats.unpaired(90, 100, 70, 100)
    assert result.difference == pytest.approx(-0.2) and result.p_value < 0.001
    assert result.ci_low < -0.2 < result.ci_high < 0
    rare = stats.unpaired(0, 100, 1, 100)
    assert rare.min_p == pytest.approx(1.0), "one event in 200 runs can never be significant"
    assert stats.unpaired(0, 100, 8, 100).min_p < 0.05


def test_the_smallest_detectable_difference_shrinks_with_runs_and_grows_with_noise() -> None:
    assert stats.smallest_paired_difference(300, 0.05) == pytest.approx(6 / 300)
    quiet = stats.detectable_paired_difference(300, 0.02, 0.05)
    noisy = stats.detectable_paired_difference(300, 0.20, 0.05)
    more = stats.detectable_paired_difference(1000, 0.20, 0.05)
    assert stats.smallest_paired_difference(300, 0.05) <= quiet < noisy and more < noisy
    assert stats.detectable_unpaired_difference(1000, 1000, 0.5, 0.05) < stats.detectable_unpaired_difference(
        100, 100, 0.5, 0.05
    )
