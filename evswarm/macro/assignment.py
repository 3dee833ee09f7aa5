"""Assignment first (`analyze --previous`): which of this batch's traces belong to the patterns of the earlier
analysis, and which patterns the clustering finds among the rest.

The earlier analysis's patterns are the reference. Every analyzed trace is tested against the centres of the
earlier patterns that are alive or gone (not those split or merged away) by the fit rule of `centroids`: the
nearest centre, within that pattern's radius. Traces equally near several centres (patterns the embedding
cannot tell apart) are sent, cluster by cluster, to one of them (`_untie`). Then:

1. **Carried or gone.** An earlier pattern is *carried* (the traces that fit it are assigned to it, wherever the
   clustering put them) when at least `min_size` traces fit it (the clustering's own minimum cluster size, the
   fewest traces this analysis accepts as a new pattern). A pattern that held at least `min_size` traces in the
   earlier analysis is also carried when at least half that many fit it and the drop is not significant: the
   exact conditional test of two counts (this batch's fits against its earlier traces, each out of its
   analysis's analyzed traces; one-sided, `GONE_ALPHA`). A pattern seen before needs less evidence to be
   confirmed than a new one to be found: one of 12 traces that 6 traces of a batch of the same size fit has
   not gone, sampling alone explains the drop. The grace lasts one step: a pattern carried below `min_size`
   needs `min_size` fits the next time. Any other is `gone`; its few traces are left over. Both counts are
   taken by the same rule: the earlier one is how many of the earlier batch's traces fit the centre stored
   from it (`PatternState.fits_own`; its members in files written before that was kept).
2. **Checked against the clustering.** The batch is also clustered as a whole (exactly as without
   `--previous`), so that a pattern that really fell apart or really joined another is still reported as split
   or merged. n(P, C) = the traces assigned to carried pattern P that lie in cluster C. P and C are *linked*
   when n(P, C) reaches P's carry bar (`min_size`, or half of it for a pattern carried by the test) and it is
   at least half of one side (half of C's traces, or half of P's assigned
   traces): C is a pattern-sized part of P that is mostly P, or holds most of P.
   - A cluster and a pattern linked only to each other, or each holding at least half of the other (largest
     first), are *paired*: the pattern continues there.
   - A carried pattern with no link continues too, with all its assigned traces: the clustering scatters
     them, leaves them as noise, or folds them into a larger cluster where they are a minority, but they still
     fit its centre. This is what assignment first adds to matching clusters.
   - A pattern linked to several clusters and paired with none is `split` into them; one linked to a single
     cluster that is paired with another pattern is `merged` into that one (its traces there join it).
   - A linked cluster paired with no pattern becomes a pattern of its own: `split` from its one linked pattern
     or `merged` from its several. Its members are its traces assigned to those patterns and its left-over
     traces.
   A continuing pattern keeps every assigned trace except those in a cluster it is linked to that became a
   pattern of its own (a part split off from it).
3. **The rest.** Traces that fit no carried pattern, and the traces of a split or merged pattern outside the
   clusters it is linked to, are *left over*. The left-over traces of each cluster form a `new` pattern when
   there are at least `min_size` of them; fewer are noise (-1), like the clustering's own noise.

So a continuing pattern's traces are the ones that fit its centre (`basis` "assignment": the clustering did not
re-find it; its stability figure says whether the clustering alone would), while new, split and merged patterns
are the clustering's (`basis` "clustering"). The only thresholds are the clustering's minimum cluster size, one
half and the test's level; nothing here reads a planted fault. The result depends only on the embeddings, the
clustering's labels and the earlier lineage, so the same inputs give the same assignment.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from evswarm.core.lineage import Lineage, PatternLineage
from evswarm.macro.centroids import Centre, fit, ties

LINK_SHARE = 0.5
"""A link needs at least this share of one side's traces."""
CARRY_FLOOR = 0.5
"""The share of `min_size` (rounded up) fitting traces below which an earlier pattern is gone whatever its
history. `benchmarks/lineage.py` sets it to 1 to report the rule without the test beside (a pattern then needs
as many traces to continue as to be found)."""
GONE_ALPHA = 0.05
"""A pattern with fewer than `min_size` fitting traces is gone when the probability of so few fits or fewer,
were its rate unchanged, is below this (one-sided)."""

Kind = Literal["continuing", "new", "split", "merged"]
Fate = Literal["gone", "split", "merged"]


@dataclass(frozen=True)
class Group:
    """One pattern of this analysis before it has an id (`lineage` gives ids, names and `returned`)."""

    kind: Kind
    old: int | None
    """For `continuing`: the index in `Assignment.candidates` of the earlier pattern it continues."""
    related: tuple[int, ...]
    """Candidate indices: the patterns a split or merged group comes from, the ones a continuing one absorbed."""


@dataclass(frozen=True)
class Ending:
    """What became of an earlier pattern that does not continue."""

    fate: Fate
    groups: tuple[int, ...]
    """Group ids it split into or merged into (none when gone)."""


