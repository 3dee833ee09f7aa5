"""The statistics of an A/B comparison, from kept libraries.

Paired arms (the same scenarios under both versions): the exact McNemar test on the discordant pairs
(statsmodels) and Newcombe's hybrid score interval for a paired difference (his method 10), built from
statsmodels' Wilson intervals. Unpaired arms: Fisher's exact test (scipy) and Newcombe's interval for
independent proportions (statsmodels). Multiple comparisons: Holm (statsmodels `multipletests`) over every
check that can reach significance at all; a check whose data cannot (too few discordant pairs, or too few
events) stays out of the family, as in Tarone's refinement for discrete tests, since it can never be
rejected and would only dilute the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint


@dataclass(frozen=True)
class Result:
    """One comparison of two proportions: rates, difference with its 95% interval, and the test."""

    n_base: int
    n_candidate: int
    base_count: int
    candidate_count: int
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    min_p: float
    """The smallest p-value this check's margins allow (1.0: it can never be significant)."""
    only_base: int | None = None
    """Paired: pairs where the event happened in the base only."""
    only_candidate: int | None = None

    @property
    def base_rate(self) -> float:
        return self.base_count / self.n_base if self.n_base else 0.0

    @property
    def candidate_rate(self) -> float:
        return self.candidate_count / self.n_candidate if self.n_candidate else 0.0


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval for k/n ((0, 1) when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def paired(base: np.ndarray, candidate: np.ndarray) -> Result:
    """Compare an event's rate between paired arms (`base[i]` and `candidate[i]` are one scenario)."""
    b, c = np.asarray(base, dtype=bool), np.asarray(candidate, dtype=bool)
    n = len(b)
    both, only_b = int((b & c).sum()), int((b & ~c).sum())
    only_c, neither = int((~b & c).sum()), int((~b & ~c).sum())
    discordant = only_b + only_c
    p = 1.0 if discordant == 0 else float(mcnemar([[both, only_b], [only_c, neither]], exact=True).pvalue)
    low, high = newcombe_paired(both, only_b, only_c, neither)
    return Result(
        n_base=n,
        n_candidate=n,
        base_count=both + only_b,
        candidate_count=both + only_c,
        difference=(only_c - only_b) / n if n else 0.0,
        ci_low=low,
        ci_high=high,
        p_value=min(1.0, p),
        min_p=min(1.0, 2 * 0.5**discordant) if discordant else 1.0,
        only_base=only_b,
        only_candidate=only_c,
    )


def newcombe_paired(both: int, only_b: int, only_c: int, neither: int) -> tuple[float, float]:
    """95% interval for p_candidate - p_base over pairs (Newcombe 1998, method 10, no continuity correction)."""
    n = both + only_b + only_c + neither
    if n == 0:
        return -1.0, 1.0
    p_b, p_c = (both + only_b) / n, (both + only_c) / n
    l_b, u_b = wilson(both + only_b, n)
    l_c, u_c = wilson(both + only_c, n)
    margins = (both + only_b) * (only_c + neither) * (both + only_c) * (only_b + neither)
    phi = (both * neither - only_b * only_c) / math.sqrt(margins) if margins else 0.0
    delta = math.sqrt(max(0.0, (p_c - l_c) ** 2 - 2 * phi * (p_c - l_c) * (u_b - p_b) + (u_b - p_b) ** 2))
    epsilon = math.sqrt(max(0.0, (u_c - p_c) ** 2 - 2 * phi * (u_c - p_c) * (p_b - l_b) + (p_b - l_b) ** 2))
    difference = p_c - p_b
    return max(-1.0, difference - delta), min(1.0, difference + epsilon)


def _fisher(a: int, b: int, c: int, d: int) -> float:
    return float(stats.fisher_exact([[a, b], [c, d]], alternative="two-sided").pvalue)


def unpaired(base_count: int, n_base: int, candidate_count: int, n_candidate: int) -> Result:
    """Compare an event's rate between independent arms."""
    if n_base <= 0 or n_candidate <= 0:
        return Result(n_base, n_candidate, base_count, candidate_count, 0.0, -1.0, 1.0, 1.0, 1.0)
    p = _fisher(candidate_count, n_candidate - candidate_count, base_count, n_base - base_count)
    low, high = confint_proportions_2indep(
        candidate_count, n_candidate, base_count, n_base, method="newcomb", compare="diff", alpha=0.05
    )
    events = base_count + candidate_count
    extremes = [
        _fisher(k, n_candidate - k, events - k, n_base - (events - k))
        for k in (max(0, events - n_base), min(events, n_candidate))
    ]
    return Result(
        n_base=n_base,
        n_candidate=n_candidate,
        base_count=base_count,
        candidate_count=candidate_count,
        difference=candidate_count / n_candidate - base_count / n_base,
        ci_low=max(-1.0, float(low)),
        ci_high=min(1.0, float(high)),
        p_value=min(1.0, p),
        min_p=min(1.0, *extremes),
    )


def holm(p_values: list[float], alpha: float) -> list[float]:
    """Holm-adjusted p-values (family-wise error control), in input order."""
    if not p_values:
        return []
    return [float(v) for v in multipletests(p_values, alpha=alpha, method="holm")[1]]


def bh(p_values: list[float], alpha: float) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate control), in input order."""
    if not p_values:
        return []
    return [float(v) for v in multipletests(p_values, alpha=alpha, method="fdr_bh")[1]]


def smallest_paired_difference(n: int, alpha: float) -> float:
    """The smallest paired difference that can be significant at all: every discordant pair going one way
    needs k with 2 * 0.5**k <= alpha, so k / n."""
    if n <= 0:
        return 1.0
    k = math.ceil(math.log2(2 / alpha))
    return min(1.0, k / n)


def detectable_paired_difference(n: int, discordance: float, alpha: float, power: float = 0.8) -> float:
    """The paired difference a two-sided McNemar test at `alpha` detects with `power`, when a share
    `discordance` of pairs disagree (Connor's normal approximation); never below the exact floor."""
    floor = smallest_paired_difference(n, alpha)
    if n <= 0:
        return 1.0
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)

    def needed(delta: float) -> float:
        psi = max(discordance, delta)
        return float((z_a * math.sqrt(psi) + z_b * math.sqrt(max(psi - delta**2, 0.0))) ** 2 / delta**2) - n

    if needed(1.0) > 0:
        return 1.0
    return max(floor, float(optimize.brentq(needed, 1e-6, 1.0)))


def detectable_unpaired_difference(
    n_base: int, n_candidate: int, rate: float, alpha: float, power: float = 0.8
) -> float:
    """The difference from `rate` that a two-sided test of independent proportions at `alpha` detects with
    `power` (normal approximation on Cohen's h)."""
    if n_base <= 0 or n_candidate <= 0:
        return 1.0
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    h = (z_a + z_b) * math.sqrt(1 / n_base + 1 / n_candidate)
    base_angle = 2 * math.asin(math.sqrt(min(max(rate, 0.0), 1.0)))
    up = math.sin(min(math.pi, base_angle + h) / 2) ** 2 - rate
    down = rate - math.sin(max(0.0, base_angle - h) / 2) ** 2
    return float(min(1.0, min(up, down) if min(up, down) > 0 else max(up, down)))
