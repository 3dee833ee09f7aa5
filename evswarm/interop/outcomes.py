"""Whether an imported trace succeeded: from the source, or from an outcomes file the user supplies.

An outcomes file (`--outcomes FILE`) is CSV with a header row, or JSON Lines; each row names a trace
(`trace_id`, `id`, `run_id` or `source_id`) and its outcome (`outcome`, `status`, `success`,
`is_correct` or `correct`), and may name the step where its failure shows (`anchor`: a step position
such as 12, or a step id such as `m12`). Outcomes are read leniently: success, succeeded, pass, passed,
true, yes, 1, ok, completed, resolved and correct are `completed`; failure, failed, fail, false, no, 0,
error, incorrect and wrong are `failed`; blocked and awaiting_review keep their name; anything else is
`unknown`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evswarm.core.bundle import RunStatus
from evswarm.core.errors import EvswarmError
from evswarm.core.io import iter_jsonl

_SUCCESS = frozenset(
    {"success", "succeeded", "pass", "passed", "true", "yes", "1", "ok", "completed", "resolved", "correct"}
)
_FAILURE = frozenset({"failure", "failed", "fail", "false", "no", "0", "error", "incorrect", "wrong", "unresolved"})
ID_COLUMNS = ("trace_id", "id", "run_id", "source_id")
OUTCOME_COLUMNS = ("outcome", "status", "success", "is_correct", "correct")
ANCHOR_COLUMNS = ("anchor", "anchor_step")


def parse_outcome(value: Any) -> RunStatus | None:
    """A run status from a loosely written outcome; None when there is none."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return RunStatus.COMPLETED if value else RunStatus.FAILED
    text = str(value).strip().lower()
    if text in _SUCCESS:
        return RunStatus.COMPLETED
    if text in _FAILURE:
        return RunStatus.FAILED
    if text in ("blocked", "awaiting_review"):
        return RunStatus(text)
    return RunStatus.UNKNOWN


@dataclass(frozen=True)
class OutcomeRow:
    trace_id: str
    status: RunStatus | None
    anchor: str | None
    where: str


def _row(raw: dict[str, Any], where: str) -> OutcomeRow:
    trace_id = next((str(raw[c]) for c in ID_COLUMNS if raw.get(c) not in (None, "")), None)
    if trace_id is None:
        raise EvswarmError(f"{where}: no trace id (expected a column {', '.join(ID_COLUMNS)})")
    outcome = next((raw[c] for c in OUTCOME_COLUMNS if c in raw), None)
    anchor = next((raw[c] for c in ANCHOR_COLUMNS if raw.get(c) not in (None, "")), None)
    return OutcomeRow(trace_id, parse_outcome(outcome), None if anchor is None else str(anchor), where)


def read_outcomes(path: Path) -> dict[str, OutcomeRow]:
    """trace id -> its row; a file that cannot be read, or a row with no trace id, raises an EvswarmError
    naming the file and line."""
    if not path.is_file():
        raise EvswarmError(f"--outcomes {path}: no such file")
    rows: dict[str, OutcomeRow] = {}
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for number, raw in iter_jsonl(path):
            row = _row(raw, f"{path}:{number}")
            rows[row.trace_id] = row
        return rows
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not any(c in reader.fieldnames for c in ID_COLUMNS):
                raise EvswarmError(
                    f"{path}: expected a CSV header with a trace id column ({', '.join(ID_COLUMNS)}) and an "
                    f"outcome column ({', '.join(OUTCOME_COLUMNS)})"
                )
            for number, raw in enumerate(reader, start=2):
                row = _row(raw, f"{path}:{number}")
                rows[row.trace_id] = row
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EvswarmError(f"cannot read --outcomes {path}: {exc}") from exc
    return rows