@dataclass(frozen=True)
class Assignment:
    """Where every analyzed trace goes, and what became of each earlier pattern."""

    candidates: list[PatternLineage]
    """The earlier patterns tested (alive or gone; not split or merged away), in id order."""
    labels: np.ndarray
    """Group id per analyzed trace (-1: in no pattern)."""
    groups: dict[int, Group]
    endings: dict[int, Ending]
    """Candidate index -> its ending, for every candidate that does not continue."""
    fits: np.ndarray
    """Per candidate: the analyzed traces that fit its centre."""
    fitted: int
    """Analyzed traces that fit any earlier centre."""

    def traces_of(self, kinds: set[str]) -> int:
        """Traces in groups of these kinds."""
        ids = [g for g, group in self.groups.items() if group.kind in kinds]
        return int(np.isin(self.labels, ids).sum()) if ids else 0


def candidates_of(previous: Lineage) -> list[PatternLineage]:
    """The earlier patterns a trace may fit: every one not split or merged away."""
    return [p for p in previous.patterns if not p.retired]


def fit_candidates(
    lineage: Lineage, vectors: np.ndarray, labels: np.ndarray
) -> tuple[list[PatternLineage], np.ndarray]:
    """The candidates of `lineage` and, per row of `vectors` (clustered as `labels`), the index of the candidate it
    fits (-1: none): the fit rule of `centroids`, ties sent cluster by cluster (`_untie`). The one rule every
    count of fitting traces is taken by, in this batch (`assign`) and in the batch a pattern was stored from
    (`lineage`, `PatternState.fits_own`)."""
    candidates = candidates_of(lineage)
    found = [Centre(np.asarray(p.centroid), p.radius) for p in candidates]
    fitted = fit(vectors, found)
    _untie(fitted, ties(vectors, found, fitted), labels, [p.latest.trace_count for p in candidates])
    return candidates, fitted


def _untie(fitted: np.ndarray, tied: list[tuple[int, ...]], labels: np.ndarray, last: list[int]) -> None:
    """Traces equally near several earlier centres (patterns the embedding cannot tell apart, e.g. two clusters
    of one document) are sent, cluster by cluster, to the one of those patterns whose last size is nearest the
    cluster's size (largest clusters first, each earlier pattern taken once per group); in place."""
    used: dict[tuple[int, ...], set[int]] = defaultdict(set)
    sizes = {int(c): int((labels == c).sum()) for c in sorted(set(labels.tolist())) if c >= 0}
    for cid, size in sorted(sizes.items(), key=lambda c: (-c[1], c[0])):
        rows = [r for r in np.flatnonzero(labels == cid).tolist() if len(tied[r]) > 1]
        if not rows:
            continue
        group = max(sorted({tied[r] for r in rows}), key=lambda g: sum(1 for r in rows if tied[r] == g))
        free = [k for k in group if k not in used[group]] or list(group)
        choice = min(free, key=lambda k: (abs(last[k] - size), k))
        used[group].add(choice)
        for r in rows:
            if tied[r] == group:
                fitted[r] = choice


def _links(n: np.ndarray, sizes: np.ndarray, fits: np.ndarray, bars: np.ndarray) -> np.ndarray:
    """Boolean (candidate, cluster) matrix: at least the candidate's carry bar of traces, and at least half of
    one side."""
    return (n >= bars[:, None]) & ((n >= LINK_SHARE * sizes[None, :]) | (n >= LINK_SHARE * fits[:, None]))


def _pairs(n: np.ndarray, links: np.ndarray, sizes: np.ndarray, fits: np.ndarray) -> dict[int, int]:
    """Cluster index -> candidate index for the clusters a carried pattern continues in."""
    olds_of = [set(np.flatnonzero(links[:, j]).tolist()) for j in range(links.shape[1])]
    news_of = [set(np.flatnonzero(links[i, :]).tolist()) for i in range(links.shape[0])]
    pairs: dict[int, int] = {}
    for j, olds in enumerate(olds_of):  # one pattern, one cluster, linked only to each other
        if len(olds) == 1 and len(news_of[next(iter(olds))]) == 1:
            pairs[j] = next(iter(olds))
    mutual = [
        (-int(n[i, j]), int(i), int(j))
        for i, j in zip(*np.nonzero(links), strict=True)
        if n[i, j] >= LINK_SHARE * sizes[j] and n[i, j] >= LINK_SHARE * fits[i]
    ]
    taken = set(pairs.values())
    for _, i, j in sorted(mutual):
        if j not in pairs and i not in taken:
            pairs[j] = i
            taken.add(i)
    return pairs


