"""The lineage rules on constructed cases: embeddings placed by hand around chosen directions, clusterings given
directly, so each case (continuing, new, gone, returned, split, merged, carried by assignment alone) is exactly
the situation it names. A later analysis goes through `assign` (assignment first) and `extend`, as the pipeline
does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evswarm.core.lineage import Lineage
from evswarm.macro.assignment import assign
from evswarm.macro.centroids import centres, fit
from evswarm.macro.lineage import BatchPatterns, LineageResult, extend, start, then_prevalence

DIM = 16
EMBEDDER = "test-embedder/v1"
MIN_SIZE = 8
"""The clustering's minimum cluster size in these cases (the default's floor)."""


def _direction(k: int, lean: int | None = None, amount: float = 0.12) -> np.ndarray:
    """Unit vector along axis k, leaning a little toward axis `lean` (close patterns share an axis)."""
    v = np.zeros(DIM)
    v[k] = 1.0
    if lean is not None:
        v[lean] = amount
    return v / np.linalg.norm(v)


def _ranked(labels: np.ndarray, traces: int) -> pd.DataFrame:
    groups = sorted({int(c) for c in labels.tolist() if c >= 0})
    sizes = {c: int((labels == c).sum()) for c in groups}
    order = sorted(groups, key=lambda c: (-sizes[c], c))
    return pd.DataFrame(
        {
            "cluster_id": order,
            "rank": range(1, len(order) + 1),
            "trace_count": [sizes[c] for c in order],
            "prevalence": [sizes[c] / traces for c in order],
        }
    )


def _batch(groups: list[tuple[np.ndarray, int, int]], seed: int, traces: int = 1000) -> BatchPatterns:
    """`groups`: (direction, cluster id, members); members scatter a little around their direction."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for direction, cid, count in groups:
        x = direction + rng.normal(0, 0.01, size=(count, DIM))
        rows.append(x / np.linalg.norm(x, axis=1, keepdims=True))
        labels += [cid] * count
    vectors = np.vstack(rows).astype(np.float32)
    lab = np.asarray(labels)
    names = {c: f"cluster {c} of batch {seed}" for c in sorted({c for _, c, _ in groups if c >= 0})}
    return BatchPatterns(vectors, lab, _ranked(lab, traces), names, EMBEDDER, f"batch-{seed}", traces)


def _later(previous: Lineage, batch: BatchPatterns, min_size: int = MIN_SIZE) -> LineageResult:
    """`batch` (its labels: the clustering) as the next step after `previous`: assignment first, then extend.
    The result's `to_pattern` is keyed by the clustering's cluster ids (a cluster -> the pattern most of its traces
    are in), so the cases read in the clusters they were built from."""
    planned = assign(previous, batch.vectors, batch.labels, min_size)
    groups = planned.labels
    names = {}
    for g in sorted({int(x) for x in groups.tolist() if x >= 0}):
        clusters = batch.labels[groups == g]
        top = int(np.bincount(clusters[clusters >= 0]).argmax()) if (clusters >= 0).any() else -1
        names[g] = batch.names.get(top, f"group {g} of {batch.batch}")
    grouped = BatchPatterns(
        batch.vectors, groups, _ranked(groups, batch.traces), names, batch.embedder, batch.batch, batch.traces
    )
    result = extend(previous, grouped, planned, "old")
    by_cluster = {-1: -1}
    for c in sorted({int(x) for x in batch.labels.tolist() if x >= 0}):
        mine = groups[batch.labels == c]
        top = int(np.bincount(mine[mine >= 0]).argmax()) if (mine >= 0).any() else -1
        by_cluster[c] = result.to_pattern[top]
    return LineageResult(by_cluster, result.labels, result.lineage)


A, B, C, D = (_direction(k) for k in range(4))


def _first() -> LineageResult:
    return start(_batch([(A, 0, 40), (B, 1, 30), (C, 2, 20)], seed=1))


