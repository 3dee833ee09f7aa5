"""A zipped batch: `DIR/bundles.zip` (as the shipped `data/` holds it) read member by member, in place.

Each member is one bundle, held to the same size limit as a file in the inbox and ingested like one; a
member that cannot be read is an import error naming `archive!member`, and the rest still load. An archive
whose size and modification time the store has seen is skipped (its traces are stored already).
"""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from evswarm.core.layout import BatchLayout
from evswarm.review.ingest import FileErrors, Ingestor

ARCHIVE_NAME = "bundles.zip"


def batch_archive(batch_dir: Path) -> Path | None:
    """`DIR/bundles.zip` when the batch keeps its bundles zipped (no bundle files in `DIR/bundles/`)."""
    layout = BatchLayout(batch_dir)
    archive = layout.root / ARCHIVE_NAME
    if archive.is_file() and next(layout.bundle_paths(), None) is None:
        return archive
    return None


def bundle_members(archive: Path) -> list[zipfile.ZipInfo] | str:
    """The bundle members of `archive` in name order, or why it cannot be read."""
    try:
        with zipfile.ZipFile(archive) as bundles:
            infos = bundles.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        return f"not a readable zip archive ({exc})"
    found = [i for i in infos if not i.is_dir() and PurePosixPath(i.filename).suffix == ".json"]
    return sorted((i for i in found if not PurePosixPath(i.filename).name.startswith(".")), key=lambda i: i.filename)


def ingest_archive(
    ingestor: Ingestor,
    archive: Path,
    *,
    members: list[zipfile.ZipInfo],
    advance: Callable[[], None],
    stop: threading.Event | None = None,
) -> int:
    """Ingest the bundles of `archive` (listed by `bundle_members`); returns the traces stored or kept.
    Never raises because of a member; `advance` is called once per member. When `stop` is set, it stops
    after the current member (and the archive is not marked seen, so the next start reads it again)."""
    store = ingestor.store
    source = str(archive)
    info = archive.stat()
    if store.file_seen(source, info.st_mtime_ns, info.st_size):
        for _ in members:
            advance()
        return 0
    store.clear_errors(source)
    errors = FileErrors(store, source)
    count = 0
    try:
        with zipfile.ZipFile(archive) as bundles:
            for member in members:
                if stop is not None and stop.is_set():
                    return count
                where = f"{archive}!{member.filename}"
                if member.file_size > ingestor.max_bytes:
                    errors.add(where, f"{member.file_size:,} bytes, over the size limit of {ingestor.max_bytes:,}")
                else:
                    try:
                        raw = bundles.read(member)
                    except (OSError, zipfile.BadZipFile, EOFError) as exc:
                        errors.add(where, f"cannot be read from the archive ({exc})")
                    else:
                        count += ingestor.ingest_member(raw, where, errors, keep_raw=False)
                advance()
    except (OSError, zipfile.BadZipFile) as exc:
        errors.add(source, f"not a readable zip archive ({exc})")
    errors.close()
    store.mark_file(source, info.st_mtime_ns, info.st_size)
    return count
