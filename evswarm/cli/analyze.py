"""`evswarm analyze`: find recurring behavior patterns in a batch and write the HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evswarm.cli.app import app, user_errors


@app.command("analyze")
@user_errors
def analyze_command(
    batch_dir: Annotated[
        Path,
        typer.Argument(
            help="Batch directory (`evswarm simulate --out`), or a reference-"
            "notebook data dir with trace_results.jsonl + trace_bundles/."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write report.html and the tables.")],
    embedder: Annotated[
        str,
        typer.Option(
            help="minilm (all-MiniLM-L6-v2, default), static (WordLlama, fast for 10k+ traces) or tfidf "
            "(TF-IDF + SVD, no model)."
        ),
    ] = "minilm",
    reducer: Annotated[str, typer.Option(help="umap (default) or pca (fast, for quick looks).")] = "umap",
    min_cluster_size: Annotated[
        int | None,
        typer.Option(help="Smallest pattern HDBSCAN may report (default: max(8, analyzed traces / 40))."),
    ] = None,
    top_patterns: Annotated[int, typer.Option(help="How many top patterns get a root-cause diagnosis.")] = 20,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            help="The version set every other one is compared with (default: the first whose name contains "
            "'base', else the first in name order; the report names it).",
        ),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and do not fill the embedding cache.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Find recurring behavior patterns in a batch and explain them.

    Reads every bundle (and eval_labels.jsonl when `evswarm grade` has run), mines patterns from the
    failing traces (MiniLM embeddings → UMAP → HDBSCAN, named by class-based TF-IDF), ranks them by impact,
    tests where they concentrate (lift per case type, outcome, version set, regime), compares agent version
    sets with confidence intervals, and walks each top pattern's execution graphs back to upstream suspects.

    Writes OUT/report.html (self-contained, opens offline) and OUT/{patterns, trace_patterns, lift,
    version_compare, suspects}.{csv,json} plus OUT/analysis.json (parameters and timings).

    Example: evswarm analyze runs/demo --out runs/demo/analysis
    """
    from evswarm.core.errors import EvswarmError
    from evswarm.macro import AnalyzeConfig, analyze

    if embedder not in ("minilm", "static", "tfidf"):
        raise EvswarmError(f"unknown --embedder {embedder!r}", hint="choose minilm, static or tfidf")
    if reducer not in ("umap", "pca"):
        raise EvswarmError(f"unknown --reducer {reducer!r}", hint="choose umap or pca")
    config = AnalyzeConfig(
        embedder=embedder,
        reducer=reducer,
        min_cluster_size=min_cluster_size,
        top_patterns=top_patterns,
        baseline=baseline,
        use_cache=not no_cache,
        progress=not quiet,
    )
    result = analyze(batch_dir, out, embedder, config=config)
    patterns = int((result.patterns.pattern_id > 0).sum())
    typer.echo(
        f"{patterns} pattern(s) from {len(result.assignments)} of {len(result.traces)} traces; "
        f"report: {result.report_path}"
    )
