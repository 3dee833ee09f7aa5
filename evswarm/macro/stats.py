"""The statistics lift and version comparison use, from kept libraries: Wilson intervals for a proportion
and Newcombe's hybrid score interval for a difference (statsmodels), Fisher's exact test (scipy), and
Benjamini-Hochberg control of the false discovery rate (statsmodels). All at 95% / alpha 0.05 unless told."""

from __future__ import annotations

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval for k/n ((0, 1) when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def newcombe(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """95% Newcombe hybrid score interval for p2 - p1 ((-1, 1) when a sample is empty)."""
    if n1 <= 0 or n2 <= 0:
        return -1.0, 1.0
    low, high = confint_proportions_2indep(k2, n2, k1, n1, method="newcomb", compare="diff", alpha=0.05)
    return max(-1.0, float(low)), min(1.0, float(high))


def fisher(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher exact p-value for the table [[a, b], [c, d]]."""
    return float(stats.fisher_exact([[a, b], [c, d]], alternative="two-sided").pvalue)


def bh(pvalues: list[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), in input order."""
    p = np.asarray(pvalues, dtype=float)
    if len(p) == 0:
        return p
    return np.asarray(multipletests(p, alpha=0.05, method="fdr_bh")[1], dtype=float)
