"""The overall verdict of an A/B comparison, said in words, with the smallest difference the runs could show."""

from __future__ import annotations

from evswarm.ab import stats
from evswarm.core.ab import Check, Outcome, Verdict


def points(value: float) -> str:
    return f"{100 * value:+.1f} pts"


def _named(check: Check) -> str:
    what = {"overall": "", "rubric": "rubric ", "pattern": "pattern "}.get(check.kind, "")
    return f"{what}{check.label} ({100 * check.base_rate:.1f}% → {100 * check.candidate_rate:.1f}%)"


def decide(
    checks: list[Check],
    *,
    base: str,
    candidate: str,
    mode: str,
    pairs: int,
    alpha: float,
    max_regression: float,
    changed_behavior_runs: int | None,
) -> Verdict:
    """Regressed when a gating check regresses significantly by more than `max_regression` points; else
    improved, tolerated or tied. The smallest detectable difference is computed at Holm's strictest level
    (alpha over the family size), for the noisiest gating check."""
    gating = [c for c in checks if c.gates]
    regressions = [c for c in gating if c.fails_gate]
    tolerated = [c for c in gating if c.status == "regressed" and not c.fails_gate]
    improvements = [c for c in gating if c.status == "improved"]
    family = sum(1 for c in gating if c.p_adjusted is not None)
    level = alpha / max(family, 1)
    if mode == "paired":
        discordance = max(((c.worse_pairs or 0) + (c.better_pairs or 0)) / max(c.n_base, 1) for c in gating)
        floor = stats.smallest_paired_difference(pairs, level)
        detectable = stats.detectable_paired_difference(pairs, discordance, level)
        spread = f"{100 * discordance:.1f}% of pairs disagree on the noisiest check"
        sample = f"{pairs} paired runs"
    else:
        noisiest = min(gating, key=lambda c: abs(c.base_rate - 0.5))
        n_b, n_c = noisiest.n_base, noisiest.n_candidate
        floor = stats.detectable_unpaired_difference(n_b, n_c, noisiest.base_rate, level, power=0.5)
        detectable = stats.detectable_unpaired_difference(n_b, n_c, noisiest.base_rate, level)
        spread = f"the noisiest check's base rate is {100 * noisiest.base_rate:.0f}%"
        sample = f"{n_b} base and {n_c} candidate runs, unpaired"
    tolerance = f"more than {max_regression:g} points" if max_regression > 0 else "any significant regression"
    test = (
        f"alpha {alpha:g}, Holm over {family} check(s)"
        if family
        else f"alpha {alpha:g}; no check had enough disagreeing runs to be tested"
    )
    outcome: Outcome
    if regressions:
        outcome = "regressed"
        headline = (
            f"Regressed: {candidate} is significantly worse than {base} on {len(regressions)} check(s) "
            f"({tolerance} fails): {'; '.join(_named(c) for c in regressions)}. [{sample}, {test}]"
        )
    elif improvements:
        outcome = "improved"
        extra = f"; within tolerance, worse on: {'; '.join(_named(c) for c in tolerated)}" if tolerated else ""
        headline = (
            f"Improved: {candidate} is significantly better than {base} on {len(improvements)} check(s): "
            f"{'; '.join(_named(c) for c in improvements)}{extra}. [{sample}, {test}]"
        )
    elif tolerated:
        outcome = "tolerated"
        headline = (
            f"Within tolerance: {candidate} is significantly worse than {base} only by {max_regression:g} points "
            f"or less: {'; '.join(_named(c) for c in tolerated)}. [{sample}, {test}]"
        )
    else:
        outcome = "tied"
        headline = (
            f"Statistically tied: no rubric or symptom pattern differs significantly between {base} and "
            f"{candidate} ({sample}, {test}). Differences under {100 * floor:.1f} points could not show at all; "
            f"one of {100 * detectable:.1f} points would have been caught 80% of the time ({spread})."
        )
    if changed_behavior_runs and outcome != "regressed":
        behaviors = [c for c in checks if c.kind == "behavior" and c.status == "changed"]
        if behaviors:
            unjudged = "without any grade changing" if outcome == "tied" else "beyond what the grades saw"
            headline += (
                f" Behavior changed in {changed_behavior_runs} of {pairs} runs {unjudged}: "
                f"{behaviors[0].label} {100 * behaviors[0].base_rate:.1f}% → {100 * behaviors[0].candidate_rate:.1f}%"
                + (f" and {len(behaviors) - 1} more" if len(behaviors) > 1 else "")
                + " (not gated: review these traces)."
            )
    return Verdict(
        outcome=outcome,
        exit_code=1 if regressions else 0,
        headline=headline,
        regressions=[c.name for c in regressions],
        tolerated=[c.name for c in tolerated],
        improvements=[c.name for c in improvements],
        family_size=family,
        smallest_significant_difference=floor,
        detectable_difference=detectable,
        changed_behavior_runs=changed_behavior_runs,
    )
