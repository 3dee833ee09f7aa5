"""`evswarm grade`: grade every bundle of a batch with promptfoo on five rubrics."""

from __future__ import annotations

from pathlib import Path

import typer

from evswarm.cli.app import Command, app, user_errors

GRADE_HELP = "\n\n".join(
    [
        "Grade every bundle of a batch with promptfoo.",
        "Simulated runs (with an oracle): final_decision_quality, policy_compliance_correctness, "
        "routing_specialist_activation, market_drift_awareness, review_appropriateness. Recorded and imported "
        "runs (no oracle): tool_use, control_flow, final_answer. Each verdict has a pass, a score in [0, 1] and "
        "a reason citing the span or event ids it rests on. --assertions adds your own promptfoo assertions.",
        "Writes DIR/eval_labels.jsonl (one row per run; a bundle that cannot be read becomes an error row, "
        "never a lost batch) and DIR/promptfoo_results.json (promptfoo's own output), then prints pass rates "
        "per rubric and agent version set with 95% Wilson confidence intervals.",
        "Needs the pinned promptfoo CLI in the project: "
        "npm install --omit=optional --no-package-lock --no-audit --no-fund",
        "Example (after the `evswarm simulate` example): evswarm grade runs/batch1",
    ]
)


@app.command(
    "grade",
    cls=Command,
    help=GRADE_HELP,
    short_help="Grade every bundle of a batch with promptfoo on five rubrics.",
)
@user_errors
def grade_command(
    batch_dir: Path = typer.Argument(
        ...,
        metavar="DIR",
        help="Batch directory written by `evswarm simulate` (holds bundles/run_*.json).",
        show_default=False,
    ),
    grader: str = typer.Option(
        "offline",
        "--grader",
        "-g",
        metavar="offline|openai:MODEL",
        help="offline: deterministic rubrics only. openai:MODEL: also a model-graded llm-rubric per rubric "
        "(needs OPENAI_API_KEY). file://grader.py: a local promptfoo grader provider (testing).",
    ),
    jobs: int = typer.Option(4, "--jobs", "-j", min=1, max=64, metavar="N", help="promptfoo concurrency."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when any run could not be graded."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    assertions: Path | None = typer.Option(
        None,
        "--assertions",
        metavar="FILE",
        help="YAML list of your own promptfoo assertions (each with a `metric`), run beside the rubrics.",
    ),
) -> None:
    """Grade every bundle of a batch with promptfoo (help text: GRADE_HELP)."""
    from evswarm.evals import grade

    result = grade(batch_dir, grader=grader, jobs=jobs, progress=progress, assertions=assertions)
    if strict and result.errors:
        raise typer.Exit(1)
