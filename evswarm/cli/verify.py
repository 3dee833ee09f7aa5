"""`evswarm verify`: test an analysis's suspects by re-running the runs they are blamed for."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from evswarm.cli.app import Command, app, user_errors, warn

if TYPE_CHECKING:
    from rich.table import Table

    from evswarm.core.causes import CauseRow, RunCauseRow

_VERDICT_STYLE = {"confirmed": "bold green", "partial": "yellow", "rejected": "dim", "reproduced": "cyan"}


@app.command(
    "verify",
    cls=Command,
    epilog="Example (after `make demo`): evswarm verify data -a runs/demo",
    short_help="Re-run the runs behind each top suspect with it changed: confirm or reject it.",
)
@user_errors
def verify_command(
    batch_dir: Annotated[
        Path,
        typer.Argument(metavar="DIR", show_default=False, help="The simulated batch the analysis was made from."),
    ],
    analysis: Annotated[
        Path | None,
        typer.Option("--analysis", "-a", metavar="OUT", help="The analysis directory (default: BATCH_DIR/analysis)."),
    ] = None,
    patterns: Annotated[int, typer.Option(min=1, metavar="N", help="How many top patterns to test.")] = 3,
    suspects: Annotated[
        int, typer.Option(min=1, metavar="K", help="How many top suspects of each pattern to test.")
    ] = 2,
    max_runs: Annotated[
        int, typer.Option(min=1, metavar="N", help="Member runs re-run per pattern (a sample of the larger ones).")
    ] = 20,
    reference: Annotated[
        str,
        typer.Option(
            metavar="VERSION_SET",
            help="The version set whose version of an agent (policy, instructions, model) it runs when tested.",
        ),
    ] = "v1.0",
    versions: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            show_default=False,
            help="A version file defining --reference, when the batch did not run it (default: the batch's own "
            "version file, else the built-in sets).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Worker processes (default: one per core); with --backend ray, at most N tasks at once.",
        ),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            metavar="local|ray",
            help="local: a process pool on this machine; ray: Ray tasks, on a local Ray instance or the cluster "
            "at --address. Same verdicts either way.",
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            metavar="ADDR",
            show_default=False,
            help="With --backend ray: the Ray cluster to join (HOST:6379, ray://HOST:10001 or auto); the batch and "
            "analysis directories must be on storage every node sees.",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            metavar="openai:MODEL", help="Re-run on this model instead of the batch's (needed for a live batch)."
        ),
    ] = None,
    search: Annotated[
        bool,
        typer.Option(
            "--search/--no-search",
            help="Search each failing run no suspect explains for a minimal change of its own agents, tools, "
            "environment and input that removes its symptoms (about 1 + 2 log2(components) re-runs a run).",
        ),
    ] = True,
    split_check: Annotated[
        str,
        typer.Option(
            "--split-check",
            metavar="confirmed|all|reuse",
            help="Which causes a pattern splits into get their change re-run on the pattern's other failing runs "
            "(where no earlier twin has it): those confirmed on their own runs, all, or none (reuse twins only).",
        ),
    ] = "confirmed",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Turn an analysis's suspects into verified causes, by intervention.

    For each of the top patterns and each of its top suspects, the pattern's member runs are re-executed
    from the batch manifest with that one suspect changed and everything else identical: an agent runs
    its version from the reference set (and, separately, draws its choices anew), a tool's trouble is
    switched off, the late environment shock does not land, or the customer's notes are made unambiguous.
    The re-runs are graded like any batch. A run flips when none of its failing symptoms remains; a
    suspect whose flip rate's 95% interval starts at 0.5 or above is confirmed, one flipping at least 30%
    of the runs is partial, the rest rejected. A control re-run with no change must reproduce every run
    exactly.

    A failing run that none of the suspects' changes flips is then searched: its trace's own components
    are changed all at once, then by halves, until a minimal set whose change removes its symptoms is
    left (a run needing two changes gets both; one that even the whole set leaves failing is reported
    unexplained). Turn it off with --no-search.

    Each pattern then splits into its causes, one per change that explains some of its failing runs, and
    each split gets its own verdict on its own runs (a run counts when the change removes its symptoms and
    its control keeps them), with the same change tried on the pattern's other failing runs: from the twins
    already made, and, for the splits --split-check names (default: those confirmed on their own runs), by
    re-running the rest under ANALYSIS/counterfactual/split-<k>/.

    Writes ANALYSIS/causes.{csv,json} (one row per pattern and intervention, with the runs each explains,
    and one per split, scope `split`),
    ANALYSIS/run_causes.{csv,json} (what explains each failing member run, and how it was found),
    ANALYSIS/counterfactual_runs.{csv,json} (each run and its twin) and the re-run bundles under
    ANALYSIS/counterfactual/<intervention>/ (the search's under ANALYSIS/counterfactual/search-<round>/).
    Runs already re-run are kept, so a second call is quick. Compare a run with its twin with `evswarm diff`.

    Exit codes: 0 verified, 1 the control did not reproduce the runs (verdicts cannot be trusted), 2 bad
    input (no analysis, no grades, an imported batch, a world that no longer regenerates).
    """
    from rich.console import Console
    from rich.table import Table

    from evswarm.counterfactual import verify

    where = analysis or batch_dir / "analysis"
    report = verify(
        batch_dir, where, reference=reference, versions=versions, patterns=patterns, suspects=suspects,
        max_runs=max_runs, workers=workers, model=model, progress=not quiet, backend=backend, address=address,
        search=search, split_check=split_check,
    )  # fmt: skip
    console = Console(soft_wrap=True)
    table = Table(title="Causes tested by intervention", header_style="bold", show_lines=False)
    for column in ("pattern", "intervention", "flipped", "rate [95% CI]", "verdict", "explains"):
        table.add_column(column, overflow="fold")
    controls = [c for c in report.causes if c.kind == "control"]
    whole = [c for c in report.causes if c.scope == "pattern"]
    for cause in sorted(whole, key=lambda c: (c.pattern_id, c.kind == "control", -c.flip_rate)):
        table.add_row(
            f"P{cause.pattern_id} {cause.pattern}",
            cause.description,
            f"{cause.flipped}/{cause.runs}",
            f"{cause.flip_rate:.0%} [{cause.ci_low:.0%}, {cause.ci_high:.0%}]",
            f"[{_VERDICT_STYLE.get(cause.verdict, 'red')}]{cause.verdict}[/]",
            f"{len(cause.explains)} run(s)" if cause.explains else "",
        )
    console.print(table)
    splits = [c for c in report.causes if c.scope == "split"]
    if splits:
        console.print(splits_table(splits))
        untested = sum(c.others_untested for c in splits)
        console.print(
            f"split checks: {report.split_reruns} re-run(s) beyond the suspects' and the search's twins; "
            f"{untested} (split, other run) pair(s) left untried (--split-check {split_check})"
        )
    if report.run_causes:
        console.print(run_causes_table(report.run_causes))
    for note in report.notes:
        warn(note)
    console.print("tables: " + ", ".join(str(p) for p in report.table_paths if p.suffix == ".csv"))
    if report.report_path is not None:
        console.print(f"report: {report.report_path} (section: Verified causes)")
    broken = [c for c in controls if c.verdict != "reproduced"]
    if broken:
        warn(
            f"the control did not reproduce {', '.join(f'P{c.pattern_id}' for c in broken)}: re-runs differ from "
            "the originals even with nothing changed, so the verdicts cannot be trusted",
            "was the batch made by another evswarm version? `evswarm diff` shows a run beside its control twin",
        )
        raise typer.Exit(1)


