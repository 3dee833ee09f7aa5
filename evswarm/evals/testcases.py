"""promptfoo test cases: one per bundle of a batch (also a `generate_tests` hook for hand-run configs)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from evswarm.core.errors import EvswarmError
from evswarm.core.io import read_jsonl
from evswarm.core.layout import BatchLayout


def bundle_targets(batch_dir: Path) -> list[tuple[str, Path]]:
    """(run_id, bundle path) for every bundle file, plus runs in results.jsonl whose file is missing."""
    layout = BatchLayout(batch_dir)
    targets = {path.stem: path for path in layout.bundle_paths()}
    if layout.results.is_file():
        for row in read_jsonl(layout.results):
            run_id = row.get("run_id")
            if isinstance(run_id, str) and run_id and run_id not in targets and _has_bundle(row):
                targets[run_id] = layout.bundle_path(run_id)
    return sorted(targets.items())


def _has_bundle(row: dict[str, Any]) -> bool:
    """A results row promises a bundle unless it records a runner error with no bundle path."""
    if "bundle_path" in row:
        return bool(row["bundle_path"])
    return row.get("status") != "runner_error"


def test_cases(targets: list[tuple[str, Path]]) -> list[dict[str, Any]]:
    return [
        {"description": run_id, "vars": {"run_id": run_id, "bundle_path": str(path.resolve())}}
        for run_id, path in targets
    ]


def generate_tests(config: Any = None) -> list[dict[str, Any]]:
    """promptfoo hook (`tests: file://evswarm/evals/testcases.py:generate_tests`): reads EVSWARM_GRADE_DIR."""
    batch = os.environ.get("EVSWARM_GRADE_DIR")
    if not batch:
        raise EvswarmError("set EVSWARM_GRADE_DIR to the batch directory to grade")
    return test_cases(bundle_targets(Path(batch)))