def _by_label(result: LineageResult) -> dict[str, int]:
    return {label: pid for pid, label in result.labels.items()}


def _latest(chain: Lineage, pid: int) -> tuple[str, list[int]]:
    p = chain.by_id()[pid]
    return p.latest.status, p.latest.related


def test_the_first_analysis_gives_rank_ids_and_every_pattern_is_new() -> None:
    first = _first()
    assert first.to_pattern == {-1: -1, 0: 1, 1: 2, 2: 3}
    assert [_latest(first.lineage, pid)[0] for pid in (1, 2, 3)] == ["new"] * 3
    assert first.lineage.next_id == 4 and first.lineage.step == 1
    assert then_prevalence(first.lineage, first.lineage.by_id()[1]) is None


def test_continuing_patterns_keep_their_ids_and_names_even_when_their_rank_changes() -> None:
    first = _first()
    # the same three patterns, other traces, other sizes (so other ranks) and other cluster numbers
    again = _later(first.lineage, _batch([(C, 0, 50), (A, 1, 35), (B, 2, 25)], seed=2))
    assert again.to_pattern == {-1: -1, 0: 3, 1: 1, 2: 2}
    assert again.labels == first.labels
    assert {pid: _latest(again.lineage, pid)[0] for pid in (1, 2, 3)} == {
        1: "continuing",
        2: "continuing",
        3: "continuing",
    }
    assert again.lineage.next_id == 4
    assert then_prevalence(again.lineage, again.lineage.by_id()[3]) == pytest.approx(0.02)


def test_a_new_pattern_gets_a_fresh_id_and_an_absent_one_is_gone() -> None:
    first = _first()
    later = _later(first.lineage, _batch([(A, 0, 40), (B, 1, 30), (D, 2, 25)], seed=3))
    assert later.to_pattern[2] == 4  # fresh: next_id, never an old id
    assert _latest(later.lineage, 4) == ("new", [])
    assert _latest(later.lineage, 3) == ("gone", [])
    gone = later.lineage.by_id()[3]
    assert gone.latest.trace_count == 0 and [s.step for s in gone.history] == [1, 2]
    assert later.lineage.next_id == 5
    # and when its traces come back, it returns under its old id and name
    back = _later(later.lineage, _batch([(A, 0, 40), (C, 1, 22)], seed=4))
    assert back.to_pattern[1] == 3 and back.labels[3] == first.labels[3]
    assert _latest(back.lineage, 3) == ("returned", [])
    assert _latest(back.lineage, 2) == ("gone", []) and _latest(back.lineage, 4) == ("gone", [])


def test_a_pattern_that_falls_apart_is_split_and_its_parts_get_fresh_ids() -> None:
    # one old pattern spread over three nearby directions; now three clusters
    parts = [_direction(0, 5), _direction(0, 6), _direction(0, 7)]
    wide = _batch([(parts[0], 0, 15), (parts[1], 0, 15), (parts[2], 0, 15), (B, 1, 30)], seed=5)
    first = start(wide)
    assert first.to_pattern[0] == 1
    apart = _batch([(parts[0], 0, 15), (parts[1], 1, 14), (parts[2], 2, 13), (B, 3, 30)], seed=6)
    later = _later(first.lineage, apart)
    new_ids = sorted(later.to_pattern[c] for c in (0, 1, 2))
    assert new_ids == [3, 4, 5]
    assert _latest(later.lineage, 1) == ("split", new_ids)
    assert all(_latest(later.lineage, pid) == ("split", [1]) for pid in new_ids)
    assert _latest(later.lineage, 2)[0] == "continuing"
    assert then_prevalence(later.lineage, later.lineage.by_id()[3]) == pytest.approx(0.045)


