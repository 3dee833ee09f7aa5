"""Agreement between annotators (Cohen's kappa, Fleiss' kappa, Krippendorff's alpha) and a calibration
table of human labels against each promptfoo rubric."""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score

from evswarm.review.schemes import Scheme, SchemeSet

LIKERT_WEIGHTS: Literal["quadratic"] = "quadratic"


def cohen_kappa(
    first: list[Any],
    second: list[Any],
    *,
    weights: Literal["linear", "quadratic"] | None = None,
    labels: Sequence[Any] | None = None,
) -> float | None:
    """Cohen's kappa for two raters over the same items (scikit-learn's `cohen_kappa_score`); None when it
    is undefined (no items, or chance agreement is total).

    Pass/fail labels use plain kappa; 1-5 scales use quadratically weighted kappa (`weights="quadratic"`,
    a 4-point miss costs 16 times a 1-point miss) with `labels` set to the whole scale, since
    scikit-learn weighs disagreements by the distance between label positions, not values.
    """
    if len(first) != len(second) or not first:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined kappa: a warning and NaN, reported here as None
        value = float(cohen_kappa_score(first, second, weights=weights, labels=labels))
    return None if math.isnan(value) else value


def fleiss_kappa(items: list[list[Any]]) -> float | None:
    """Fleiss' kappa over items with two or more ratings each (raters per item may vary).

    Hand-written on purpose: the library versions (statsmodels' `fleiss_kappa`, and those that copy it)
    take a subjects x categories count table that assumes the same number of raters for every item,
    while annotators here label different subsets of traces. This is Fleiss' (1971) formula with the
    per-item agreement P_i = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1)) over each item's own n_i, and the
    category shares p_j over all ratings; with a fixed n it equals the library's value (tested).
    """
    rated = [ratings for ratings in items if len(ratings) >= 2]
    if not rated:
        return None
    categories = sorted({r for ratings in rated for r in ratings}, key=str)
    totals: Counter[Any] = Counter()
    agreement = []
    for ratings in rated:
        counts = Counter(ratings)
        n = len(ratings)
        totals.update(counts)
        agreement.append((sum(c * c for c in counts.values()) - n) / (n * (n - 1)))
    all_ratings = sum(totals.values())
    expected = sum((totals[c] / all_ratings) ** 2 for c in categories)
    if expected >= 1.0:
        return None
    return (float(np.mean(agreement)) - expected) / (1 - expected)


def krippendorff_alpha(
    units: dict[str, dict[str, Any]], annotators: list[str], level: Literal["nominal", "ordinal"]
) -> float | None:
    """Krippendorff's alpha (nominal or ordinal) over units rated by two or more annotators."""
    kept = [u for u in units.values() if len(u) >= 2]
    if not kept:
        return None
    data = np.full((len(annotators), len(kept)), np.nan)
    for column, unit in enumerate(kept):
        for row, name in enumerate(annotators):
            if name in unit:
                data[row, column] = float(unit[name])
    try:
        value = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    except ValueError:  # a single category in the data: alpha is undefined
        return None
    return None if np.isnan(value) else float(value)


def _numeric(scheme: Scheme, value: Any, categories: dict[str, int]) -> Any:
    """A label as a number: pass 1 / fail 0, the scale value, or, for a responsible step, a category
    number per responsible agent (annotators agree when they blame the same agent)."""
    if scheme.type == "binary":
        return 1 if value == "pass" else 0
    if scheme.type == "responsible_step":
        agent = str(value.get("agent") if isinstance(value, dict) else value)
        return categories.setdefault(agent, len(categories))
    return int(value)


