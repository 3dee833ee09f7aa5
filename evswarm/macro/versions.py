"""Compare each pattern's prevalence across agent version sets.

Prevalence in version v = the pattern's traces among v's runs / all of v's runs (whole batch), with
a 95% Wilson interval. Each other version is compared with the baseline version: the one named with
`--baseline` (`AnalyzeConfig.baseline`), else the first name containing "base", else the first name in
sort order (the table's `baseline` column names it). The difference in prevalence with a Newcombe
95% interval and Fisher's exact test, Benjamini-Hochberg corrected over all comparisons. A pattern
`appears` when it is absent in the baseline and significantly present in v, `vanishes` in the
mirror case, and is `up`/`down` on any other significant difference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evswarm.core.errors import EvswarmError
from evswarm.macro.stats import bh, fisher, newcombe, wilson


def baseline_version(names: list[str], asked: str | None = None) -> str:
    """The baseline: `asked` (which must be one of `names`), else the first name containing "base", else the
    first name in sort order."""
    if asked is not None:
        if asked not in names:
            raise EvswarmError(
                f"--baseline {asked!r} is not a version set of this batch",
                hint=f"its version sets: {', '.join(sorted(names))}",
            )
        return asked
    named = sorted(n for n in names if "base" in n.lower())
    return named[0] if named else sorted(names)[0]


def prevalence_by_version(assign: pd.DataFrame, traces: pd.DataFrame, labels: dict[int, str]) -> pd.DataFrame:
    runs = traces.agent_version_set.astype(str).value_counts()
    df = assign[assign.cluster_id >= 0].merge(traces[["run_id", "agent_version_set"]], on="run_id")
    counts = df.groupby(["cluster_id", "agent_version_set"]).size()
    rows = []
    for pid in sorted(df.cluster_id.unique()):
        for version, n in runs.items():
            k = int(counts.get((pid, version), 0))
            lo, hi = wilson(k, int(n))
            rows.append(
                {
                    "pattern_id": int(pid),
                    "pattern": labels.get(int(pid), str(pid)),
                    "version_set": version,
                    "traces": k,
                    "runs": int(n),
                    "prevalence": k / n,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return pd.DataFrame(rows)


def compare_versions(prev: pd.DataFrame, alpha: float, min_support: int, baseline: str | None = None) -> pd.DataFrame:
    """Each (pattern, version) vs the baseline version (`baseline`, else the rule in `baseline_version`)."""
    if prev.empty:
        return pd.DataFrame()
    base = baseline_version(prev.version_set.unique().tolist(), baseline)
    if prev.version_set.nunique() < 2:
        return pd.DataFrame()
    rows = []
    for pid, grp in prev.groupby("pattern_id"):
        b = grp[grp.version_set == base].iloc[0]
        for r in grp[grp.version_set != base].itertuples(index=False):
            lo, hi = newcombe(int(b.traces), int(b.runs), r.traces, r.runs)
            p = fisher(r.traces, r.runs - r.traces, int(b.traces), int(b.runs - b.traces))
            rows.append(
                {
                    "pattern_id": int(pid),
                    "pattern": r.pattern,
                    "baseline": base,
                    "version_set": r.version_set,
                    "baseline_prevalence": float(b.prevalence),
                    "prevalence": r.prevalence,
                    "difference": r.prevalence - float(b.prevalence),
                    "diff_ci_low": lo,
                    "diff_ci_high": hi,
                    "baseline_traces": int(b.traces),
                    "traces": r.traces,
                    "p_value": p,
                }
            )
    out = pd.DataFrame(rows)
    out["q_value"] = bh(out.p_value.to_numpy())
    sig = out.q_value < alpha
    appears = sig & (out.baseline_traces == 0) & (out.traces >= min_support)
    vanishes = sig & (out.traces == 0) & (out.baseline_traces >= min_support)
    out["change"] = np.select(
        [appears, vanishes, sig & (out.difference > 0), sig],
        ["appears", "vanishes", "up", "down"],
        "no clear change",
    )
    return out.sort_values(["q_value", "difference"], ascending=[True, False]).reset_index(drop=True)
