"""Files other stages wrote beside a batch: grades (`eval_labels.jsonl`) and macro tables
(`trace_patterns`, `suspects` in the analyze output dir). Read defensively: a missing or half-written file
just leaves its panel out, and a bad row is recorded as an import error, never fatal."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson

from evswarm.review.store import Store

_RUN_KEYS = ("run_id", "trace_id")
_PATTERN_KEYS = (
    "pattern_label",
    "pattern_name",
    "label",
    "pattern",
    "cluster_label",
    "pattern_id",
    "cluster_id",
    "cluster",
)
_SUSPECT_NAME_KEYS = (
    "suspect_label",
    "display_label",
    "agent_name",
    "agent",
    "suspect",
    "node_label",
    "node",
    "label",
)
_SCORE_KEYS = ("mean_score", "suspect_score", "score", "total_score")


def _read_table(directory: Path, name: str) -> list[dict[str, Any]] | None:
    """Rows of `name`.{jsonl,json,csv} in `directory`, or None if no readable file is there."""
    for suffix in (".jsonl", ".json", ".csv"):
        path = directory / f"{name}{suffix}"
        if not path.is_file():
            continue
        try:
            raw = path.read_bytes()
            if suffix == ".csv":
                return list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
            if suffix == ".jsonl":
                return [
                    row
                    for line in raw.splitlines()
                    if line.strip()
                    for row in [orjson.loads(line)]
                    if isinstance(row, dict)
                ]
            data = orjson.loads(raw)
        except (OSError, UnicodeDecodeError, orjson.JSONDecodeError):
            continue  # being written right now, or not ours: try the next form
        if isinstance(data, dict):
            data = data.get("rows") or data.get("records") or data.get("data") or data.get(name) or []
        if isinstance(data, list):
            return [row for row in data if isinstance(row, dict)]
    return None


def _pick(row: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = row.get(key)
        if value not in (None, ""):
            return value
    return None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return [value]
        return [str(v) for v in parsed] if isinstance(parsed, list) else [value]
    return [value] if isinstance(value, str) and value else []


def load_grades(path: Path, store: Store) -> int:
    """Replace the grades table with the rows of `eval_labels.jsonl`; returns how many loaded."""
    if not path.is_file():
        return 0
    records: list[tuple[str, int | None, str]] = []
    failures: list[tuple[str, str]] = []
    errors: list[str] = []
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        store.record_error(str(path), f"cannot read: {exc.strerror}")
        return 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            errors.append(f"{path}:{number}: not valid JSON ({exc})")
            continue
        run_id = row.get("run_id") if isinstance(row, dict) else None
        if not isinstance(run_id, str):
            errors.append(f"{path}:{number}: no `run_id`")
            continue
        failed = _as_list(row.get("promptfoo_failed_checks"))
        scores = row.get("promptfoo_check_scores") if isinstance(row.get("promptfoo_check_scores"), dict) else {}
        rationales = row.get("promptfoo_rationales") if isinstance(row.get("promptfoo_rationales"), dict) else {}
        passed = row.get("promptfoo_pass")
        record = {
            "passed": passed,
            "failed": failed,
            "scores": scores,
            "rationales": rationales,
            "score_mean": row.get("promptfoo_score_mean"),
            "primary_finding": row.get("promptfoo_primary_finding"),
        }
        records.append((run_id, None if passed is None else int(bool(passed)), orjson.dumps(record).decode()))
        failures.extend((run_id, rubric) for rubric in failed)
    with store.write() as conn:
        conn.execute("DELETE FROM grades")
        conn.execute("DELETE FROM grade_failures")
        conn.executemany("INSERT OR REPLACE INTO grades VALUES (?, ?, ?)", records)
        conn.executemany("INSERT OR IGNORE INTO grade_failures VALUES (?, ?)", failures)
    for message in errors[:20]:
        store.record_error(str(path), message)
    return len(records)


def grade_for(store: Store, run_id: str) -> dict[str, Any] | None:
    row = store.reader().execute("SELECT record FROM grades WHERE run_id = ?", (run_id,)).fetchone()
    return None if row is None else dict(orjson.loads(row["record"]))


def all_grades(store: Store) -> dict[str, dict[str, Any]]:
    rows = store.reader().execute("SELECT run_id, record FROM grades").fetchall()
    return {row["run_id"]: orjson.loads(row["record"]) for row in rows}


class Analysis:
    """Macro results for the trace view: each trace's behavior pattern and the pattern's top suspects."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.suspects: list[dict[str, Any]] = []

    def reload(self, store: Store) -> None:
        if self.directory is None:
            return
        patterns = _read_table(self.directory, "trace_patterns")
        if patterns is not None:
            pairs = []
            for row in patterns:
                run_id, pattern = _pick(row, _RUN_KEYS), _pick(row, _PATTERN_KEYS)
                if run_id is not None and pattern is not None:
                    pairs.append((str(run_id), str(pattern)))
            with store.write() as conn:
                conn.execute("DELETE FROM patterns")
                conn.executemany("INSERT OR REPLACE INTO patterns VALUES (?, ?)", pairs)
        suspects = _read_table(self.directory, "suspects")
        if suspects is not None:
            self.suspects = suspects

    def pattern_of(self, store: Store, run_id: str) -> str | None:
        row = store.reader().execute("SELECT pattern FROM patterns WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else str(row["pattern"])

    def top_suspects(self, run_id: str, pattern: str | None, limit: int = 5) -> list[dict[str, Any]]:
        """Suspect rows of this trace (by run id) or of its pattern, best score first."""
        rows = [r for r in self.suspects if str(_pick(r, _RUN_KEYS)) == run_id]
        if not rows and pattern is not None:
            rows = [r for r in self.suspects if str(_pick(r, _PATTERN_KEYS)) == pattern]

        def score(row: dict[str, Any]) -> float:
            try:
                return float(_pick(row, _SCORE_KEYS) or 0)
            except (TypeError, ValueError):
                return 0.0

        rows.sort(key=score, reverse=True)
        out = []
        for row in rows[:limit]:
            out.append(
                {
                    "name": str(_pick(row, _SUSPECT_NAME_KEYS) or "?"),
                    "score": round(score(row), 4),
                    "agent": row.get("agent_name") or row.get("agent") or row.get("owner_agent"),
                    "span_id": row.get("span_id"),
                    "detail": {k: v for k, v in row.items() if isinstance(v, str | int | float)},
                }
            )
        return out