def _pair_kappa(scheme: Scheme, first: list[Any], second: list[Any]) -> float | None:
    if scheme.type == "likert":
        return cohen_kappa(first, second, weights=LIKERT_WEIGHTS, labels=list(range(scheme.min, scheme.max + 1)))
    if scheme.type == "responsible_step":
        return cohen_kappa(first, second)
    return cohen_kappa(first, second, labels=[0, 1])


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def agreement_table(rows: list[dict[str, Any]], schemes: SchemeSet) -> list[dict[str, Any]]:
    """One row per rated (non-text) scheme: items, annotators and the three statistics (Cohen's kappa per
    annotator pair: unweighted for pass/fail, quadratically weighted for 1-5 scales)."""
    out = []
    for scheme in schemes.schemes:
        if scheme.type == "text":
            continue
        units: dict[str, dict[str, Any]] = {}
        categories: dict[str, int] = {}
        for row in rows:
            if row["scheme"] == scheme.name:
                units.setdefault(row["trace_id"], {})[row["annotator"]] = _numeric(scheme, row["value"], categories)
        annotators = sorted({a for unit in units.values() for a in unit})
        pairs = []
        for first, second in itertools.combinations(annotators, 2):
            shared = [u for u in units.values() if first in u and second in u]
            if shared:
                kappa = _pair_kappa(scheme, [u[first] for u in shared], [u[second] for u in shared])
                pairs.append({"annotators": [first, second], "items": len(shared), "kappa": _round(kappa)})
        kappas = [float(p["kappa"]) for p in pairs if p["kappa"] is not None]  # type: ignore[arg-type]
        out.append(
            {
                "scheme": scheme.name,
                "type": scheme.type,
                "labels": sum(len(u) for u in units.values()),
                "annotators": len(annotators),
                "items_multi": sum(len(u) >= 2 for u in units.values()),
                "cohen_kappa_mean": _round(float(np.mean(kappas))) if kappas else None,
                "cohen_pairs": pairs,
                "fleiss_kappa": _round(fleiss_kappa([list(u.values()) for u in units.values()])),
                "krippendorff_alpha": _round(
                    krippendorff_alpha(units, annotators, "ordinal" if scheme.type == "likert" else "nominal")
                ),
            }
        )
    return out


def calibration_table(
    rows: list[dict[str, Any]], grades: dict[str, dict[str, Any]], schemes: SchemeSet
) -> list[dict[str, Any]]:
    """Human majority label vs the promptfoo verdict, per rubric-linked scheme."""
    out = []
    for scheme in schemes.schemes:
        if scheme.type != "binary" or not scheme.rubric:
            continue
        votes: dict[str, Counter[str]] = {}
        for row in rows:
            if row["scheme"] == scheme.name:
                votes.setdefault(row["trace_id"], Counter())[row["value"]] += 1
        cells = Counter[str]()
        human, judge = [], []
        ties = 0
        for trace_id, counter in votes.items():
            grade = grades.get(trace_id)
            if grade is None or (
                scheme.rubric not in grade.get("scores", {}) and scheme.rubric not in grade.get("failed", [])
            ):
                continue
            ranked = counter.most_common()
            if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
                ties += 1
                continue
            human_pass = ranked[0][0] == "pass"
            judge_pass = scheme.rubric not in grade.get("failed", [])
            cells[f"human_{'pass' if human_pass else 'fail'}_promptfoo_{'pass' if judge_pass else 'fail'}"] += 1
            human.append(human_pass)
            judge.append(judge_pass)
        n = len(human)
        out.append(
            {
                "scheme": scheme.name,
                "rubric": scheme.rubric,
                "traces": n,
                "ties": ties,
                "agreement": _round(sum(h == j for h, j in zip(human, judge, strict=True)) / n) if n else None,
                "kappa": _round(cohen_kappa(human, judge, labels=[False, True])) if n else None,
                **{
                    key: cells[key]
                    for key in (
                        "human_pass_promptfoo_pass",
                        "human_pass_promptfoo_fail",
                        "human_fail_promptfoo_pass",
                        "human_fail_promptfoo_fail",
                    )
                },
            }
        )
    return out
