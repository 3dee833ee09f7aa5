"""The support-desk example recorded with `evswarm.record`, then graded, analyzed and scored, offline."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from evswarm.core.analysis import AttributionRow, read_table
from evswarm.core.labels import read_labels
from evswarm.interop.rootcause import score_attribution
from examples.support_desk.app import RESPONSIBLE
from examples.support_desk.run import run_desk


@pytest.mark.slow
def test_support_desk_is_recorded_graded_analyzed_and_scored(tmp_path: Path) -> None:
    from evswarm.evals import grade
    from evswarm.macro import AnalyzeConfig, analyze

    batch = tmp_path / "desk"
    runs = run_desk(batch, 40, seed=2)
    assert len(run_desk(batch, 40, seed=2)) == 0  # resumed: nothing recorded twice
    rows = [json.loads(line) for line in (batch / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 40 and {r["status"] for r in rows} == {"completed", "failed"}
    failed = {r.trace_id.removeprefix("trace_") for r in runs if not r.resolved}
    assert {r["run_id"].removeprefix("run_") for r in rows if r["status"] == "failed"} == failed

    grade(batch, progress=False)
    labels = {row.run_id: row for row in read_labels(batch / "eval_labels.jsonl")}
    assert set(labels) == {r["run_id"] for r in rows} and all(not r.is_error for r in labels.values())
    kinds = {f.kind.value for row in labels.values() for f in row.findings}
    assert {"loop", "run_error", "retries_exhausted"} <= kinds

    result = analyze(batch, tmp_path / "out", config=AnalyzeConfig(embedder="tfidf", progress=False))
    attributed = read_table(tmp_path / "out", AttributionRow)
    assert attributed and all(row.anchor_rule for row in attributed)

    label_file = tmp_path / "labels.csv"
    with label_file.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["trace_id", "agent", "step", "annotator"])
        for run in runs:
            if not run.resolved and run.ticket.fault:
                writer.writerow([run.trace_id, RESPONSIBLE[run.ticket.fault], 1, "ann"])
                writer.writerow([run.trace_id, RESPONSIBLE[run.ticket.fault], 2, "bob"])
    report = score_attribution(label_file, tmp_path / "out", batch).as_dict()
    assert set(report["methods"]) == {"evswarm", "last_agent", "most_frequent_agent", "first_agent"}
    assert report["labelled_traces"] > 0 and report["agreement"]["pairs"][0]["agent_agreement"] == 1.0
    assert report["agreement"]["pairs"][0]["step_exact"] == 0.0
    assert len(result.traces) == 40
