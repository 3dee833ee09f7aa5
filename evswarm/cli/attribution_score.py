"""`evswarm attribution-score`: evswarm's attribution and the obvious baselines against root-cause labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evswarm.cli.app import Command, app, user_errors


@app.command(
    "attribution-score",
    cls=Command,
    epilog="Example: evswarm attribution-score labels.csv --attribution runs/x",
    short_help="Score attribution and its baselines against root-cause labels.",
)
@user_errors
def attribution_score_command(
    labels: Annotated[
        Path,
        typer.Argument(
            metavar="LABELS",
            help="CSV or JSONL of root-cause labels: trace_id, agent, step (or step_id), annotator.",
            show_default=False,
        ),
    ],
    attribution: Annotated[
        Path, typer.Option("--attribution", metavar="OUT", help="The `evswarm analyze --out` directory.")
    ],
    batch: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="The batch the analysis read (default: the one analysis.json names)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", metavar="FILE", help="Also write the figures to this JSON file.")
    ] = None,
) -> None:
    """Score the per-trace attribution, and the baselines (last agent, most frequent agent, first agent),
    against human labels: agent accuracy; exact step, within ±1 and ±3; abstentions; unlabelled traces;
    and agreement between annotators who labelled the same traces.
    """
    from evswarm.core.io import atomic_write_json
    from evswarm.interop.rootcause import score_attribution

    report = score_attribution(labels, attribution, batch)
    data = report.as_dict()
    typer.echo(
        f"{report.labelled_traces} labelled trace(s); {report.unlabelled_attributed} attributed trace(s) unlabelled; "
        f"{len(report.labels_for_unknown_traces)} label(s) for traces not in the batch"
    )
    typer.echo(f"{'method':<22}{'agent':>8}{'step':>8}{'±1':>8}{'±3':>8}{'abstained':>11}")
    for name, figures in data["methods"].items():

        def pct(value: float | None) -> str:
            return "–" if value is None else f"{value:.1%}"

        typer.echo(
            f"{name:<22}{pct(figures['agent_accuracy']):>8}{pct(figures['step_exact']):>8}"
            f"{pct(figures['step_within_1']):>8}{pct(figures['step_within_3']):>8}{figures['abstained']:>11}"
        )
    for pair in data["agreement"].get("pairs", []):
        typer.echo(
            f"agreement {pair['annotators'][0]} / {pair['annotators'][1]} on {pair['traces']} trace(s): agent "
            f"{pair['agent_agreement']:.1%} (kappa {pair['agent_kappa']:.2f}), step exact {pair['step_exact']}"
        )
    if json_out is not None:
        atomic_write_json(json_out, data)
