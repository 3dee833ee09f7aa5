"""`evswarm import`: every format in, one batch out; bad input said clearly, nothing half-written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evswarm.core.io import read_bundle
from evswarm.core.layout import BatchLayout
from evswarm.interop import import_traces

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
GROUP_CHAT = {
    "question": "How many rows?",
    "is_correct": False,
    "history": [
        {"role": "human", "content": "Count the rows of data.csv"},
        {"role": "assistant", "name": "Orchestrator (thought)", "content": "Plan: the coder writes code."},
        {"role": "assistant", "name": "Orchestrator (-> Coder)", "content": "Please count the rows."},
        {"role": "user", "name": "Coder", "content": "print(len(open('data.csv').readlines()))"},
        {"role": "user", "name": "Computer_terminal", "content": "exitcode: 1 (execution failed)\nFileNotFoundError"},
        {"role": "Planner (-> Coder)", "content": "Check the path and try again."},
        {"role": "assistant", "name": "Orchestrator", "content": "The answer is 42."},
    ],
}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "evswarm", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_a_group_chat_becomes_a_bundle_with_its_agents_steps_and_outcome(tmp_path: Path) -> None:
    (tmp_path / "chat7.json").write_text(json.dumps(GROUP_CHAT))
    result = import_traces([tmp_path / "chat7.json"], tmp_path / "out")
    bundle = read_bundle(BatchLayout(tmp_path / "out").bundle_path("run_chat7"))
    assert bundle.oracle is None and bundle.run.status.value == "failed"
    speakers = [(s.agent_name, s.source_step) for s in bundle.spans]
    assert speakers == [
        ("user", 0),
        ("Orchestrator", 1),
        ("Orchestrator", 2),
        ("Coder", 3),
        ("Computer_terminal", 4),
        ("Planner", 5),
        ("Orchestrator", 6),
    ]
    assert bundle.run.summary.title == "Count the rows of data.csv"  # type: ignore[attr-defined]
    assert result.warnings == [] and result.written == 1


def _chat(*turns: tuple[str, str]) -> dict[str, object]:
    """A failed group chat of (speaker, text) turns, each sent with the role `user` as group-chat frameworks do."""
    return {"is_correct": False, "history": [{"role": "user", "name": n, "content": t} for n, t in turns]}


def _speakers(tmp_path: Path, name: str, chat: dict[str, object], **names: list[str]) -> list[str | None]:
    """Import `chat` as `name`.json (with `agents` / `people` names) and return its spans' speakers."""
    (tmp_path / f"{name}.json").write_text(json.dumps(chat))
    import_traces([tmp_path / f"{name}.json"], tmp_path / f"out-{name}", **names)  # type: ignore[arg-type]
    bundle = read_bundle(BatchLayout(tmp_path / f"out-{name}").bundle_path(f"run_{name}"))
    return [s.agent_name for s in bundle.spans]


def test_a_user_simulator_in_a_group_chat_speaks_as_the_person_not_as_an_agent(tmp_path: Path) -> None:
    chat = _chat(
        ("simulated_user", "My order never arrived."),
        ("Triage_Expert", "Routing you to refunds."),
        ("Refunds", "Refund issued."),
        ("EndUser", "That was the wrong order."),
    )
    # the same rule attribution uses (evswarm.core.speakers): a name with the word "user" is a person's
    assert _speakers(tmp_path, "sim", chat) == ["user", "Triage_Expert", "Refunds", "user"]


def test_a_speaker_named_like_a_person_is_an_agent_when_the_import_says_so(tmp_path: Path) -> None:
    turns = [("shopper", "Where is my refund?"), ("customer_service", "Sending you to billing."), ("Billing", "No.")]
    # by the word rule, customer_service is the person; shopper, whose name has no person word, an agent
    assert _speakers(tmp_path, "desk", _chat(*turns)) == ["shopper", "user", "Billing"]
    named = _cli(
        "import", str(tmp_path / "desk.json"), "--out", str(tmp_path / "named"),
        "--agent", "Customer_Service", "--person", "SHOPPER",
    )  # fmt: skip
    assert named.returncode == 0, named.stderr
    bundle = read_bundle(BatchLayout(tmp_path / "named").bundle_path("run_desk"))
    assert [s.agent_name for s in bundle.spans] == ["user", "customer_service", "Billing"]
    # one agent alone, sent as `user` (no group chat to tell it by): an agent only when the import says so
    solo = _chat(*turns[:2])
    assert _speakers(tmp_path, "solo", solo, agents=["customer_service"], people=["shopper"]) == [
        "user",
        "customer_service",
    ]
    with pytest.raises(TypeError):
        import_traces([tmp_path / "solo.json"], tmp_path / "str", agents="customer_service")
    both = _cli("import", str(tmp_path / "desk.json"), "--out", str(tmp_path / "both"), "--agent", "x", "--person", "X")
    assert both.returncode == 2 and "--agent and --person both name x" in both.stderr
    assert not (tmp_path / "both").exists()


