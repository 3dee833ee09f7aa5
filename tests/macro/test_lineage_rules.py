"""The lineage rules on constructed cases: embeddings placed by hand around chosen directions, clusterings given
directly, so each case (continuing, new, gone, returned, split, merged) is exactly the situation it names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evswarm.core.lineage import Lineage
from evswarm.macro.centroids import centres, fit
from evswarm.macro.lineage import BatchPatterns, LineageResult, extend, start, then_prevalence

DIM = 16
EMBEDDER = "test-embedder/v1"


def _direction(k: int, lean: int | None = None, amount: float = 0.12) -> np.ndarray:
    """Unit vector along axis k, leaning a little toward axis `lean` (close patterns share an axis)."""
    v = np.zeros(DIM)
    v[k] = 1.0
    if lean is not None:
        v[lean] = amount
    return v / np.linalg.norm(v)


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
    clusters = sorted({c for _, c, _ in groups if c >= 0})
    sizes = {c: int((lab == c).sum()) for c in clusters}
    order = sorted(clusters, key=lambda c: (-sizes[c], c))
    ranked = pd.DataFrame(
        {
            "cluster_id": order,
            "rank": range(1, len(order) + 1),
            "trace_count": [sizes[c] for c in order],
            "prevalence": [sizes[c] / traces for c in order],
        }
    )
    names = {c: f"cluster {c} of batch {seed}" for c in clusters}
    return BatchPatterns(vectors, lab, ranked, names, EMBEDDER, f"batch-{seed}", traces, min_link=4)


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
    again = extend(first.lineage, _batch([(C, 0, 50), (A, 1, 35), (B, 2, 25)], seed=2), "old")
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
    later = extend(first.lineage, _batch([(A, 0, 40), (B, 1, 30), (D, 2, 25)], seed=3), "old")
    assert later.to_pattern[2] == 4  # fresh: next_id, never an old id
    assert _latest(later.lineage, 4) == ("new", [])
    assert _latest(later.lineage, 3) == ("gone", [])
    gone = later.lineage.by_id()[3]
    assert gone.latest.trace_count == 0 and [s.step for s in gone.history] == [1, 2]
    assert later.lineage.next_id == 5
    # and when its traces come back, it returns under its old id and name
    back = extend(later.lineage, _batch([(A, 0, 40), (C, 1, 22)], seed=4), "older")
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
    later = extend(first.lineage, apart, "old")
    new_ids = sorted(later.to_pattern[c] for c in (0, 1, 2))
    assert new_ids == [3, 4, 5]
    assert _latest(later.lineage, 1) == ("split", new_ids)
    assert all(_latest(later.lineage, pid) == ("split", [1]) for pid in new_ids)
    assert _latest(later.lineage, 2)[0] == "continuing"
    assert then_prevalence(later.lineage, later.lineage.by_id()[3]) == pytest.approx(0.045)


def test_a_split_where_one_part_keeps_most_of_the_pattern_continues_in_that_part() -> None:
    parts = [_direction(0, 5), _direction(0, 6)]
    first = start(_batch([(parts[0], 0, 25), (parts[1], 0, 15), (B, 1, 30)], seed=7))
    later = extend(first.lineage, _batch([(parts[0], 0, 28), (parts[1], 1, 12), (B, 2, 30)], seed=8), "old")
    assert later.to_pattern[0] == 1 and _latest(later.lineage, 1) == ("continuing", [])
    assert later.to_pattern[1] == 3 and _latest(later.lineage, 3) == ("split", [1])


def test_patterns_that_join_are_merged() -> None:
    parts = [_direction(0, 5), _direction(0, 6), _direction(0, 7)]
    first = start(_batch([(parts[0], 0, 15), (parts[1], 1, 14), (parts[2], 2, 13), (B, 3, 30)], seed=9))
    assert sorted(first.to_pattern[c] for c in (0, 1, 2)) == [2, 3, 4]
    later = extend(
        first.lineage, _batch([(parts[0], 0, 14), (parts[1], 0, 14), (parts[2], 0, 14), (B, 1, 30)], 10), "o"
    )
    merged = later.to_pattern[0]
    assert merged == 5 and _latest(later.lineage, merged) == ("merged", [2, 3, 4])
    assert all(_latest(later.lineage, pid) == ("merged", [merged]) for pid in (2, 3, 4))
    assert then_prevalence(later.lineage, later.lineage.by_id()[merged]) == pytest.approx(0.042)


def test_a_pattern_absorbed_by_a_larger_one_is_merged_into_it() -> None:
    parts = [_direction(0, 5), _direction(0, 6)]
    first = start(_batch([(parts[0], 0, 30), (parts[1], 1, 12), (B, 2, 30)], seed=11))
    later = extend(first.lineage, _batch([(parts[0], 0, 30), (parts[1], 0, 12), (B, 1, 30)], seed=12), "old")
    assert later.to_pattern[0] == 1
    assert _latest(later.lineage, 1) == ("continuing", [3])
    assert _latest(later.lineage, 3) == ("merged", [1])


def test_a_few_strays_do_not_make_a_link() -> None:
    first = _first()
    # three traces like pattern 3 land in a cluster of otherwise new traces: fewer than min_link (4)
    mixed = _batch([(A, 0, 40), (B, 1, 30), (D, 2, 30), (C, 2, 3)], seed=13)
    later = extend(first.lineage, mixed, "old")
    assert _latest(later.lineage, later.to_pattern[2]) == ("new", [])
    assert _latest(later.lineage, 3) == ("gone", [])
    assert later.lineage.by_id()[3].latest.fitted == 3


def test_a_new_name_never_repeats_a_name_of_the_chain() -> None:
    first = _first()
    batch = _batch([(A, 0, 40), (B, 1, 30), (D, 2, 25)], seed=1)  # same seed: the new cluster's name is taken
    later = extend(first.lineage, batch, "old")
    assert later.labels[4] == "cluster 2 of batch 1 (P4)"


def test_a_trace_fits_its_nearest_centre_only_within_the_radius() -> None:
    vectors = np.vstack([np.tile(A, (10, 1)), np.tile(B, (10, 1))]).astype(np.float32)
    found = centres(vectors, np.asarray([0] * 10 + [1] * 10))
    # identical members: the radius is half the gap between the two centres (cosine distance 1 -> 0.5)
    assert found[0].radius == pytest.approx(0.5, abs=1e-4)
    probe = np.vstack([A, _direction(0, 1, 0.5), C]).astype(np.float32)
    assert fit(probe, [found[0], found[1]]).tolist() == [0, 0, -1]