def test_a_split_where_one_part_keeps_most_of_the_pattern_continues_in_that_part() -> None:
    parts = [_direction(0, 5), _direction(0, 6)]
    first = start(_batch([(parts[0], 0, 25), (parts[1], 0, 15), (B, 1, 30)], seed=7))
    later = _later(first.lineage, _batch([(parts[0], 0, 28), (parts[1], 1, 12), (B, 2, 30)], seed=8))
    assert later.to_pattern[0] == 1 and _latest(later.lineage, 1) == ("continuing", [])
    assert later.to_pattern[1] == 3 and _latest(later.lineage, 3) == ("split", [1])


def test_patterns_that_join_are_merged() -> None:
    parts = [_direction(0, 5), _direction(0, 6), _direction(0, 7)]
    first = start(_batch([(parts[0], 0, 15), (parts[1], 1, 14), (parts[2], 2, 13), (B, 3, 30)], seed=9))
    assert sorted(first.to_pattern[c] for c in (0, 1, 2)) == [2, 3, 4]
    later = _later(first.lineage, _batch([(parts[0], 0, 14), (parts[1], 0, 14), (parts[2], 0, 14), (B, 1, 30)], 10))
    merged = later.to_pattern[0]
    assert merged == 5 and _latest(later.lineage, merged) == ("merged", [2, 3, 4])
    assert all(_latest(later.lineage, pid) == ("merged", [merged]) for pid in (2, 3, 4))
    assert then_prevalence(later.lineage, later.lineage.by_id()[merged]) == pytest.approx(0.042)


def test_a_pattern_absorbed_by_a_larger_one_is_merged_into_it() -> None:
    parts = [_direction(0, 5), _direction(0, 6)]
    first = start(_batch([(parts[0], 0, 30), (parts[1], 1, 12), (B, 2, 30)], seed=11))
    later = _later(first.lineage, _batch([(parts[0], 0, 30), (parts[1], 0, 12), (B, 1, 30)], seed=12))
    assert later.to_pattern[0] == 1
    assert _latest(later.lineage, 1) == ("continuing", [3])
    assert _latest(later.lineage, 3) == ("merged", [1])


def test_a_few_strays_do_not_make_a_link() -> None:
    first = _first()
    # three traces like pattern 3 land in a cluster of otherwise new traces: fewer than the minimum cluster size
    mixed = _batch([(A, 0, 40), (B, 1, 30), (D, 2, 30), (C, 2, 3)], seed=13)
    later = _later(first.lineage, mixed)
    assert _latest(later.lineage, later.to_pattern[2]) == ("new", [])
    assert _latest(later.lineage, 3) == ("gone", [])
    assert later.lineage.by_id()[3].latest.fitted == 3


def test_a_pattern_the_clustering_leaves_as_noise_continues_by_assignment_with_all_its_traces() -> None:
    first = _first()
    # pattern 3's traces are back, but the clustering calls them noise
    batch = _batch([(A, 0, 40), (B, 1, 30), (C, -1, 12)], seed=20)
    planned = assign(first.lineage, batch.vectors, batch.labels, MIN_SIZE)
    carried = planned.labels[batch.labels == -1]
    assert len(set(carried.tolist())) == 1 and carried[0] >= 0  # all 12 in one pattern
    later = _later(first.lineage, batch)
    three = later.lineage.by_id()[3]
    assert three.label == first.labels[3]
    assert (three.latest.status, three.latest.trace_count, three.latest.basis) == ("continuing", 12, "assignment")
    step = later.lineage.steps[-1]
    assert (step.fitted, step.assigned, step.clustered) == (82, 82, 0)


def test_a_pattern_the_clustering_scatters_as_minorities_keeps_its_id_and_its_traces() -> None:
    first = _first()
    # pattern 3's 20 traces: 7 in A's cluster, 7 in B's, 6 noise; none of the clusters is mostly them
    batch = _batch([(A, 0, 40), (C, 0, 7), (B, 1, 30), (C, 1, 7), (C, -1, 6)], seed=21)
    later = _later(first.lineage, batch)
    assert {pid: _latest(later.lineage, pid)[0] for pid in (1, 2, 3)} == dict.fromkeys((1, 2, 3), "continuing")
    assert [later.lineage.by_id()[pid].latest.trace_count for pid in (1, 2, 3)] == [40, 30, 20]


