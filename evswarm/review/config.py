"""Settings of one review server."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from evswarm.review.schemes import SchemeSet, load_schemes

DEFAULT_PANE_LABELS = ("Reasoning", "Function Calls", "Final Answer")
DEFAULT_MAX_BODY = 16 * 1024 * 1024
DEFAULT_BODY_TIMEOUT = 30.0  # seconds a request body may stall before the server answers 408
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def pad_pane_labels(labels: list[str] | None) -> list[str]:
    """Three pane labels: the given ones (blank ones skipped), padded from the defaults by position."""
    given = [str(label).strip() for label in labels or []][:3]
    return [given[i] if i < len(given) and given[i] else DEFAULT_PANE_LABELS[i] for i in range(3)]


class ReviewConfig(BaseModel):
    """`max_body` bounds a webhook body, a watched `.json` file and one `.jsonl` line alike.
    `allowed_hosts` are the Host header names answered (DNS-rebinding guard); `public_read` lets anyone
    who reaches the server read traces without a token."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    batch_dir: Path
    db_path: Path
    token: str
    analysis_dir: Path | None = None
    watch_dirs: list[Path] = Field(default_factory=list)
    schemes: SchemeSet = Field(default_factory=load_schemes)
    pane_labels: list[str] = Field(default_factory=lambda: list(DEFAULT_PANE_LABELS))
    collapse_lines: int = 20
    max_body: int = DEFAULT_MAX_BODY
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    public_read: bool = False
    allowed_hosts: list[str] = Field(default_factory=lambda: list(LOCAL_HOSTS))
    load_batch: bool = True
    background_load: bool = False
    """Import the batch while the app already answers (what `evswarm serve` does)."""
    watch: bool = True
    progress: bool = False

    @property
    def labels_path(self) -> Path:
        return self.batch_dir / "eval_labels.jsonl"
