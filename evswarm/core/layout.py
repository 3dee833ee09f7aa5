"""Where a batch directory keeps its files. Every stage finds its inputs through these names."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class BatchLayout:
    """The files of one batch directory (`evswarm simulate --out DIR`)."""

    root: Path

    @property
    def bundles_dir(self) -> Path:
        return self.root / "bundles"

    @property
    def manifest(self) -> Path:
        return self.root / "batch.json"

    @property
    def versions(self) -> Path:
        """The resolved version sets the batch ran (`evswarm.core.versions.BatchVersions`)."""
        return self.root / "versions.json"

    @property
    def results(self) -> Path:
        return self.root / "results.jsonl"

    @property
    def summary(self) -> Path:
        return self.root / "run_summary.json"

    @property
    def sqlite(self) -> Path:
        return self.root / "trace_snapshot.sqlite"

    @property
    def labels(self) -> Path:
        return self.root / "eval_labels.jsonl"

    @property
    def promptfoo_results(self) -> Path:
        return self.root / "promptfoo_results.json"

    def bundle_path(self, run_id: str) -> Path:
        return self.bundles_dir / f"{run_id}.json"

    def bundle_paths(self) -> Iterator[Path]:
        """Bundle files in name order (temporary files of interrupted writes are skipped)."""
        if not self.bundles_dir.is_dir():
            return iter(())
        return iter(sorted(p for p in self.bundles_dir.glob("run_*.json") if not p.name.startswith(".")))

    @property
    def archive(self) -> Path:
        """`bundles.zip`: where a shipped batch (like `data/`) keeps its bundles instead of `bundles/`."""
        return self.root / "bundles.zip"

    def archived_bundles(self) -> list[str]:
        """The names of the run bundles (`run_*.json`, at any depth) inside `bundles.zip`, in name order;
        [] when there is no archive. An archive that cannot be read raises OSError or zipfile.BadZipFile."""
        if not self.archive.is_file():
            return []
        import zipfile

        with zipfile.ZipFile(self.archive) as archive:
            names = archive.namelist()
        return sorted(n for n in names if PurePosixPath(n).name.startswith("run_") and n.endswith(".json"))

    def saved_bundle(self, run_id: str) -> bytes | None:
        """The bytes of run `run_id`'s bundle, from `bundles/` or else from `bundles.zip`; None when the batch
        has no such run. A zip that cannot be read raises OSError or zipfile.BadZipFile."""
        path = self.bundle_path(run_id)
        if path.is_file():
            return path.read_bytes()
        if not self.archive.is_file():
            return None
        import zipfile

        with zipfile.ZipFile(self.archive) as archive:
            names = {PurePosixPath(n).name: n for n in archive.namelist()}
            member = names.get(f"{run_id}.json")
            return archive.read(member) if member else None
