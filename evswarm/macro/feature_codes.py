"""Feature tables in integer codes: which runs have which feature, counted per peer group.

`behavior` compares failing traces with their peers through the share of a set of runs having each step
feature, per peer group. Done on strings, every grouping hashes millions of feature strings again; here a
feature table is coded once (`Coded`: per row, the position of its run among the traces and the code of its
feature) and every count is a `numpy.unique` over 64-bit combinations of codes.

Contract: codes never leak out; `behavior` turns results back into rows of the feature table it was given.
Every set of runs counted (passing, failing, a group) is a set of runs of the traces table: a run outside it
is not counted, and shares are taken over the traces' runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_PEERS = 10
"""A peer group with fewer than this many runs of a population has no shares of its own (and, in
`behavior.peer_keys`, a case type with fewer traces than this in a group is compared with all traces)."""


def distinct(values: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """The sorted distinct values of an integer array. A sort: numpy's hash-based `unique` (what
    `np.unique` does when asked for the values alone) is an order of magnitude slower on large arrays.
    `in_place`: sort `values` itself (the caller's array is reordered) instead of a copy of it."""
    if in_place:
        values.sort()
        ordered = values
    else:
        ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The value of each wanted key in sorted `keys` (`values` beside them); 0 where a key is absent."""
    if not len(keys):
        return np.zeros(len(wanted))
    where = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[where] == wanted, values[where], 0.0)


def ragged(counts: np.ndarray, owner_dtype: type = np.int64) -> tuple[np.ndarray, np.ndarray]:
    """For items that own `counts[i]` entries each, laid end to end: each entry's owner (as `owner_dtype`)
    and its place among its owner's entries."""
    owner: np.ndarray = np.repeat(np.arange(len(counts), dtype=owner_dtype), counts)
    ends = np.cumsum(counts, dtype=np.int64)
    return owner, np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64) - np.repeat(ends - counts, counts)


DENSE_LIMIT = 1 << 22
"""`CountTable` keeps a slot for every possible combination up to this many (32 MiB per float array)."""


@dataclass(frozen=True)
class CountTable:
    """Counts of integer combinations `0 <= c < size`, one slot per combination in `combos` (sorted): every
    possible one when `size` is at most `DENSE_LIMIT` (no sort, no second copy of the items), else the
    distinct ones present."""

    combos: np.ndarray
    slots: np.ndarray
    """Per item: its slot."""
    dense: bool

    @classmethod
    def of(cls, items: np.ndarray, size: int) -> CountTable:
        if size <= DENSE_LIMIT:
            return cls(np.arange(size, dtype=np.int64), items, dense=True)
        combos, slots = np.unique(items, return_inverse=True)
        return cls(combos, slots, dense=False)

    def count(self, mask: np.ndarray) -> np.ndarray:
        """Per slot: how many of the items `mask` selects hold it (float)."""
        return np.bincount(self.slots[mask], minlength=len(self.combos)).astype(float)

    def index_of(self, wanted: np.ndarray) -> np.ndarray:
        """The slot of each wanted combination (each must be among `combos`)."""
        return wanted if self.dense else np.searchsorted(self.combos, wanted)


