"""Find a batch's bundles, run table and labels, in evswarm's layout or the reference notebook's.

evswarm layout: `bundles/run_*.json`, `results.jsonl`, `eval_labels.jsonl`.
Reference layout: `trace_results.jsonl` whose rows name a `bundle_path`, bundles in `trace_bundles/`
(or `bundles/`, or a zip such as `trace_bundles.zip`, read in place), `eval_labels.jsonl`.
Every bundle is validated (see `decode_bundle`); one that cannot be read or validated is skipped and
listed, never fatal.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import orjson

from evswarm.core.bundle import SIMULATOR_KEYS
from evswarm.core.errors import BundleError, EvswarmError
from evswarm.core.io import parse_trace_bundle, read_jsonl
from evswarm.core.layout import BatchLayout
from evswarm.core.reference import reference_bundle

REFERENCE_RESULTS = ("trace_results.jsonl", "metadata/results.jsonl")
REFERENCE_BUNDLE_DIRS = ("trace_bundles", "bundles")
REFERENCE_ZIPS = ("trace_bundles.zip", "bundles.zip")


@dataclass(frozen=True)
class Skipped:
    """A bundle (or label row) left out of the analysis, and why."""

    source: str
    reason: str


@dataclass
class BatchSource:
    """Where a batch's files are (`tables.load_tables` reads and renders them)."""

    root: Path
    layout: Literal["evswarm", "reference"]
    bundle_files: list[Path] = field(default_factory=list)
    zip_path: Path | None = None
    zip_members: list[str] = field(default_factory=list)
    run_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    labels_path: Path | None = None
    missing_bundles: list[str] = field(default_factory=list)

    @property
    def bundle_count(self) -> int:
        return len(self.bundle_files) + len(self.zip_members)

    def sources(self) -> list[str]:
        """Every bundle's source name, in reading order: a file path, or `ARCHIVE!MEMBER` inside a zip."""
        zipped = [f"{self.zip_path}!{name}" for name in self.zip_members] if self.zip_path is not None else []
        return [str(path) for path in self.bundle_files] + zipped


def run_row_for(layout: str, run_rows: dict[str, dict[str, Any]], source: str) -> dict[str, Any] | None:
    """The run-table row of a reference-layout bundle, found by its file name (`<run_id>.json`)."""
    return run_rows.get(PurePosixPath(source.rsplit("!", 1)[-1]).stem) if layout == "reference" else None


def decode_bundle(raw: bytes, *, source: str, run_row: dict[str, Any] | None = None) -> dict[str, Any]:
    """Parse and validate one bundle; return it as a dict without the keys the analysis must not read.

    evswarm bundles are validated against `TraceBundle` (the oracle, recorded model calls and causal
    record are dropped first); reference-layout bundles (no `format` key) go through the reference
    adapter. A bad bundle raises a BundleError naming `source` and the first offending field."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BundleError(f"{source}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise BundleError(f"{source}: expected a JSON object, found {type(data).__name__}")
    if "format" not in data:
        return reference_bundle(data, run_row, source=source).model_dump(mode="json")
    for key in SIMULATOR_KEYS:
        data.pop(key, None)
    parse_trace_bundle(data, source=source)
    return data


def _results_rows(path: Path) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for row in read_jsonl(path):
        run_id = row.get("run_id")
        if isinstance(run_id, str) and run_id:
            rows[run_id] = row
    return rows


def _find_labels(root: Path) -> Path | None:
    for candidate in (root / "eval_labels.jsonl", root / "metadata" / "eval_labels.jsonl"):
        if candidate.is_file():
            return candidate
    return None


def locate(batch_dir: Path) -> BatchSource:
    """Work out which layout `batch_dir` uses and list its bundles; raise a clear error if none."""
    root = Path(batch_dir)
    if not root.exists():
        raise EvswarmError(f"batch directory {root} does not exist")
    if not root.is_dir():
        raise EvswarmError(f"{root} is not a directory", hint="pass the directory `evswarm simulate --out` wrote")
    layout = BatchLayout(root)
    labels = _find_labels(root)
    ours = list(layout.bundle_paths())
    reference_results = next((root / n for n in REFERENCE_RESULTS if (root / n).is_file()), None)
    archive = root / "bundles.zip"
    if not ours and reference_results is None and archive.is_file():
        rows = _results_rows(layout.results) if layout.results.is_file() else {}
        source = BatchSource(
            root,
            "evswarm",
            zip_path=archive,
            zip_members=_zip_members(layout),
            run_rows=rows,
            labels_path=labels,
        )
        if source.bundle_count:
            return source
    if ours or reference_results is None:
        if not ours:
            raise EvswarmError(
                f"{root} holds no trace bundles (looked for bundles/run_*.json, bundles.zip and trace_results.jsonl)",
                hint="run `evswarm simulate --runs 200 --out DIR` first, or point at a batch directory",
            )
        rows = _results_rows(layout.results) if layout.results.is_file() else {}
        return BatchSource(root, "evswarm", bundle_files=ours, run_rows=rows, labels_path=labels)
    return _locate_reference(root, reference_results, labels)


def _zip_members(layout: BatchLayout) -> list[str]:
    """The bundle files inside an evswarm batch's `bundles.zip`, in name order."""
    try:
        return layout.archived_bundles()
    except (OSError, zipfile.BadZipFile) as exc:
        raise EvswarmError(f"{layout.archive}: not a readable zip archive ({exc})") from exc


def _locate_reference(root: Path, results: Path, labels: Path | None) -> BatchSource:
    rows = _results_rows(results)
    source = BatchSource(root, "reference", run_rows=rows, labels_path=labels)
    dirs = [root / d for d in REFERENCE_BUNDLE_DIRS if (root / d).is_dir()]
    zip_path = next((root / z for z in REFERENCE_ZIPS if (root / z).is_file()), None)
    by_name: dict[str, Path] = {}
    for directory in dirs:
        for path in sorted(directory.glob("*.json")):
            by_name.setdefault(path.name, path)
    members: dict[str, str] = {}
    if zip_path is not None:
        try:
            with zipfile.ZipFile(zip_path) as archive:
                for name in archive.namelist():
                    base = PurePosixPath(name).name
                    if base.endswith(".json") and not base.startswith("."):
                        members.setdefault(base, name)
        except (OSError, zipfile.BadZipFile) as exc:
            raise EvswarmError(f"{zip_path}: not a readable zip archive ({exc})") from exc
    files: list[Path] = []
    zipped: list[str] = []
    for run_id, row in rows.items():
        wanted = PurePosixPath(str(row.get("bundle_path") or f"{run_id}.json")).name
        if wanted in by_name:
            files.append(by_name.pop(wanted))
        elif wanted in members:
            zipped.append(members.pop(wanted))
        elif row.get("bundle_path"):
            source.missing_bundles.append(run_id)
    # bundles present but absent from the run table still count
    files.extend(by_name.values())
    zipped.extend(members.values())
    source.bundle_files, source.zip_path, source.zip_members = files, zip_path, zipped
    if not source.bundle_count:
        raise EvswarmError(
            f"{results} lists {len(rows)} runs, but no bundles were found next to it "
            f"(looked in {', '.join(d + '/' for d in REFERENCE_BUNDLE_DIRS)} "
            f"and {', '.join(REFERENCE_ZIPS)})",
            hint="the reference notebook's batch needs its trace_bundles.zip beside trace_results.jsonl",
        )
    return source
