"""The trace and event tables of a batch, built from its bundles (each rendered by `normalize`).

`load_tables` reads, validates and renders the bundles in chunks on a compute backend (the local pool or
Ray): each worker reads its bundles itself (straight from `bundles.zip` when the batch is zipped, nothing
extracted) and sends back column lists, so the parent only concatenates. The tables are the same whatever
the backend, the worker count or the chunk size: chunks come back in order, and a run id seen twice keeps
its first bundle.
"""

from __future__ import annotations

import gc
import sqlite3
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from evswarm.compute import Backend, map_chunks
from evswarm.macro.load import BatchSource, Skipped, decode_bundle, run_row_for
from evswarm.macro.normalize import bundle_events, log_aliases
from evswarm.macro.render_cache import RenderCache, bundle_key
from evswarm.macro.trace_rows import trace_row

EVENT_COLUMNS = [
    "run_id",
    "seq",
    "event_id",
    "parent_id",
    "ts",
    "node_kind",
    "agent_name",
    "tool_name",
    "call_id",
    "source_agent",
    "target_agent",
    "marker",
    "text",
    "shape",
    "finding_code",
    "finding_severity",
]
_OPTIONAL_COLUMNS = (
    "tool_name",
    "call_id",
    "source_agent",
    "target_agent",
    "parent_id",
    "finding_code",
    "finding_severity",
)
_SHARED_VALUES = frozenset(
    {"run_id", "node_kind", "agent_name", "tool_name", "source_agent", "target_agent", "marker", "shape"}
    | {"finding_code", "finding_severity"}
)
"""Columns whose values repeat across events: dictionary-encoded on the way back from a worker, and kept in
the table as one string object per distinct value, shared by every cell that holds it."""
CATEGORICAL_COLUMNS = frozenset({"node_kind", "agent_name", "marker", "shape"})
"""Columns held as pandas categoricals (sorted categories, "" for missing): 1-2 bytes a row instead of an
8-byte pointer; `==`, `isin`, `.str` and grouping read them as the strings they hold."""
DETAIL_COLUMNS = frozenset({"ts", "text"})
"""Event columns the analysis does not read, loaded only on request (`load_tables(details=True)`,
`trace_events`): each step's text (the report's stories of a few traces) and its timestamp (events are in
order by then). Left out, the event table of a batch is about half as big."""
TABLE_COLUMNS = [c for c in EVENT_COLUMNS if c not in DETAIL_COLUMNS]
ALIAS_COLUMNS = ["run_id", "alias", "event_id"]
_DICTIONARY = pa.dictionary(pa.int32(), pa.string())


def _schema(columns: list[str]) -> pa.Schema:
    """Event columns as a worker sends them: Arrow buffers, so no per-cell object crosses processes."""
    return pa.schema(
        [
            pa.field(c, pa.int64() if c == "seq" else _DICTIONARY if c in _SHARED_VALUES else pa.string())
            for c in columns
        ]
    )


CHUNK_BUNDLES = 64
"""Bundles per task: big enough to amortize a task's overhead, small enough for a smooth progress bar."""


@dataclass
class Normalized:
    traces: pd.DataFrame
    events: pd.DataFrame
    aliases: pd.DataFrame  # run_id, alias, event_id: log entries that point at a span row


@dataclass
class _Columns:
    """Rendered bundles in column form: what a worker sends back for its chunk (`seal` packs the events)."""

    traces: list[dict[str, Any]] = field(default_factory=list)
    events: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in EVENT_COLUMNS})
    event_counts: list[int] = field(default_factory=list)
    aliases: list[tuple[str, str, str]] = field(default_factory=list)
    """The log entries that point at a span row: (run_id, alias, event_id)."""
    alias_counts: list[int] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    batch: pa.RecordBatch | None = None
    """The events as Arrow columns (see `_schema`), once sealed."""
    alias_batch: pa.RecordBatch | None = None
    """The aliases as Arrow columns (`ALIAS_COLUMNS`), once sealed."""

    def add(self, source: str, rendered: dict[str, Any]) -> None:
        """Append one rendered bundle (see `render`), read from `source`."""
        trace = rendered["trace"]
        trace["source"] = source
        self.traces.append(trace)
        columns = rendered["events"]
        self.event_counts.append(len(columns["run_id"]))
        self.aliases.extend(tuple(a) for a in rendered["aliases"])
        self.alias_counts.append(len(rendered["aliases"]))
        for col, values in self.events.items():
            values.extend(columns[col])

    def seal(self, columns: list[str]) -> None:
        """Pack the event lists of `columns` into `batch` (and drop them all)."""
        schema = _schema(columns)
        arrays = []
        for column in schema:
            values = self.events[column.name]
            if column.name in _SHARED_VALUES:
                arrays.append(pa.array(values, pa.string()).dictionary_encode())
            else:
                arrays.append(pa.array(values, column.type))
        self.batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
        self.events = {}
        run_ids, names, targets = (list(c) for c in zip(*self.aliases, strict=True)) if self.aliases else ([], [], [])
        alias_arrays = [pa.array(run_ids, pa.string()).dictionary_encode(), pa.array(names), pa.array(targets)]
        self.alias_batch = pa.RecordBatch.from_arrays(alias_arrays, schema=_schema(ALIAS_COLUMNS))
        self.aliases = []


