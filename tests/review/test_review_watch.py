"""The watchers follow watchfiles' change stream: sidecar files replaced by other commands, a bundles
folder that appears after start-up, and failures that do not stop them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from watchfiles import Change

from evswarm.review.watch import handle_trace_changes

from .bundles import label_row, make_bundle
from .helpers import auth, run_id, wait_until, write_analysis
from .test_review_api import POTATO


def failed_rubrics(client: Any, trace_id: str) -> list[str]:
    view = client.get(f"/api/traces/{trace_id}", headers=auth()).json()
    return [r["rubric"] for r in view["grades"]["rubrics"] if not r["passed"]] if view["grades"] else []


def test_grades_reload_when_eval_labels_is_replaced(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    assert failed_rubrics(client, run_id(0)) == []
    for failed in (["market_drift_awareness"], ["review_appropriateness"], []):  # each replace is seen
        rows = [label_row(run_id(i), failed if i == 0 else []) for i in range(4)]
        tmp = batch / ".eval_labels.jsonl.tmp"
        tmp.write_text("".join(json.dumps(row) + "\n" for row in rows))
        os.replace(tmp, batch / "eval_labels.jsonl")  # how other stages write: a new file, not an edit
        wait_until(lambda f=failed: failed_rubrics(client, run_id(0)) == f, what=f"grades failing {failed}")


def test_analysis_tables_reload_when_written(make_client, batch: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    analysis = tmp_path / "analysis"
    analysis.mkdir()
    client = make_client(batch, analysis=analysis)
    write_analysis(analysis, [run_id(2)], label="late quotes")
    wait_until(
        lambda: client.get(f"/api/traces/{run_id(2)}", headers=auth()).json()["pattern"] == "late quotes",
        what="the pattern table",
    )


def test_a_bundles_folder_created_after_start_up_is_watched(make_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    batch = tmp_path / "empty-batch"
    batch.mkdir()
    client = make_client(batch)
    assert client.get("/api/traces", headers=auth()).json()["total"] == 0
    bundles = batch / "bundles"
    bundles.mkdir()
    (bundles / f"{run_id(7)}.json").write_text(json.dumps(make_bundle(run_id(7))))
    wait_until(lambda: client.get(f"/api/traces/{run_id(7)}", headers=auth()).status_code == 200, what="bundle 7")
    (bundles / f"{run_id(8)}.json").write_text(json.dumps(make_bundle(run_id(8))))  # now followed as a root
    wait_until(lambda: client.get(f"/api/traces/{run_id(8)}", headers=auth()).status_code == 200, what="bundle 8")


def test_a_failing_change_handler_is_logged_and_the_others_still_load(make_client, batch: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    state = client.app.state.review
    inbox = batch / "inbox"
    good = inbox / "good.json"
    good.write_text(json.dumps({**POTATO, "id": "still-loads"}))
    original = state.ingestor.ingest_file

    def explode_on_first(path: Path, **kwargs: Any) -> int:
        if path.name == "boom.json":
            raise RuntimeError("disk on fire")
        return original(path, **kwargs)

    monkeypatch.setattr(state.ingestor, "ingest_file", explode_on_first)
    changes = {(Change.added, str(inbox / "boom.json")), (Change.added, str(good))}
    handle_trace_changes(state, changes, [inbox])  # must not raise
    assert client.get("/api/traces/still-loads", headers=auth()).status_code == 200


def test_grades_written_after_start_up_are_loaded(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    labels = batch / "eval_labels.jsonl"
    labels.unlink()  # an ungraded batch: `evswarm grade` writes the file later, beside the database
    client = make_client(batch)
    assert client.get(f"/api/traces/{run_id(1)}", headers=auth()).json()["grades"] is None
    labels.write_text(json.dumps(label_row(run_id(1), ["final_decision_quality"])) + "\n")
    wait_until(lambda: failed_rubrics(client, run_id(1)) == ["final_decision_quality"], what="the new grades")
    labels.write_text(json.dumps(label_row(run_id(1), [])) + "\n")  # then watched as a file: edits count too
    wait_until(lambda: failed_rubrics(client, run_id(1)) == [], what="the edited grades")
