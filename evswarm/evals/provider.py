"""The promptfoo Python provider (`file://evswarm/evals/provider.py`): load one bundle through the core,
grade it, and return the verdicts as JSON.

promptfoo's persistent Python workers load this file by path and call `call_api` once per test."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from evswarm.core.errors import EvswarmError
from evswarm.core.io import read_bundle
from evswarm.evals import netguard
from evswarm.evals.retrospective import final_text, render, transcript
from evswarm.evals.rubrics import grade_bundle


def grade_payload(bundle_path: Path, *, retrospective: bool = False) -> dict[str, Any]:
    """The provider output for one bundle: run facts and the five verdicts (raises on a bad bundle)."""
    bundle = read_bundle(bundle_path)
    summary = bundle.run.summary
    verdicts = grade_bundle(bundle)
    payload: dict[str, Any] = {
        "run_id": bundle.run.run_id,
        "case_type": summary.scenario_family,
        "run_outcome": summary.terminal_state or bundle.run.status,
        "agent_version_set": summary.agent_version_set,
        "orchestrator_mode": summary.orchestrator_mode,
        "has_oracle": bundle.oracle is not None,
        "grades": {name: verdict.to_promptfoo() for name, verdict in verdicts.items()},
        "final_answer": final_text(bundle),
        "transcript": transcript(bundle),
    }
    if retrospective:
        payload["retrospective"] = render(bundle)
    return payload


def call_api(prompt: str, options: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """promptfoo provider entry point: `{"output": json}` or `{"error": message}` for a bad bundle."""
    netguard.install()
    config = (options or {}).get("config") or {}
    variables = (context or {}).get("vars") or {}
    raw_path = variables.get("bundle_path")
    if not raw_path:
        return {"error": "test has no `bundle_path` variable"}
    path = Path(str(raw_path))
    try:
        payload = grade_payload(path, retrospective=bool(config.get("retrospective")))
    except EvswarmError as exc:
        result: dict[str, Any] = {"error": exc.message}
    except Exception as exc:  # report, never crash the worker pool
        result = {"error": f"internal grading error on {path}: {type(exc).__name__}: {exc}"}
    else:
        result = {"output": json.dumps(payload, sort_keys=True)}
    _tick(config.get("progress_file"))
    return result


def _tick(progress_file: object) -> None:
    """Append one line to the progress file the runner watches (an append is atomic for small writes)."""
    if isinstance(progress_file, str) and progress_file:
        fd = os.open(progress_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b".\n")
        finally:
            os.close(fd)