def splits_table(splits: list[CauseRow]) -> Table:
    """Each pattern's causes: per split, its change's flips on its own runs and on the pattern's others."""
    from rich.table import Table

    table = Table(title="Each pattern's causes (splits), judged on their own runs", header_style="bold")
    for column in ("pattern", "change", "its runs", "rate [95% CI]", "verdict", "other runs flipped"):
        table.add_column(column, overflow="fold")
    for c in sorted(splits, key=lambda c: (c.pattern_id, -c.runs, c.intervention)):
        table.add_row(
            f"P{c.pattern_id} {c.pattern}",
            c.description,
            f"{c.flipped}/{c.runs}",
            f"{c.flip_rate:.0%} [{c.ci_low:.0%}, {c.ci_high:.0%}]",
            f"[{_VERDICT_STYLE.get(c.verdict, 'red')}]{c.verdict}[/]",
            f"[{'yellow' if c.also_flips else 'green'}]{len(c.also_flips)}/{c.others}[/]"
            + (f" ({c.others_untested} not tried)" if c.others_untested else ""),
        )
    return table


def run_causes_table(rows: list[RunCauseRow]) -> Table:
    """Per pattern, how many failing runs each change explains (and how it was found)."""
    from rich.table import Table

    from evswarm.core.causes import explanations

    table = Table(title="What explains each failing run", header_style="bold")
    for column in ("pattern", "changed", "found by", "runs", "re-runs"):
        table.add_column(column, overflow="fold")
    for found in explanations(rows):
        table.add_row(f"P{found.pattern_id}", found.changed, found.found_by, str(found.runs), str(found.reruns))
    return table
