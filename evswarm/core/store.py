"""The SQLite snapshot of a batch (`trace_snapshot.sqlite`): the reference's tables, rebuilt from bundles."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from evswarm.core.bundle import Bundle

SCHEMA = """
CREATE TABLE runs (run_id TEXT PRIMARY KEY, config_id TEXT, status TEXT, created_at TEXT, updated_at TEXT,
                   openai_trace_id TEXT, scenario_family TEXT, agent_version_set TEXT, summary_json TEXT);
CREATE TABLE configs (config_id TEXT PRIMARY KEY, run_id TEXT, config_json TEXT);
CREATE TABLE traces (trace_id TEXT PRIMARY KEY, run_id TEXT, started_at TEXT, ended_at TEXT,
                     workflow_name TEXT, group_id TEXT, metadata_json TEXT);
CREATE TABLE trace_events (event_id TEXT PRIMARY KEY, run_id TEXT, trace_id TEXT, event_type TEXT, timestamp TEXT,
                           agent_name TEXT, source_agent TEXT, target_agent TEXT, span_id TEXT, payload_json TEXT);
CREATE TABLE spans (span_id TEXT PRIMARY KEY, run_id TEXT, trace_id TEXT, parent_span_id TEXT, started_at TEXT,
                    ended_at TEXT, span_type TEXT, agent_name TEXT, error_json TEXT, span_data_json TEXT);
CREATE TABLE review_packets (packet_id TEXT PRIMARY KEY, run_id TEXT, status TEXT, recommended_action TEXT,
                             decision_json TEXT, packet_json TEXT);
CREATE TABLE environment_events (run_id TEXT, event_id TEXT, event_type TEXT, title TEXT, effective_from TEXT,
                                 effective_to TEXT, details_json TEXT, PRIMARY KEY (run_id, event_id));
CREATE TABLE environment_decisions (run_id TEXT, event_id TEXT, agent_name TEXT, action TEXT, span_id TEXT,
                                    PRIMARY KEY (run_id, event_id));
CREATE INDEX spans_by_run ON spans (run_id);
CREATE INDEX events_by_run ON trace_events (run_id);
"""


def _j(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def _rows(bundle: Bundle) -> dict[str, list[tuple[Any, ...]]]:
    run, trace, rid = bundle.run, bundle.trace, bundle.run.run_id
    summary = run.summary.model_dump(mode="json")
    packet = bundle.review_packet
    return {
        "runs": [
            (
                rid,
                run.config_id,
                run.status,
                run.created_at,
                run.updated_at,
                run.openai_trace_id,
                run.summary.scenario_family,
                run.summary.agent_version_set,
                _j(summary),
            )
        ],
        "configs": [(run.config_id, rid, _j(run.config.model_dump(mode="json")))],
        "traces": [
            (
                trace.trace_id,
                rid,
                trace.started_at,
                trace.ended_at,
                trace.workflow_name,
                trace.group_id,
                trace.metadata_json,
            )
        ],
        "trace_events": [
            (
                e.event_id,
                rid,
                trace.trace_id,
                e.event_type,
                e.timestamp,
                e.agent_name,
                e.source_agent,
                e.target_agent,
                e.span_id,
                _j(e.payload),
            )
            for e in bundle.events
        ],
        "spans": [
            (
                s.span_id,
                rid,
                s.trace_id,
                s.parent_span_id,
                s.started_at,
                s.ended_at,
                s.span_type,
                s.agent_name,
                _j(s.error),
                _j(s.span_data),
            )
            for s in bundle.spans
        ],
        "review_packets": []
        if packet is None
        else [
            (
                packet.packet_id,
                rid,
                packet.status,
                packet.recommended_action,
                _j(packet.decision.model_dump(mode="json") if packet.decision else None),
                _j(packet.model_dump(mode="json")),
            )
        ],
        "environment_events": [
            (rid, e.event_id, e.event_type, e.title, e.effective_from, e.effective_to, _j(e.details))
            for e in bundle.environment_events
        ],
        "environment_decisions": [
            (rid, d.event_id, d.agent_name, d.action, d.span_id) for d in bundle.snapshots.environment_decisions
        ],
    }


def write_snapshot(path: Path, bundles: Iterable[Bundle]) -> int:
    """Rebuild the snapshot database from bundles, atomically (a temp file renamed over the old one)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    count = 0
    with sqlite3.connect(tmp) as db:
        db.executescript(SCHEMA)
        for bundle in bundles:
            for table, rows in _rows(bundle).items():
                if rows:
                    marks = ",".join("?" * len(rows[0]))
                    db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            count += 1
    os.replace(tmp, path)
    return count
