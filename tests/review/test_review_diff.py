"""GET /api/diff: a run and its counterfactual twin, two stored traces, two versions of one trace; the
twins listed on the trace view; and every bad request a 4xx that says what is wrong, never a 500."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from evswarm.review import api_diff

from .bundles import make_bundle
from .helpers import auth, json_auth, run_id
from .twins import NEW_QUOTE, REAL_AGENT, REVERT, RealPair, simulate_real_pair, twin_dir, write_twins


@pytest.fixture
def client(make_client, batch: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_client(batch, analysis=write_twins(batch, tmp_path / "analysis"))


@pytest.fixture(scope="module")
def real_pair(tmp_path_factory: pytest.TempPathFactory) -> RealPair:
    return simulate_real_pair(tmp_path_factory.mktemp("real-pair"))


def diff(client, **params: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get("/api/diff", params=params, headers=auth())
    assert response.status_code == 200, response.text
    return dict(response.json())


def refused(client, status: int, **params: Any) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/api/diff", params=params, headers=auth())
    assert response.status_code == status, response.text
    return str(response.json()["detail"])


def test_a_run_and_its_twin_are_aligned_with_the_inserted_step_as_added_rows(client) -> None:  # type: ignore[no-untyped-def]
    found = diff(client, left=run_id(0), twin=REVERT)
    rows = found["rows"]
    first = rows[found["first_difference"]]
    assert first["op"] == "changed" and first["left"]["tool"] == first["right"]["tool"] == "compute_quote"
    assert first["differs"] == ["result"]
    assert '"total": 48250.0' in first["left"]["result"] and "47900.0" in first["right"]["result"]
    inserted = next(r for r in rows if r["right"] and r["right"]["tool"] == "check_stock")
    assert inserted["op"] == "added" and inserted["left"] is None and "C0" in inserted["right"]["arguments"]
    # the steps after the insertion are aligned again: PricingAgent's handoff back is one row, both sides
    handback = next(r for r in rows if r["left"] and r["left"]["tool"] == "transfer_to_orchestrator")
    assert handback["op"] == "same" and handback["right"]["tool"] == "transfer_to_orchestrator"
    assert (handback["left"]["index"], handback["right"]["index"]) == (5, 7)
    assert "arguments" not in handback["left"]  # unchanged rows carry their summary only
    assert found["counts"] == {"same": 6, "changed": 2, "removed": 0, "added": 2}
    assert found["left"]["href"] == f"/traces/{run_id(0)}" and found["left"]["trace_id"] == run_id(0)
    twin = found["right"]["twin"]
    assert (twin["intervention"], twin["flipped"], twin["verdict"]) == (REVERT, True, "confirmed")
    assert twin["symptoms_before"] == ["price_mismatch"] and twin["symptoms_after"] == []
    assert twin["description"] == "PricingAgent runs the reference version's policy"
    assert found["answer_changed"] is False and "release" in found["left"]["answer"]


def test_a_control_twin_is_identical_to_its_run(client) -> None:  # type: ignore[no-untyped-def]
    found = diff(client, left=run_id(0), twin="control")
    assert found["identical"] is True and found["first_difference"] is None
    assert {r["op"] for r in found["rows"]} == {"same"} and found["right"]["twin"]["identical"] is True


def test_two_stored_traces_are_compared(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    other = "run_" + "b" * 32
    bundle = make_bundle(other, pricing_reasoning="No incentive applies here.", extra_tool_turns=2)
    (batch / "bundles" / f"{other}.json").write_text(json.dumps(bundle))
    found = diff(make_client(batch), left=run_id(0), right=other)
    assert found["right"]["trace_id"] == other and found["right"]["twin"] is None
    assert found["counts"]["added"] == 4 and found["counts"]["removed"] == 0
    first = found["rows"][found["first_difference"]]
    assert first["op"] == "changed" and first["differs"] == ["text"]
    assert "No incentive applies" in first["right"]["text"] and "federal incentive" in first["left"]["text"]


def test_two_versions_of_one_trace_are_compared(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    changed = make_bundle(run_id(0), quote_output=NEW_QUOTE)
    posted = client.post("/api/traces", content=json.dumps(changed), headers=json_auth())
    assert posted.json()["version"] == 2
    found = diff(client, left=run_id(0), right=run_id(0), left_version=1, right_version=2)
    assert found["left"]["version"] == 1 and found["right"]["version"] == 2
    assert (
        found["left"]["href"] == f"/traces/{run_id(0)}?version=1" and found["right"]["href"] == f"/traces/{run_id(0)}"
    )
    assert [r["op"] for r in found["rows"]].count("changed") == 1
    assert found["rows"][found["first_difference"]]["left"]["tool"] == "compute_quote"
    assert diff(client, left=run_id(0), right=run_id(0))["identical"] is True  # latest against latest


def test_the_trace_view_lists_its_twins_with_their_diff_addresses(client) -> None:  # type: ignore[no-untyped-def]
    view = client.get(f"/api/traces/{run_id(0)}", headers=auth()).json()
    assert [t["intervention"] for t in view["twins"]] == [REVERT, "control"]  # controls last
    twin = view["twins"][0]
    assert twin["diff_url"] == f"/diff?left={run_id(0)}&twin={REVERT}"
    assert (twin["flipped"], twin["verdict"], twin["symptoms_after"]) == (True, "confirmed", [])
    assert client.get(f"/api/traces/{run_id(1)}", headers=auth()).json()["twins"] == []
    page = client.get(twin["diff_url"])
    assert page.status_code == 200 and "diff.js" in page.text


def test_no_analysis_means_no_twins(make_client, batch: Path) -> None:  # type: ignore[no-untyped-def]
    client = make_client(batch)
    assert client.get(f"/api/traces/{run_id(0)}", headers=auth()).json()["twins"] == []
    assert "no analysis directory" in refused(client, 404, left=run_id(0), twin=REVERT)


def test_bad_requests_are_refused_with_a_reason(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert "not an intervention name" in refused(client, 400, left=run_id(0), twin="../../batch")
    assert "not an intervention name" in refused(client, 400, left=run_id(0), twin="agent-PricingAgent/..")
    assert "not an intervention name" in refused(client, 400, left=run_id(0), twin=".hidden")
    missing = refused(client, 404, left=run_id(1), twin=REVERT)
    assert f"counterfactual/{REVERT}/bundles/{run_id(1)}.json is missing" in missing
    assert "no twin" in refused(client, 404, left=run_id(0), twin="tool-nothing")
    assert "no such trace" in refused(client, 404, left="run_nope", twin=REVERT)
    assert "no such trace" in refused(client, 404, left="../../etc/passwd", twin=REVERT)
    assert "right: no such trace run_nope" in refused(client, 404, left=run_id(0), right="run_nope")
    assert "has no version 7" in refused(client, 404, left=run_id(0), right=run_id(1), right_version=7)
    assert "either right" in refused(client, 400, left=run_id(0))
    assert "either right" in refused(client, 400, left=run_id(0), right=run_id(1), twin=REVERT)
    assert "not to a twin" in refused(client, 400, left=run_id(0), twin=REVERT, right_version=2)
    assert client.get("/api/diff", params={"left": run_id(0), "right": run_id(1)}).status_code == 401
    assert client.get("/api/diff", params={"left": run_id(0), "right": run_id(1), "left_version": 0},
                      headers=auth()).status_code == 422  # fmt: skip


def test_a_twin_file_that_is_broken_or_leaves_the_twins_directory_is_refused(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    analysis = tmp_path / "analysis"
    broken = twin_dir(analysis, "tool-broken")
    broken.mkdir(parents=True)
    (broken / f"{run_id(0)}.json").write_text('{"run": {"run_id": ')
    assert "counterfactual/tool-broken/bundles" in refused(client, 422, left=run_id(0), twin="tool-broken")
    (broken / f"{run_id(0)}.json").write_text(json.dumps({"neither": "a bundle nor a trace"}))
    assert "tool-broken" in refused(client, 422, left=run_id(0), twin="tool-broken")
    outside = tmp_path / "secret.json"
    outside.write_text(json.dumps(make_bundle(run_id(0))))
    linked = twin_dir(analysis, "tool-linked")
    linked.mkdir(parents=True)
    os.symlink(outside, linked / f"{run_id(0)}.json")
    assert "outside the twins' directory" in refused(client, 400, left=run_id(0), twin="tool-linked")


def test_traces_too_long_to_align_are_refused(client, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(api_diff, "MAX_DIFF_STEPS", 5)
    assert "at most 5 per trace" in refused(client, 422, left=run_id(0), twin=REVERT)


def test_a_real_run_and_its_reverted_twin(make_client, real_pair: RealPair) -> None:  # type: ignore[no-untyped-def]
    client = make_client(real_pair.batch, analysis=real_pair.analysis)
    found = diff(client, left=real_pair.run_id, twin=real_pair.slug)
    rows = found["rows"]
    first = rows[found["first_difference"]]
    assert first["op"] == "changed" and first["left"]["agent"] == REAL_AGENT  # where the reverted agent acts
    assert all(r["op"] == "same" for r in rows[: found["first_difference"]])
    assert found["counts"]["removed"] > 0 and found["answer_changed"] is True
    # the runs rejoin: the last rows are the same steps on both sides, aligned
    assert rows[-2]["op"] == "same" and rows[-2]["left"]["summary"] == rows[-2]["right"]["summary"]
    control = diff(client, left=real_pair.run_id, twin="control")
    assert control["identical"] is True and len(control["rows"]) == found["left"]["steps"]


def test_a_twin_the_cause_search_found_is_listed_and_opens_beside_its_run(  # type: ignore[no-untyped-def]
    make_client, batch: Path, tmp_path: Path
) -> None:
    from evswarm.core.analysis import write_table
    from evswarm.core.causes import RunCauseRow

    analysis = write_twins(batch, tmp_path / "analysis")
    twin_dir(analysis, "search-2").mkdir(parents=True)
    twin = make_bundle(run_id(1), quote_output=NEW_QUOTE)
    (twin_dir(analysis, "search-2") / f"{run_id(1)}.json").write_text(json.dumps(twin))
    found = RunCauseRow(
        run_id=run_id(1), pattern_id=1, found_by="search", intervention="agent-PricingAgent",
        components=["agent:PricingAgent"], description="PricingAgent runs the reference version", reruns=5,
        counterfactual_dir="counterfactual/search-2", symptoms_before=["price_mismatch"], symptoms_after=[],
    )  # fmt: skip
    write_table(analysis, RunCauseRow, [found])
    client = make_client(batch, analysis=analysis)
    (listed,) = client.get(f"/api/traces/{run_id(1)}", headers=auth()).json()["twins"]
    assert listed["intervention"] == "search-2" and listed["flipped"] is True
    assert listed["diff_url"] == f"/diff?left={run_id(1)}&twin=search-2"
    assert "PricingAgent runs the reference version" in listed["description"]
    assert listed["label"] == "agent:PricingAgent"
    info = diff(client, left=run_id(1), twin="search-2")["right"]["twin"]
    assert (info["description"], info["flipped"], info["symptoms_before"]) == (
        found.description, True, ["price_mismatch"]
    )  # fmt: skip