def test_traces_joined_to_a_continuing_pattern_but_unlike_it_form_a_new_pattern() -> None:
    first = _first()
    # the clustering puts 10 traces of a direction no earlier pattern has into pattern 1's cluster
    batch = _batch([(A, 0, 40), (D, 0, 10), (B, 1, 30), (C, 2, 20)], seed=22)
    later = _later(first.lineage, batch)
    assert _latest(later.lineage, 1) == ("continuing", []) and later.lineage.by_id()[1].latest.trace_count == 40
    new = [p for p in later.lineage.patterns if p.history[0].step == 2]
    assert len(new) == 1 and (new[0].latest.status, new[0].latest.trace_count) == ("new", 10)
    assert new[0].latest.basis == "clustering" and later.lineage.steps[-1].clustered == 10


def test_too_few_fitted_traces_make_a_pattern_gone_even_when_the_clustering_groups_them() -> None:
    first = _first()
    # 7 traces like pattern 3 (one fewer than the minimum cluster size) form a cluster of their own
    batch = _batch([(A, 0, 40), (B, 1, 30), (C, 2, 7)], seed=23)
    planned = assign(first.lineage, batch.vectors, batch.labels, MIN_SIZE)
    assert (planned.labels[batch.labels == 2] == -1).all()  # left over and too few: noise
    later = _later(first.lineage, batch)
    assert _latest(later.lineage, 3) == ("gone", []) and later.lineage.by_id()[3].latest.fitted == 7
    assert 3 not in later.labels
    # with one more, it continues
    again = _later(first.lineage, _batch([(A, 0, 40), (B, 1, 30), (C, 2, 8)], seed=23))
    assert _latest(again.lineage, 3) == ("continuing", [])


def test_a_small_pattern_fewer_traces_fit_continues_while_sampling_explains_the_drop() -> None:
    # pattern 3 held 9 of 79 analyzed traces; 5 of 75 now fit it (8.5 expected at the same rate): fewer than the
    # minimum cluster size, but a drop sampling alone explains
    small = start(_batch([(A, 0, 40), (B, 1, 30), (C, 2, 9)], seed=1))
    later = _later(small.lineage, _batch([(A, 0, 40), (B, 1, 30), (C, 2, 5)], seed=25))
    assert _latest(later.lineage, 3) == ("continuing", [])
    assert later.lineage.by_id()[3].latest.trace_count == 5 and later.labels[3] == small.labels[3]
    # the grace lasts one step: held 5 now, so 5 fits the next time are too few
    after = _later(later.lineage, _batch([(A, 0, 40), (B, 1, 30), (C, 2, 5)], seed=26))
    assert _latest(after.lineage, 3) == ("gone", [])
    # the same 5 against a pattern that held 20 of 90 (16.7 expected): significantly fewer, gone
    big = _later(_first().lineage, _batch([(A, 0, 40), (B, 1, 30), (C, 2, 5)], seed=25))
    assert _latest(big.lineage, 3) == ("gone", [])
    # below half the minimum cluster size, gone whatever its history
    few = _later(small.lineage, _batch([(A, 0, 40), (B, 1, 30), (C, 2, 3)], seed=25))
    assert _latest(few.lineage, 3) == ("gone", []) and few.lineage.by_id()[3].latest.fitted == 3


def test_the_earlier_count_the_test_compares_with_is_taken_by_the_same_fit_rule() -> None:
    # 9 members and 6 unclustered traces beside them: 15 of the first batch's traces fit pattern 3's centre
    crowded = start(_batch([(A, 0, 40), (B, 1, 30), (C, 2, 9), (C, -1, 6)], seed=1))
    state = crowded.lineage.by_id()[3].latest
    assert (state.trace_count, state.fits_own) == (9, 15)
    assert crowded.lineage.by_id()[1].latest.fits_own == 40
    # 5 fits now against 15 then (not against its 9 members): a significant drop, gone
    later = _later(crowded.lineage, _batch([(A, 0, 40), (B, 1, 30), (C, 2, 5)], seed=25))
    assert _latest(later.lineage, 3) == ("gone", [])