def test_every_result_of_a_turn_with_several_calls_is_its_agents_and_the_run_ends_after_its_last_step(
    tmp_path: Path,
) -> None:
    from evswarm.macro.normalize import bundle_events

    chat = {
        "messages": [
            {"role": "user", "content": "Price my order."},
            {"role": "assistant", "name": "Pricing", "content": "-> get_price({})\n-> get_tariffs({})"},
            {"role": "tool", "content": '{"price": 100}'},
            {"role": "tool", "content": '{"tariffs": []}'},
            {"role": "assistant", "name": "Pricing", "content": "The price is 100."},
        ]
    }
    (tmp_path / "calls.json").write_text(json.dumps(chat))
    (tmp_path / "outcomes.csv").write_text("trace_id,outcome\ncalls,failed\n")
    import_traces([tmp_path / "calls.json"], tmp_path / "out", outcomes=tmp_path / "outcomes.csv")
    bundle = read_bundle(BatchLayout(tmp_path / "out").bundle_path("run_calls"))
    assert [(s.span_type, s.agent_name) for s in bundle.spans] == [
        ("custom", "user"),
        ("generation", "Pricing"),
        ("function", "Pricing"),
        ("function", "Pricing"),  # no call id: the agent of the latest turn, not `assistant`
        ("generation", "Pricing"),
    ]
    events = bundle_events(bundle.model_dump(mode="json"), "run_calls")
    assert [e["node_kind"] for e in events][-2:] == ["generation", "status"]  # the terminal step is the last


def test_reimporting_the_same_source_writes_nothing_new(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(GROUP_CHAT))
    import_traces([tmp_path], tmp_path / "out")
    again = import_traces([tmp_path / "a.json"], tmp_path / "out")
    assert (again.written, again.unchanged) == (0, 1)


def _exported_now(fixture: str, tmp_path: Path) -> Path:
    """Run the real instrumentation package on the support desk now, exporting to a file in `tmp_path`."""
    kind = "otel" if fixture.startswith("otel") else "openinference"
    script = Path(__file__).with_name("make_instrumented_fixtures.py")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path), kind], env=env, cwd=REPO,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp_path / fixture


@pytest.mark.parametrize("fixture", ["otel_genai.jsonl", "openinference.jsonl"])
@pytest.mark.parametrize("when", ["committed", "exported now"])
def test_real_instrumentation_exports_import_with_agent_names(fixture: str, when: str, tmp_path: Path) -> None:
    """Exports of the real instrumentation packages running the support desk: the committed fixtures, and a
    fresh export made by the installed packages in this run (so a new package version is tested too)."""
    source = FIXTURES / fixture if when == "committed" else _exported_now(fixture, tmp_path)
    assert source.is_file(), f"missing fixture {source}: run tests/interop/make_instrumented_fixtures.py"
    result = import_traces([source], tmp_path / "out")
    assert len(result.traces) == 8
    agents = {s.agent_name for t in result.traces for s in t.bundle.spans}
    assert {"Triage", "Billing"} <= agents
    tools = {s.span_data.get("name") for t in result.traces for s in t.bundle.spans if s.span_type == "function"}
    assert tools & {"lookup_invoice", "update_payment_method", "check_refund_eligibility", "issue_refund"}


def test_an_outcomes_file_sets_outcomes_and_anchors_and_names_unknown_ids(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "t1.json").write_text(json.dumps({"messages": GROUP_CHAT["history"]}))
    (tmp_path / "outcomes.csv").write_text("trace_id,outcome,anchor\nt1,fail,4\nghost,success,\n")
    result = import_traces([tmp_path / "logs"], tmp_path / "out", outcomes=tmp_path / "outcomes.csv")
    bundle = result.traces[0].bundle
    anchor = bundle.run.summary.anchor_step  # type: ignore[attr-defined]
    assert bundle.run.status.value == "failed" and bundle.spans[4].source_step == 4
    assert anchor == bundle.spans[4].span_id
    assert any("ghost" in w for w in result.warnings)


def test_no_failing_trace_is_a_warning_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text(
        json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})
    )
    result = import_traces([tmp_path / "ok.json"], tmp_path / "out")
    assert any("no outcome is known" in w for w in result.warnings)
    assert any("name no agent" in w for w in result.warnings)


