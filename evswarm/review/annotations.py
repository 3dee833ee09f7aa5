"""Annotators, labels and their export. A label keeps the trace version, content hash and step ids."""

from __future__ import annotations

import csv
import io
import secrets
from typing import Any

import orjson

from evswarm.review.schemes import SchemeSet
from evswarm.review.store import Store, now, token_hash


def issue_token(store: Store, name: str) -> str:
    """Create annotator `name` (or give it a new token); returns the token, shown once."""
    token = "ann_" + secrets.token_urlsafe(24)
    with store.write() as conn:
        conn.execute(
            "INSERT INTO annotators VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET token_hash = excluded.token_hash",
            (name, token_hash(token), now()),
        )
    return token


def annotator_for(store: Store, token: str) -> str | None:
    row = store.reader().execute("SELECT name FROM annotators WHERE token_hash = ?", (token_hash(token),)).fetchone()
    return None if row is None else str(row["name"])


def save_labels(
    store: Store,
    *,
    trace_id: str,
    version: int,
    digest: str,
    annotator: str,
    labels: dict[str, Any],
    step_ids: list[str],
    schemes: SchemeSet,
) -> int:
    """Insert one row per scheme label (history is kept; the newest row per annotator wins)."""
    by_name = schemes.by_name()
    stamp = now()
    steps_json = orjson.dumps(step_ids).decode()
    with store.write() as conn:
        for name, value in labels.items():
            scheme = by_name[name]
            conn.execute(
                "INSERT INTO annotations (trace_id, version, content_hash, annotator, scheme, scheme_hash, "
                "value, "
                "step_ids, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    trace_id,
                    version,
                    digest,
                    annotator,
                    name,
                    scheme.digest,
                    orjson.dumps(value).decode(),
                    steps_json,
                    stamp,
                ),
            )
    return len(labels)


_LATEST = """
SELECT a.*, t.version AS current_version FROM annotations a
JOIN (SELECT MAX(id) AS id FROM annotations GROUP BY trace_id, annotator, scheme) m ON a.id = m.id
LEFT JOIN traces t ON t.trace_id = a.trace_id
"""


def latest_labels(store: Store, *, trace_id: str | None = None, annotator: str | None = None) -> list[dict[str, Any]]:
    """The newest label per (trace, annotator, scheme), with a `stale` flag if the trace changed since."""
    clauses, params = [], []
    if trace_id is not None:
        clauses.append("a.trace_id = ?")
        params.append(trace_id)
    if annotator is not None:
        clauses.append("a.annotator = ?")
        params.append(annotator)
    sql = (
        _LATEST + (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY a.trace_id, a.annotator, a.scheme"
    )
    rows = []
    for row in store.reader().execute(sql, params).fetchall():
        rows.append(
            {
                "trace_id": row["trace_id"],
                "version": row["version"],
                "content_hash": row["content_hash"],
                "annotator": row["annotator"],
                "scheme": row["scheme"],
                "scheme_hash": row["scheme_hash"],
                "value": orjson.loads(row["value"]),
                "step_ids": orjson.loads(row["step_ids"]),
                "created_at": row["created_at"],
                "stale": row["current_version"] != row["version"],
            }
        )
    return rows


EXPORT_COLUMNS = [
    "trace_id",
    "version",
    "content_hash",
    "annotator",
    "scheme",
    "scheme_hash",
    "value",
    "step_ids",
    "created_at",
    "stale",
]


def export_jsonl(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(row, option=orjson.OPT_SORT_KEYS) + b"\n" for row in rows)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula (it begins with =, +, -, @, tab or CR) gets a
    leading apostrophe, so it is shown as text; other cells are unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def export_csv(rows: list[dict[str, Any]]) -> bytes:
    """Labels as CSV, every text cell neutralised against formula injection (see `neutralise`)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        value = row["value"]
        cells = {
            **row,
            "value": orjson.dumps(value).decode() if isinstance(value, dict) else value,
            "step_ids": " ".join(row["step_ids"]),
        }
        writer.writerow({key: neutralise(value) for key, value in cells.items()})
    return buffer.getvalue().encode()