def test_the_earlier_count_leaves_out_traces_that_a_gone_pattern_takes_back_later() -> None:
    # step 1: pattern 3 (C) and pattern 4 (C leaning to D, a near variant); step 2: 4 is gone, its 3 traces fit
    # pattern 3's centre now but will fit 4's again at step 3, so they do not count for 3 at step 2
    near = _direction(2, lean=3, amount=0.9)
    first = start(_batch([(A, 0, 40), (B, 1, 30), (C, 2, 12), (near, 3, 9)], seed=1))
    second = _later(first.lineage, _batch([(A, 0, 40), (B, 1, 30), (C, 2, 12), (near, 3, 3)], seed=28))
    pid_c, pid_near = first.to_pattern[2], first.to_pattern[3]
    assert _latest(second.lineage, pid_near) == ("gone", [])
    assert second.lineage.by_id()[pid_c].latest.fits_own == 12


def test_two_patterns_of_one_document_share_their_own_fits_as_later_traces_would() -> None:
    # two clusters of exactly the same document: equally near both centres, so each cluster's traces count for
    # one of them (not all for the first, which would leave the other nothing to compare a later count with)
    base = _batch([(A, 0, 40), (B, 1, 20), (B, 2, 20)], seed=29)
    vectors = base.vectors.copy()
    vectors[40:] = B.astype(np.float32)
    twins = start(BatchPatterns(vectors, base.labels, base.ranked, base.names, EMBEDDER, base.batch, base.traces))
    own = [twins.lineage.by_id()[twins.to_pattern[c]].latest.fits_own for c in (1, 2)]
    assert own == [20, 20]


def test_a_pattern_carried_by_the_test_is_still_checked_against_the_clustering() -> None:
    small = start(_batch([(A, 0, 40), (B, 1, 30), (C, 2, 9)], seed=1))
    # its 5 fitting traces lie inside pattern 1's cluster: linked at its own bar (half the minimum), it merges
    later = _later(small.lineage, _batch([(A, 0, 40), (B, 1, 30), (C, 0, 5)], seed=27))
    assert _latest(later.lineage, 3) == ("merged", [1]) and _latest(later.lineage, 1)[0] == "continuing"
    assert later.lineage.by_id()[1].latest.trace_count == 45


def test_a_small_new_group_of_left_over_traces_is_noise_not_a_pattern() -> None:
    first = _first()
    later = _later(first.lineage, _batch([(A, 0, 40), (B, 1, 30), (C, 2, 20), (D, 3, 7)], seed=24))
    assert later.lineage.next_id == 4 and later.to_pattern[3] == -1


def test_a_new_name_never_repeats_a_name_of_the_chain() -> None:
    first = _first()
    batch = _batch([(A, 0, 40), (B, 1, 30), (D, 2, 25)], seed=1)  # same seed: the new cluster's name is taken
    later = _later(first.lineage, batch)
    assert later.labels[4] == "cluster 2 of batch 1 (P4)"


def test_a_trace_fits_its_nearest_centre_only_within_the_radius() -> None:
    vectors = np.vstack([np.tile(A, (10, 1)), np.tile(B, (10, 1))]).astype(np.float32)
    found = centres(vectors, np.asarray([0] * 10 + [1] * 10))
    # identical members: the radius is half the gap between the two centres (cosine distance 1 -> 0.5)
    assert found[0].radius == pytest.approx(0.5, abs=1e-4)
    probe = np.vstack([A, _direction(0, 1, 0.5), C]).astype(np.float32)
    assert fit(probe, [found[0], found[1]]).tolist() == [0, 0, -1]