def carry_bars(
    previous: Lineage, candidates: list[PatternLineage], fits: np.ndarray, analyzed: int, min_size: int
) -> np.ndarray:
    """Per candidate: the fewest fitting traces it is carried with (rule 1 of the module docstring), `min_size`
    or, for a pattern fewer fit whose history vouches for it, half of it (also the fewest traces a link to a
    cluster needs). `fits` counts this analysis's traces that fit each candidate among its `analyzed` traces; a
    candidate is carried when `fits >= bar`."""
    full = max(min_size, 1)
    floor = max(int(np.ceil(CARRY_FLOOR * min_size)), 1)
    before = previous.steps[-1].analyzed
    alive = [p.latest.step == previous.step for p in candidates]
    held = np.asarray([p.latest.trace_count if a else 0 for p, a in zip(candidates, alive, strict=True)])
    # then: the earlier batch's traces counted by the rule `fits` counts by (older files: its members)
    then = np.asarray(
        [
            (p.latest.fits_own if p.latest.fits_own is not None else p.latest.trace_count) if a else 0
            for p, a in zip(candidates, alive, strict=True)
        ]
    )
    # given fits + then traces in the two analyses, fits ~ Binomial(fits + then, analyzed / (analyzed + before))
    # when the pattern's rate did not change
    same_rate = analyzed / (analyzed + before) if analyzed + before else 0.0
    not_dropped = stats.binom.cdf(fits, fits + then, same_rate) >= GONE_ALPHA
    vouched = (held >= full) & (before > 0) & (analyzed > 0) & not_dropped & (fits < full)
    return np.where(vouched, floor, full).astype(float)


def assign(previous: Lineage, vectors: np.ndarray, labels: np.ndarray, min_size: int) -> Assignment:
    """Assign this batch's traces (`vectors`, clustered as `labels`) to `previous`'s patterns and find the rest's
    patterns (the rules: module docstring). `min_size` is the clustering's minimum cluster size."""
    candidates, fitted = fit_candidates(previous, vectors, labels)
    fits = np.bincount(fitted[fitted >= 0], minlength=len(candidates)).astype(float)
    bars = carry_bars(previous, candidates, fits, len(labels), min_size)
    carried = fits >= bars
    owner = np.where((fitted >= 0) & carried[np.maximum(fitted, 0)], fitted, -1)

    clusters = sorted(int(c) for c in set(labels.tolist()) if c >= 0)
    column = {cid: j for j, cid in enumerate(clusters)}
    sizes = np.asarray([(labels == cid).sum() for cid in clusters], dtype=float)
    n = np.zeros((len(candidates), len(clusters)), dtype=int)
    for old, lab in zip(owner.tolist(), labels.tolist(), strict=True):
        if old >= 0 and lab >= 0:
            n[old, column[lab]] += 1
    links = _links(n, sizes, fits, bars) & carried[:, None]
    pairs = _pairs(n, links, sizes, fits)
    paired = {i: j for j, i in pairs.items()}
    continues = {i for i in range(len(candidates)) if carried[i] and (i in paired or not links[i].any())}

    keys: list[tuple[int, str, int]] = [(0, "old", i) for i in sorted(continues)]
    keys += [(1, "cluster", j) for j in range(len(clusters)) if j not in pairs and links[:, j].any()]
    own = {key: g for g, key in enumerate(keys)}
    out = np.full(len(labels), -1, dtype=int)
    rest: dict[int, list[int]] = defaultdict(list)
    for row, (old, lab) in enumerate(zip(owner.tolist(), labels.tolist(), strict=True)):
        j = column.get(lab, -1)
        target: tuple[int, str, int] | None = None
        if old >= 0 and j >= 0 and links[old, j] and j in pairs:
            target = (0, "old", old if old in continues else pairs[j])
        elif old >= 0 and j >= 0 and links[old, j]:
            target = (1, "cluster", j)  # a part of its own (split off, or merged from several)
        elif old >= 0 and old in continues:
            target = (0, "old", old)
        elif j >= 0 and j not in pairs and links[:, j].any():
            target = (1, "cluster", j)  # a left-over trace of a split or merged part joins it
        if target is not None:
            out[row] = own[target]
        elif j >= 0:
            rest[j].append(row)
    groups: dict[int, Group] = {}
    for key, g in own.items():
        if key[1] == "old":
            i = key[2]
            absorbed = [int(k) for k in np.flatnonzero(links[:, paired[i]]) if k != i] if i in paired else []
            groups[g] = Group("continuing", i, tuple(k for k in absorbed if k not in continues))
        else:
            linked = tuple(int(k) for k in np.flatnonzero(links[:, key[2]]))
            groups[g] = Group("split" if len(linked) == 1 else "merged", None, linked)
    for j in sorted(rest):
        if len(rest[j]) >= max(min_size, 1):
            g = len(groups)
            groups[g] = Group("new", None, ())
            out[rest[j]] = g

    def group_of(j: int) -> int:
        return own[(0, "old", pairs[j])] if j in pairs else own[(1, "cluster", j)]

    endings: dict[int, Ending] = {}
    for i in range(len(candidates)):
        if i in continues:
            continue
        into = tuple(sorted({group_of(int(j)) for j in np.flatnonzero(links[i])}))
        fate: Fate = "gone" if not into else ("merged" if len(into) == 1 else "split")
        endings[i] = Ending(fate, into)
    return Assignment(candidates, out, groups, endings, fits, int((fitted >= 0).sum()))
