"""The batch manifest (`batch.json`): what defines a batch, so it can be resumed, replayed and re-run.

Written by `simulate`; read by `simulate` (resume), `replay`, `verify`, `ab` and `compare`. Re-running into a
directory with a different seed, version sets or model is refused (and, through `versions.json`, with
other versions).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evswarm.core.errors import EvswarmError

MANIFEST_FORMAT = "evswarm.batch.v1"


class BatchManifest(BaseModel):
    """The arguments a batch was made with."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    format: str = MANIFEST_FORMAT
    """Always `evswarm.batch.v1`."""
    seed: int = Field(description="batch seed: run i depends only on (seed, i)")
    version_sets: list[str] | None = Field(description="version sets the runs were spread over; None: the default mix")
    model: str = Field(description="`offline` or `openai:MODEL`")
    base_url: str | None = Field(description="the OpenAI-compatible server of a live batch")
    versions_file: str | None = Field(
        default=None, description="the user's version file (`--versions`), as given; versions.json holds what ran"
    )
    batch_label: str
    """`evswarm-<seed>`."""
    evswarm_version: str
    """The evswarm version that made the batch."""


def read_manifest(path: Path) -> BatchManifest:
    """The manifest at `path`; a missing or invalid one raises an EvswarmError naming the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EvswarmError(f"cannot read batch manifest {path}: {exc.strerror}") from exc
    try:
        return BatchManifest.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise EvswarmError(f"{path} is not a valid batch manifest: field `{where}`: {first['msg']}") from exc