@dataclass(frozen=True)
class Coded:
    """A feature table (run_id, feature) in codes, beside the traces table it belongs to."""

    run: np.ndarray
    """Per row: the position of its run in the traces table, -1 for a run the table does not hold (int32:
    widen before arithmetic that can pass 2**31)."""
    feature: np.ndarray
    """Per row: its feature's code (an index into `names`; int32)."""
    names: pd.Index
    """The features, by code."""
    run_ids: np.ndarray
    """The traces' run ids, by position."""

    @property
    def n_features(self) -> int:
        return len(self.names)

    def pairs(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The distinct (run position, feature code) pairs of `rows` (all rows by default), sorted (int32)."""
        run, feature = (self.run, self.feature) if rows is None else (self.run[rows], self.feature[rows])
        n = max(self.n_features, 1)
        both = run.astype(np.int64)  # a fresh array, combined and sorted in place: no second copy of it
        both += 1  # a run outside the traces is -1
        both *= n
        both += feature
        del run, feature
        both = distinct(both, in_place=True)
        return (both // n - 1).astype(np.int32), (both % n).astype(np.int32)

    def among(self, runs: set[str]) -> np.ndarray:
        """Per trace position: whether its run is in `runs`."""
        return np.fromiter((r in runs for r in self.run_ids), dtype=bool, count=len(self.run_ids))


def code(features: pd.DataFrame, traces: pd.DataFrame) -> Coded:
    """Code a feature table (columns run_id, feature; feature categorical or not) against `traces`."""
    column = features.feature
    if isinstance(column.dtype, pd.CategoricalDtype):
        feature = column.cat.codes.to_numpy().astype(np.int32, copy=False)
        names = pd.Index(column.cat.categories)
    else:
        feature, names = pd.factorize(column)
        feature = feature.astype(np.int32)
        names = pd.Index(names)
    run_ids = traces.run_id.to_numpy(dtype=object)
    position = {run_id: i for i, run_id in enumerate(run_ids)}
    if isinstance(features.run_id.dtype, pd.CategoricalDtype):  # as `behavior.step_features` makes it
        row_runs, distinct = features.run_id.cat.codes.to_numpy(), features.run_id.cat.categories
    else:
        row_runs, distinct = pd.factorize(features.run_id)
    at = np.array([position.get(r, -1) for r in distinct], dtype=np.int32)
    run = at[row_runs] if len(row_runs) else np.zeros(0, dtype=np.int32)
    return Coded(run, feature, names, run_ids)


@dataclass(frozen=True)
class Keys:
    """A peer-group key per trace position (`codes` into `names`); a run outside the traces gets `*`."""

    codes: np.ndarray
    names: pd.Index

    def of_rows(self, coded: Coded) -> np.ndarray:
        """Per feature row: its run's key code (the code of `*` for runs outside the traces)."""
        out = self.codes[np.maximum(coded.run, 0)]
        out[coded.run < 0] = self.star()
        return out

    def star(self) -> int:
        """The code of `*`, added to `names` when missing (see `keys_of`)."""
        return int(self.names.get_loc("*"))


def keys_of(values: pd.Series) -> Keys:
    """Keys from one string per trace position (a missing one is `*`); `*` is always among the names."""
    codes, names = pd.factorize(values.astype(object).where(values.notna(), "*").to_numpy())
    names = pd.Index(names, dtype=object)
    if "*" not in names:
        names = names.append(pd.Index(["*"], dtype=object))
    return Keys(codes.astype(np.int64), names)


@dataclass(frozen=True)
class Shares:
    """The share of a set of runs having each feature: `overall` (by feature code) and per key, for keys
    with at least `MIN_PEERS` of the runs (`keyed`: sorted key * F + feature, `keyed_share` beside it)."""

    keys: Keys
    overall: np.ndarray
    keyed: np.ndarray
    keyed_share: np.ndarray
    known: np.ndarray
    """Per key code: whether the key has shares of its own."""

    def at(self, key: np.ndarray, feature: np.ndarray, n_features: int) -> np.ndarray:
        """The keyed share of each (key, feature); 0 where the key has none or no run has the feature."""
        return lookup(self.keyed, self.keyed_share, key.astype(np.int64) * n_features + feature)


def shares(coded: Coded, keys: Keys, runs: np.ndarray) -> Shares | None:
    """Shares of the runs marked in `runs` (per trace position). None when none of those runs has a feature."""
    n = coded.n_features
    mask = coded.run >= 0
    mask[mask] = runs[coded.run[mask]]
    run, feature = coded.pairs(mask)
    total = int(runs.sum())
    if not len(run) or not total:
        return None
    overall = np.bincount(feature, minlength=n) / total
    key = keys.codes[run]
    sizes = np.bincount(keys.codes[runs], minlength=len(keys.names))
    big = sizes >= MIN_PEERS
    keep = big[key]
    keyed, counts = np.unique(key[keep] * n + feature[keep], return_counts=True)
    keyed_share = counts / sizes[keyed // n]
    known = np.zeros(len(keys.names), dtype=bool)
    known[distinct(keyed // n)] = True
    return Shares(keys, overall, keyed, keyed_share, known)
