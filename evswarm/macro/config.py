"""Parameters of one analysis run, and where evswarm keeps its caches."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evswarm.compute import Backend
from evswarm.core.speakers import Blameable

EmbedderName = Literal["minilm", "static", "tfidf"]
ReducerName = Literal["umap", "pca"]


def cache_dir() -> Path:
    """The project cache directory: `$EVSWARM_CACHE_DIR`, else `~/.cache/evswarm`."""
    env = os.environ.get("EVSWARM_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "evswarm"


class AnalyzeConfig(BaseModel):
    """Every knob of the pipeline, recorded in the run manifest next to the report."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    embedder: EmbedderName = "minilm"
    reducer: ReducerName = "umap"
    cluster_dims: int = Field(5, ge=2, le=50, description="UMAP dimensions used for clustering")
    n_neighbors: int = Field(15, ge=2)
    min_cluster_size: int | None = Field(None, ge=2, description="None = max(8, n/40)")
    min_samples: int | None = Field(None, ge=1, description="None = min_cluster_size // 2")
    cluster_selection: Literal["leaf", "eom"] = Field("leaf", description="HDBSCAN cluster selection method")
    fit_limit: int | None = Field(
        20_000,
        ge=20,
        description="traces UMAP and HDBSCAN are fitted on when more are analyzed (a seeded sample; the rest are "
        "placed and assigned with the fitted models, and the report says so); None fits on all",
    )
    random_state: int = 42
    top_terms: int = 8
    top_patterns: int = Field(20, ge=1, description="patterns the report tells a root-cause story for")
    use_citations: bool = Field(True, description="let grader citations place anchors (see `anchors`)")
    use_grades: bool = Field(True, description="read eval_labels.jsonl when present (off: analyze behavior only)")
    min_slice_support: int = Field(5, ge=1, description="traces a lift row needs to lead the table")
    alpha: float = Field(0.05, gt=0, lt=1)
    baseline: str | None = Field(
        None,
        description="the version set every other one is compared with; None: the first name containing 'base', "
        "else the first in name order",
    )
    backend: Literal["local", "ray"] = Field("local", description="where the per-trace stages run")
    workers: int | None = Field(None, ge=1, description="parallel workers; None = one per core (local)")
    address: str | None = Field(None, description="the Ray cluster to join (backend ray); None = a local Ray")
    previous: Path | None = Field(
        None, description="an earlier analysis directory whose patterns this one continues (see `lineage`)"
    )
    stability_runs: int = Field(
        3, ge=0, le=100, description="bootstrap resamples re-reduced and re-clustered (see `stability`); 0: off"
    )
    also_blame: list[Literal["people", "terminals"]] = Field(
        default_factory=list,
        description="speaker kinds attribution may blame besides agents (see `evswarm.core.speakers`)",
    )
    never_blame: list[str] = Field(default_factory=list, description="speakers attribution never blames")
    blame: list[str] = Field(
        default_factory=list, description="speakers attribution may blame whatever their kind (names, any case)"
    )
    use_cache: bool = True
    deduplicate: bool = Field(
        True, description="embed each distinct document once (off only to measure the full work of every trace)"
    )
    cache_root: Path | None = None
    progress: bool = True

    def compute_backend(self) -> Backend:
        return Backend(self.backend, self.workers, self.address)

    def blameable(self) -> Blameable:
        return Blameable.of(self.also_blame, self.never_blame, self.blame)

    def resolved_cache(self) -> Path:
        return self.cache_root if self.cache_root is not None else cache_dir()