def test_a_file_of_mixed_formats_stops_the_import_with_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    lines = [json.dumps({"messages": GROUP_CHAT["history"]}), json.dumps({"trace": [{"speaker": "A", "text": "x"}]})]
    (tmp_path / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    done = _cli("import", str(tmp_path / "mixed.jsonl"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "mixes formats" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_an_unknown_format_and_a_missing_source_exit_2(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text(json.dumps({"hello": "world"}))
    done = _cli("import", str(tmp_path / "x.json"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "unrecognized payload" in done.stderr
    done = _cli("import", str(tmp_path / "nope.json"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "no such file" in done.stderr
    done = _cli("import", str(tmp_path / "x.json"), "--out", str(tmp_path / "out"), "--format", "csv")
    assert done.returncode == 2 and "unknown --format" in done.stderr


def test_attribution_and_its_baselines_skip_terminals_unless_asked(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    history = [m for m in GROUP_CHAT["history"] if m.get("role") != "Planner (-> Coder)"]  # type: ignore[union-attr]
    for i in range(10):  # all failed: nothing to contrast with, so the nearest agent step decides
        chat = {**GROUP_CHAT, "question": f"How many rows in file {i}?", "history": history}
        (logs / f"chat{i}.json").write_text(json.dumps(chat))
    (tmp_path / "labels.csv").write_text("trace_id,agent,step\n" + "".join(f"chat{i},Coder,3\n" for i in range(10)))
    assert _cli("import", str(logs), "--out", str(tmp_path / "batch")).returncode == 0
    fast = ["--embedder", "static", "--reducer", "pca", "--stability-runs", "0", "--quiet"]
    scores = {}
    for name, extra in (("agents", []), ("terminals", ["--also-blame", "terminals"])):
        out = tmp_path / name
        done = _cli("analyze", str(tmp_path / "batch"), "--out", str(out), *fast, *extra)
        assert done.returncode == 0, done.stderr
        suspects = {row["suspect_agent"] for row in json.loads((out / "attribution.json").read_text())}
        scored = _cli("attribution-score", str(tmp_path / "labels.csv"), "--attribution", str(out))
        assert scored.returncode == 0, scored.stderr
        scores[name] = {line.split()[0]: line.split()[1] for line in scored.stdout.splitlines()[2:]}  # agent %
        # the terminal reports the failure: the Coder's step before it is blamed, unless terminals may be
        assert suspects == ({"Coder"} if name == "agents" else {"Computer_terminal"})
        notes = " ".join(json.loads((out / "analysis.json").read_text())["notes"])
        spared = "Not blamed, as people or terminals by their names: " + (
            "Computer_terminal, user" if name == "agents" else "user"
        )
        assert spared in notes
    # the baselines count the same speakers: the last agent before the Orchestrator's close is the Coder
    # until terminals may be blamed
    assert scores["agents"]["evswarm"] == "100.0%" and scores["agents"]["last_agent"] == "100.0%"
    assert scores["terminals"]["evswarm"] == "0.0%" and scores["terminals"]["last_agent"] == "0.0%"
    done = _cli("analyze", str(tmp_path / "batch"), "--out", str(tmp_path / "bad"), *fast, "--also-blame", "robots")
    assert done.returncode == 2 and "unknown --also-blame 'robots'" in done.stderr
    assert not (tmp_path / "bad").exists()


def test_the_speakers_an_import_names_are_kept_with_the_batch_and_analyze_blames_them(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for i in range(10):  # all failed; the desk's agent reports the error itself, sent as `user`
        history = [
            {"role": "human", "content": f"Refund order {i}, please."},
            {"role": "assistant", "name": "Orchestrator (-> customer_service)", "content": "Handle the refund."},
            {"role": "user", "name": "customer_service", "content": "Error: the refund call failed (exit code 1)"},
            {"role": "assistant", "name": "Orchestrator", "content": "Sorry, no refund today."},
        ]
        (logs / f"desk{i}.json").write_text(json.dumps({"is_correct": False, "history": history}))
    fast = ["--embedder", "static", "--reducer", "pca", "--stability-runs", "0", "--quiet"]
    suspects = {}
    for name, extra in (("words", []), ("named", ["--agent", "customer_service"])):
        assert _cli("import", str(logs), "--out", str(tmp_path / name), *extra).returncode == 0
        done = _cli("analyze", str(tmp_path / name), "--out", str(tmp_path / f"{name}-out"), *fast)
        assert done.returncode == 0, done.stderr
        rows = json.loads((tmp_path / f"{name}-out" / "attribution.json").read_text())
        suspects[name] = {row["suspect_agent"] for row in rows}
    # by the name rule the desk's agent is the user, so only the Orchestrator can be blamed
    assert suspects == {"words": {"Orchestrator"}, "named": {"customer_service"}}
    assert json.loads((tmp_path / "named" / "speakers.json").read_text())["agents"] == ["customer_service"]
    assert not (tmp_path / "words" / "speakers.json").exists()
    config = json.loads((tmp_path / "named-out" / "analysis.json").read_text())["config"]
    assert config["blame"] == ["customer_service"]
