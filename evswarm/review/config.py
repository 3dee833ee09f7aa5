"""Settings of one review server."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from evswarm.review.schemes import SchemeSet, load_schemes

DEFAULT_PANE_LABELS = ("Reasoning", "Function Calls", "Final Answer")
DEFAULT_MAX_BODY = 16 * 1024 * 1024


def pad_pane_labels(labels: list[str] | None) -> list[str]:
    """Three pane labels: the given ones (blank ones skipped), padded from the defaults by position."""
    given = [str(label).strip() for label in labels or []][:3]
    return [given[i] if i < len(given) and given[i] else DEFAULT_PANE_LABELS[i] for i in range(3)]


class ReviewConfig(BaseModel):
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
    load_batch: bool = True
    watch: bool = True
    progress: bool = False

    @property
    def labels_path(self) -> Path:
        return self.batch_dir / "eval_labels.jsonl"
