"""`evswarm analyze`: find recurring behavior patterns in a batch and write the HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from evswarm.cli.app import Command, InputError, app, user_errors, warn

if TYPE_CHECKING:
    from evswarm.macro.result import AnalysisResult

EMBEDDERS = ("minilm", "static", "tfidf")
REDUCERS = ("umap", "pca")


@app.command(
    "analyze",
    cls=Command,
    short_help="Find recurring behavior patterns in a batch and write the HTML report.",
    epilog="Examples (after `make demo`):\n\n"
    "  evswarm analyze data --out runs/analysis\n\n"
    "  evswarm analyze data --out runs/analysis-next --previous runs/demo",
)
@user_errors
def analyze_command(
    batch_dir: Path = typer.Argument(
        ...,
        metavar="DIR",
        show_default=False,
        help="Batch directory (`evswarm simulate --out DIR`; bundles/ or bundles.zip), or a reference-notebook "
        "data dir with trace_results.jsonl and trace_bundles/.",
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="OUT", show_default=False, help="Where to write report.html and the tables."
    ),
    embedder: str = typer.Option(
        "minilm",
        "--embedder",
        metavar="|".join(EMBEDDERS),
        help="minilm: all-MiniLM-L6-v2 (default); static: WordLlama, fast for 10k+ traces; tfidf: TF-IDF + "
        "SVD, no model.",
    ),
    reducer: str = typer.Option(
        "umap", "--reducer", metavar="|".join(REDUCERS), help="umap (default), or pca: fast, for quick looks."
    ),
    min_cluster_size: int | None = typer.Option(
        None,
        "--min-cluster-size",
        metavar="N",
        help="Smallest pattern HDBSCAN may report (default: max(8, analyzed traces / 40)).",
    ),
    top_patterns: int = typer.Option(
        20, "--top-patterns", metavar="N", help="How many top patterns get a root-cause diagnosis."
    ),
    baseline: str | None = typer.Option(
        None,
        "--baseline",
        metavar="V",
        show_default=False,
        help="The version set every other one is compared with (default: the first whose name contains "
        "'base', else the first in name order; the report names it).",
    ),
    previous: Path | None = typer.Option(
        None,
        "--previous",
        metavar="OLD_OUT",
        show_default=False,
        help="An earlier analysis directory (`--out` of an earlier `analyze`, e.g. of the last release's batch): "
        "traces that fit an earlier pattern's centre are assigned to it first (it keeps its id and name), the "
        "clustering finds patterns among the rest, and each pattern is reported as continuing, new, "
        "returned, gone, split or merged, with its history over the chain (OUT/lineage.json). Needs the same "
        "--embedder (minilm or static).",
    ),
    stability_runs: int = typer.Option(
        3,
        "--stability-runs",
        metavar="N",
        help="Bootstrap resamples re-reduced and re-clustered to measure how stable the patterns are (adjusted "
        "Rand index overall, best-match Jaccard per pattern); 0 turns it off.",
    ),
    also_blame: list[str] = typer.Option(
        [],
        "--also-blame",
        metavar="people|terminals",
        show_default=False,
        help="Speakers attribution may blame besides agents (repeatable): people (a chat log's user, a simulated "
        "user), terminals (a speaker that runs others' code and reports the outcome, e.g. Computer_terminal). "
        "The baselines follow the same rule.",
    ),
    never_blame: list[str] = typer.Option(
        [], "--never-blame", metavar="NAME", show_default=False, help="A speaker attribution never blames (repeatable)."
    ),
    blame: list[str] = typer.Option(
        [],
        "--blame",
        metavar="NAME",
        show_default=False,
        help="A speaker attribution may blame whatever its name suggests (repeatable; e.g. an agent called "
        "PlanExecutor that the name rule takes for a terminal). The notes list the speakers not blamed.",
    ),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Ignore and do not fill the caches (rendered bundles, embeddings, UMAP layouts)."
    ),
    backend: str = typer.Option(
        "local",
        "--backend",
        metavar="local|ray",
        help="Where reading and rendering the bundles runs: local worker processes, or Ray (a local Ray "
        "instance, or the cluster at --address). Same tables either way.",
    ),
    address: str | None = typer.Option(
        None, "--address", metavar="ADDR", show_default=False, help="The Ray cluster to join (with --backend ray)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", metavar="K", show_default=False, help="Parallel workers (default: one per core)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Find recurring behavior patterns in a batch and explain them.

    Reads every bundle (and eval_labels.jsonl when `evswarm grade` has run), mines patterns from the
    failing traces (MiniLM embeddings, UMAP, HDBSCAN; named by class-based TF-IDF), ranks them by impact,
    tests where they concentrate (lift per case type, outcome, version set, regime), compares agent version
    sets with confidence intervals, and attributes every failing trace to the step where it went wrong.

    Writes OUT/report.html (self-contained, opens offline), the tables patterns, trace_patterns, lift,
    version_compare, suspects, suspect_steps and attribution (each as .csv and .json), OUT/lineage.json (the
    patterns' history over a chain of analyses: see --previous) and OUT/analysis.json (parameters and timings).

    Without grades, failing means "behaved unlike its peers", not "failed a rubric": run `evswarm grade DIR`
    first for rubric verdicts.
    """
    if embedder not in EMBEDDERS:
        raise InputError(f"unknown --embedder {embedder!r}", "choose minilm, static or tfidf")
    if reducer not in REDUCERS:
        raise InputError(f"unknown --reducer {reducer!r}", "choose umap or pca")
    if backend not in ("local", "ray"):
        raise InputError(f"unknown --backend {backend!r}", "choose local or ray")
    if address is not None and backend != "ray":
        raise InputError("--address needs --backend ray", "add --backend ray, or drop --address")
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be at least 1, not {workers}")
    if stability_runs < 0 or stability_runs > 100:
        raise InputError(f"--stability-runs {stability_runs} is out of range", "choose 0 (off) to 100")
    wrong = sorted(set(also_blame) - {"people", "terminals"})
    if wrong:
        raise InputError(f"unknown --also-blame {wrong[0]!r}", "choose people or terminals")
    ungraded = batch_dir.is_dir() and not (batch_dir / "eval_labels.jsonl").is_file()
    if ungraded:
        warn(*_no_grades(batch_dir))

    from evswarm.compute import Backend, check_backend
    from evswarm.macro import AnalyzeConfig, analyze

    check_backend(Backend(backend, workers, address))  # type: ignore[arg-type]  # checked above

    config = AnalyzeConfig(
        embedder=embedder,
        reducer=reducer,
        min_cluster_size=min_cluster_size,
        top_patterns=top_patterns,
        baseline=baseline,
        previous=previous,
        stability_runs=stability_runs,
        also_blame=also_blame,
        never_blame=never_blame,
        blame=blame,
        use_cache=not no_cache,
        backend=backend,
        address=address,
        workers=workers,
        progress=not quiet,
    )
    result = analyze(batch_dir, out, embedder, config=config)
    patterns = int((result.patterns.pattern_id > 0).sum())
    typer.echo(
        f"{patterns} pattern(s) from {len(result.assignments)} of {len(result.traces)} traces; "
        f"report: {result.report_path}"
    )
    if previous is not None and result.lineage is not None:
        chain = result.lineage
        statuses = result.patterns.status[result.patterns.pattern_id > 0].value_counts()
        left = sum(1 for p in chain.patterns if p.latest.step == chain.step and not p.latest.trace_count)
        counts = ", ".join(f"{int(n)} {status}" for status, n in sorted(statuses.items()))
        step = chain.steps[-1]
        typer.echo(f"against {previous}: {counts or 'no pattern'}; {left} earlier pattern(s) gone, split or merged")
        typer.echo(
            f"assignment first: {step.assigned} of {step.analyzed} analyzed traces assigned to earlier patterns' "
            f"centres (continuing and returned patterns), {step.clustered} in patterns found by clustering"
        )
    _report_losses(result)
    graded = "promptfoo_pass" in result.traces and bool(result.traces.promptfoo_pass.notna().any())
    if not graded:
        warn(*_no_grades(batch_dir))


def _no_grades(batch_dir: Path) -> tuple[str, str]:
    return (
        f"{batch_dir} has no grades (eval_labels.jsonl): the patterns are of traces that behaved unlike their "
        "peers, not of rubric failures",
        f"grade it first, then analyze again: evswarm grade {batch_dir}",
    )


def _report_losses(result: AnalysisResult, shown: int = 5) -> None:
    """Say on the terminal what the analysis could not read (bundles, label rows): it went on without it."""
    skipped = result.skipped
    if skipped:
        listed = "; ".join(f"{s.source}: {s.reason}" for s in skipped[:shown])
        more = f" (and {len(skipped) - shown} more, listed in the report)" if len(skipped) > shown else ""
        warn(f"{len(skipped)} bundle(s) could not be read and were skipped: {listed}{more}")
    bad = result.bad_label_rows
    if bad:
        more = f" (and {len(bad) - shown} more)" if len(bad) > shown else ""
        warn(f"{len(bad)} label row(s) could not be read and were skipped: {'; '.join(bad[:shown])}{more}")