def render(bundle: dict[str, Any], run_rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One bundle as its trace row (without `source`), its event columns and its log aliases (JSON-ready)."""
    run_id = str((bundle.get("run") or {}).get("run_id"))
    events = bundle_events(bundle, run_id)
    trace = trace_row(bundle, events, run_rows.get(run_id), "")
    del trace["source"]
    return {
        "trace": trace,
        "events": {col: [e.get(col) for e in events] for col in EVENT_COLUMNS},
        "aliases": [(run_id, a, e) for a, e in log_aliases(bundle)],
    }


def _frames(parts: Iterable[_Columns], columns: list[str]) -> Normalized:
    """Concatenate sealed chunks in order into the tables; a run id seen again is dropped."""
    traces: list[dict[str, Any]] = []
    events: list[pa.RecordBatch] = []
    aliases: list[pa.RecordBatch] = []
    seen: set[str] = set()
    for part in parts:
        assert part.batch is not None and part.alias_batch is not None, "chunks are sealed by the worker"
        kept: list[bool] = []
        for row in part.traces:
            kept.append(row["run_id"] not in seen)
            if kept[-1]:
                seen.add(row["run_id"])
                traces.append(row)
        events.append(_bundles_rows(part.batch, part.event_counts, kept))
        aliases.append(_bundles_rows(part.alias_batch, part.alias_counts, kept))
        part.batch = part.alias_batch = None  # `_frame` frees each column as it converts it: hold no copy
    trace_df = pd.DataFrame(traces)
    if not trace_df.empty:
        trace_df = trace_df.sort_values("run_id", kind="stable").reset_index(drop=True)
    return Normalized(trace_df, _frame(events, columns), _frame(aliases, ALIAS_COLUMNS))


def _bundles_rows(batch: pa.RecordBatch, counts: list[int], kept: list[bool]) -> pa.RecordBatch:
    """The rows of the kept bundles of a chunk (`counts`: each bundle's rows, in order)."""
    if all(kept):
        return batch
    starts = np.cumsum([0, *counts[:-1]])
    rows = [np.arange(s, s + c) for s, c, keep in zip(starts, counts, kept, strict=True) if keep]
    return batch.take(pa.array(np.concatenate(rows) if rows else [], pa.int64()))


def _frame(batches: list[pa.RecordBatch], columns: list[str]) -> pd.DataFrame:
    """The batches (emptied: the table takes them over) as one DataFrame, converted a column at a time, each
    column's Arrow buffers released once it is converted, so the events are never held twice over."""
    table = pa.Table.from_batches(batches, schema=_schema(columns))
    batches.clear()
    converted: dict[str, Any] = {}
    for name in columns:
        values = table.column(name)
        table = table.drop_columns([name])
        converted[name] = _column(name, values.unify_dictionaries() if name in _SHARED_VALUES else values)
        del values
    pa.default_memory_pool().release_unused()
    return pd.DataFrame(converted, copy=False)


def _column(name: str, values: pa.ChunkedArray) -> Any:
    """One event column for pandas. The columns of few distinct values (`CATEGORICAL_COLUMNS`) become categoricals
    with sorted categories ("" for missing); the other repeated values become shared string objects
    (`object` with None for the optional columns, else strings with "" for missing); the other strings stay
    in Arrow buffers."""
    if name == "seq":
        return values.to_numpy().astype("int64")
    if name not in _SHARED_VALUES:
        text = values.to_pandas()
        return text.fillna("") if name not in _OPTIONAL_COLUMNS else text
    whole = values.combine_chunks() if values.num_chunks else pa.array([], _DICTIONARY)
    distinct = np.array([*whole.dictionary.to_pylist(), None], dtype=object)
    codes = whole.indices.fill_null(len(distinct) - 1).to_numpy(zero_copy_only=False)
    if name in CATEGORICAL_COLUMNS:
        distinct[-1] = ""
        names = sorted(set(distinct.tolist()))
        rank = {value: i for i, value in enumerate(names)}
        remap = np.array([rank[value] for value in distinct.tolist()], dtype=np.int32)
        return pd.Categorical.from_codes(remap[codes], categories=pd.Index(names, dtype=object))
    shared = distinct.take(codes)
    if name in _OPTIONAL_COLUMNS:
        return pd.Series(shared, dtype=object)  # explicit: pandas would copy strings into Arrow
    shared[codes == len(distinct) - 1] = ""
    return pd.array(shared, dtype=pd.StringDtype("python", na_value=np.nan))


@dataclass(frozen=True)
class _Shared:
    """What every chunk of one batch needs (sent to each worker once)."""

    layout: str
    run_rows: dict[str, dict[str, Any]]
    cache: str | None
    """The render cache's file, or None."""
    columns: list[str]
    """The event columns to send back."""


def _read(sources: list[str]) -> Iterator[tuple[str, bytes | Exception]]:
    """Each source's bytes: a file path, or `ARCHIVE!MEMBER` read from the zip in place."""
    archives: dict[str, zipfile.ZipFile] = {}
    try:
        for source in sources:
            archive_path, sep, member = source.rpartition("!")
            try:
                if not sep:
                    yield source, Path(source).read_bytes()
                    continue
                if archive_path not in archives:
                    archives[archive_path] = zipfile.ZipFile(archive_path)
                yield source, archives[archive_path].read(member)
            except (OSError, zipfile.BadZipFile, KeyError) as exc:
                yield source, exc
    finally:
        for archive in archives.values():
            archive.close()


def _render_chunk(shared: _Shared, sources: list[str]) -> _Columns:
    """Worker task: read, validate and render some bundles; unreadable ones are listed, never fatal.

    The cyclic garbage collector is paused for the chunk: rendering allocates millions of small acyclic
    objects that all stay alive until the chunk is sent, and each collection would walk them all again."""
    paused = gc.isenabled()
    gc.disable()
    try:
        part = _render(shared, sources)
        part.seal(shared.columns)
        return part
    finally:
        if paused:
            gc.enable()


def _render(shared: _Shared, sources: list[str]) -> _Columns:
    part = _Columns()
    read = list(_read(sources))
    cache = RenderCache(Path(shared.cache), create=False) if shared.cache else None
    keys: dict[str, bytes] = {}
    if cache is not None:
        for source, raw in read:
            if not isinstance(raw, Exception):
                keys[source] = bundle_key(raw, shared.layout, shared.run_rows.get(_stem(source)))
    found = cache.get_many(list(keys.values())) if cache is not None else {}
    fresh: dict[bytes, dict[str, Any]] = {}
    for source, raw in read:
        if isinstance(raw, Exception):
            part.skipped.append(Skipped(source, f"cannot read: {raw}"))
            continue
        key = keys.get(source)
        if key is not None and key in found:
            part.add(source, found[key])
            continue
        try:
            bundle = decode_bundle(raw, source=source, run_row=run_row_for(shared.layout, shared.run_rows, source))
            rendered = render(bundle, shared.run_rows)
        except Exception as exc:  # a BundleError, or any surprise in one bundle: skip it, keep the batch
            message = getattr(exc, "message", str(exc))
            part.skipped.append(Skipped(source, str(message).removeprefix(f"{source}: ")))
            continue
        if key is not None and rendered["trace"]["run_id"] == _stem(source):  # its run row is the one keyed
            fresh[key] = rendered
        part.add(source, rendered)
    if cache is not None:
        cache.put_many(fresh)
    return part


def _stem(source: str) -> str:
    return PurePosixPath(source.rsplit("!", 1)[-1]).stem


def load_tables(
    source: BatchSource,
    skipped: list[Skipped],
    *,
    backend: Backend | None = None,
    on_bundles: Callable[[int], None] | None = None,
    chunk_size: int = CHUNK_BUNDLES,
    cache: Path | None = None,
    details: bool = False,
) -> Normalized:
    """Read, validate and render every bundle of `source` on `backend` (default: the local pool); append
    the unreadable ones to `skipped`. `on_bundles(n)` is called as each chunk of n bundles is done. With
    `cache` (a `RenderCache` file), bundles rendered before are taken from it and new renderings added.
    The event table has `TABLE_COLUMNS`, and the `DETAIL_COLUMNS` too with `details`."""
    sources = source.sources()
    chunks = [sources[i : i + chunk_size] for i in range(0, len(sources), chunk_size)]
    if cache is not None:
        try:
            RenderCache(cache)  # set up once, here, before any worker opens it
        except (sqlite3.Error, OSError):
            cache = None  # an unusable cache costs speed, never the analysis
    columns = EVENT_COLUMNS if details else TABLE_COLUMNS
    shared = _Shared(source.layout, source.run_rows, str(cache) if cache is not None else None, columns)

    def done(_: int, part: _Columns) -> None:
        if on_bundles is not None:
            on_bundles(len(part.traces) + len(part.skipped))

    parts = map_chunks(_render_chunk, shared, chunks, backend=backend, on_done=done)
    for part in parts:
        skipped.extend(part.skipped)
    return _frames(parts, columns)


def trace_events(source: BatchSource, sources: list[str], cache: Path | None = None) -> pd.DataFrame:
    """The full event table (`EVENT_COLUMNS`) of a few bundles of `source`, named by their source strings
    (the trace table's `source` column), read in this process (from the render cache where it has them)."""
    archive = f"{source.zip_path}!" if source.zip_path is not None else None
    members = [s.removeprefix(archive) for s in sources if archive and s.startswith(archive)]
    files = [Path(s) for s in sources if not (archive and s.startswith(archive))]
    subset = replace(source, bundle_files=files, zip_members=members)
    return load_tables(subset, [], backend=Backend(workers=1), cache=cache, details=True).events
