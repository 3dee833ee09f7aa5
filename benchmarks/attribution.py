"""Attribution on foreign traces: evswarm against the obvious baselines, on plain multi-agent chat logs.

Simulated runs of two sources (the shipped EV batch, and the support-desk example recorded with
`evswarm.record`) are converted to plain chat logs that keep no evswarm structure: one message per agent
turn (`name`, text: its reasoning, what it said, and its tool calls written out), tool results as plain
strings, the user's request first; no span types, no findings, no oracle. The responsible agent and step
of each failed run come from the causal record (EV: the first cause that acted on an agent's step or a
tool's result, in message order; the desk: the ticket's planned failure mode), and are written as a label
file the product never sees. Then the real pipeline runs: `evswarm import` (outcomes from a file),
`evswarm analyze`, and `evswarm attribution-score` against the labels.

Prints and writes benchmarks/results/attribution.json: per source, agent accuracy and exact / ±3 step
accuracy of evswarm's per-trace attribution and of each baseline, and how the suspects were chosen (which
rule of `evswarm.macro.attribution` chose them, how many labelled traces blame the input, how many have
no step that departs from passing peers). Nothing here is tuned to the result.

With `--who-and-when DIR`, a third source whose labels this project did not make: the public Who&When
benchmark's failure logs (see `who_and_when_source`), every one failed, labelled by its authors.

    .venv/bin/python benchmarks/attribution.py [--ev-runs 300] [--desk-tickets 300] [--who-and-when DIR]
        [--only ev support_desk who_and_when]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evswarm.core.io import read_bundle  # noqa: E402
from evswarm.interop import import_traces  # noqa: E402
from evswarm.interop.rootcause import score_attribution  # noqa: E402
from evswarm.macro import AnalyzeConfig, analyze  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "attribution.json"
WHO_AND_WHEN_NOTE = (
    "public Who&When failure logs (labels by the benchmark's authors), read from a local copy given with "
    "--who-and-when; every log failed, so there are no passing peers to contrast with"
)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def to_chat(bundle: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, int], list[str]]:
    """(messages, span id -> message index, speaker of each message) of a bundle, as a plain chat log."""
    messages: list[dict[str, Any]] = []
    where: dict[str, int] = {}
    speakers: list[str] = []
    request = ""
    for span in bundle["spans"]:
        items = span["span_data"].get("input") if span["span_type"] == "generation" else None
        users = [i for i in items or [] if isinstance(i, dict) and i.get("role") == "user"]
        if users:
            request = _text(users[0].get("content"))
            break
    messages.append({"role": "user", "content": request or bundle["run"]["config"].get("notes", "")})
    speakers.append("user")
    last_agent = "assistant"
    for span in bundle["spans"]:
        kind, data, agent = span["span_type"], span["span_data"], span.get("agent_name") or "assistant"
        if kind == "generation":
            lines = []
            for item in data.get("output") or []:
                if item.get("type") == "reasoning":
                    lines += [s.get("text", "") for s in item.get("summary") or []]
                elif item.get("type") == "message":
                    lines += [c.get("text", "") for c in item.get("content") or []]
                elif item.get("type") == "function_call":
                    lines.append(f"-> {item.get('name')}({item.get('arguments')})")
            messages.append({"role": "assistant", "name": agent, "content": "\n".join(lines)})
            speakers.append(agent)
            last_agent = agent
        elif kind == "function":
            messages.append({"role": "tool", "content": _text(data.get("output"))})
            speakers.append(last_agent)
        elif kind == "guardrail" and data.get("triggered"):
            messages.append({"role": "system", "content": f"guardrail {data.get('name')} tripped"})
            speakers.append(agent)
        elif span.get("error") and kind == "agent":
            messages.append({"role": "system", "content": f"error: {span['error'].get('message')}"})
            speakers.append(agent)
        else:
            continue
        where[span["span_id"]] = len(messages) - 1
    return messages, where, speakers


def ev_truth(bundle: dict[str, Any], where: dict[str, int], speakers: list[str]) -> tuple[str, int] | None:
    """The responsible agent and message of the first cause that acted on a message (agent or tool side)."""
    events = {e["event_id"]: e.get("span_id") for e in bundle.get("events") or []}
    best: tuple[int, str] | None = None
    for cause in bundle.get("injected_faults") or []:
        if cause["side"] not in ("agent", "tool"):
            continue
        steps = [where.get(s, where.get(events.get(s) or "", -1)) for s in cause["step_ids"]]
        steps = [s for s in steps if s >= 0]
        if not steps:
            continue
        step = min(steps)
        agent = cause["component"] if cause["side"] == "agent" else speakers[step]
        if best is None or step < best[0]:
            best = (step, agent)
    return None if best is None else (best[1], best[0])


def ev_source(runs: int, out: Path, work: Path) -> tuple[list[dict], list[dict]]:
    """Simulate and grade `runs` EV runs (a failed run failed a rubric), then chat logs, outcomes, labels."""
    from evswarm.evals import grade
    from evswarm.simulator.batch import simulate

    batch = work / "ev_simulated"
    simulate(runs, 11, batch, workers=2, progress=False)
    graded = {row.run_id: row for row in grade(batch, progress=False).rows}
    outcomes, truth = [], []
    for path in sorted((batch / "bundles").glob("run_*.json")):
        bundle = read_bundle(path).model_dump(mode="json")
        run_id = bundle["run"]["run_id"]
        row = graded.get(run_id)
        failed = row is not None and row.promptfoo_pass is False
        messages, where, speakers = to_chat(bundle)
        (out / f"{run_id}.json").write_text(json.dumps({"id": run_id, "messages": messages}))
        outcomes.append({"trace_id": run_id, "outcome": "failed" if failed else "success"})
        found = ev_truth(bundle, where, speakers) if failed else None
        if found:
            truth.append({"trace_id": run_id, "agent": found[0], "step": found[1]})
    return outcomes, truth


def desk_source(tickets: int, out: Path, work: Path) -> tuple[list[dict], list[dict]]:
    """Record the support desk, then chat logs, outcomes and labels of its runs."""
    from examples.support_desk.app import RESPONSIBLE
    from examples.support_desk.run import run_desk

    recorded = work / "desk_recorded"
    runs = run_desk(recorded, tickets, seed=7)
    outcomes, truth = [], []
    wants = {"misroute": None, "over_refund": "issue_refund", "stale_invoice": "lookup_invoice", "bounce": None}
    for run in runs:
        run_id = "run_" + run.trace_id.removeprefix("trace_")
        bundle = read_bundle(recorded / "bundles" / f"{run_id}.json").model_dump(mode="json")
        messages, where, _speakers = to_chat(bundle)
        (out / f"{run_id}.json").write_text(json.dumps({"id": run_id, "messages": messages}))
        outcomes.append({"trace_id": run_id, "outcome": "success" if run.resolved else "failed"})
        fault = run.ticket.fault
        if run.resolved or fault is None:
            continue
        agent = RESPONSIBLE[fault]
        step = None
        for span in bundle["spans"]:
            if span["span_id"] not in where:
                continue
            if fault == "payments_down" and span["span_type"] == "function":
                if span["span_data"].get("name") == "issue_refund":  # the call the payments service timed out on
                    step = where[span["span_id"]]
            elif fault != "payments_down" and span["span_type"] == "generation" and span["agent_name"] == agent:
                calls = [
                    i.get("name") for i in span["span_data"].get("output") or [] if i.get("type") == "function_call"
                ]
                if wants[fault] is None or wants[fault] in calls:
                    step = where[span["span_id"]]
            if step is not None:
                break
        if step is not None:
            truth.append({"trace_id": run_id, "agent": agent, "step": step})
    return outcomes, truth


def who_and_when_source(src: Path, out: Path) -> tuple[list[dict], list[dict]]:
    """Labelled failure logs nobody on this project wrote: the public Who&When benchmark's group chats, from
    a local copy in `src` (not shipped here: the data is not ours to ship), one JSON per log with
    `mistake_agent` and `mistake_step`, in either layout: the dataset's own (`history`: chat messages with
    `name` or a `role` naming the speaker; passed on as they are, so step k is message k), or a mirror's
    (`question`, `trajectory` of `{agent_name, content}`; the question becomes the user's message first, so
    step k is message k + 1). Every log is a failure; the labels are the dataset's own."""
    outcomes, truth = [], []
    files = sorted((p for p in src.glob("*.json") if not p.name.startswith("_")), key=lambda p: (len(p.stem), p.stem))
    if not files:
        raise SystemExit(f"--who-and-when {src}: no .json logs there")
    for path in files:
        data = json.loads(path.read_text())
        trace_id = "run_ww_" + str(data.get("id", path.stem))
        if "history" in data:
            messages, shift = list(data["history"]), 0
        else:
            messages, shift = [{"role": "user", "content": data["question"]}], 1
            messages += [
                {"role": "assistant", "name": s["agent_name"], "content": s["content"]} for s in data["trajectory"]
            ]
        (out / f"{trace_id}.json").write_text(json.dumps({"id": trace_id, "messages": messages}))
        outcomes.append({"trace_id": trace_id, "outcome": "failed"})
        truth.append({"trace_id": trace_id, "agent": data["mistake_agent"], "step": int(data["mistake_step"]) + shift})
    return outcomes, truth


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def run_source(name: str, work: Path, outcomes: list[dict], truth: list[dict], logs: Path) -> dict[str, Any]:
    _write_csv(work / f"{name}_outcomes.csv", outcomes)
    _write_csv(work / f"{name}_labels.csv", [{**t, "annotator": "causal_record"} for t in truth])
    batch = work / f"{name}_batch"
    start = time.perf_counter()
    imported = import_traces([logs], batch, outcomes=work / f"{name}_outcomes.csv")
    imported_s = time.perf_counter() - start
    start = time.perf_counter()
    result = analyze(batch, batch / "analysis", config=AnalyzeConfig(embedder="minilm", progress=False))
    analyzed_s = time.perf_counter() - start
    report = score_attribution(work / f"{name}_labels.csv", batch / "analysis", batch).as_dict()
    figures = {
        m: {
            k: v
            for k, v in report["methods"][m].items()
            if k in ("agent_accuracy", "step_exact", "step_within_3", "abstained")
        }
        for m in report["methods"]
    }
    labelled = result.attribution[result.attribution.run_id.isin({t["trace_id"] for t in truth})]
    baseline_best = max(figures[m]["agent_accuracy"] or 0.0 for m in figures if m != "evswarm")
    evswarm_agent = figures["evswarm"]["agent_accuracy"] or 0.0
    return {
        "traces": len(imported.traces),
        "failed_traces": sum(o["outcome"] == "failed" for o in outcomes),
        "labelled_failed_traces": report["labelled_traces"],
        "analyzed_traces": len(result.assignments),
        "import_seconds": round(imported_s, 2),
        "analyze_seconds": round(analyzed_s, 2),
        "methods": figures,
        "evswarm_minus_best_baseline_agent_accuracy": round(evswarm_agent - baseline_best, 4),
        "target_met": evswarm_agent >= baseline_best + 0.10,
        "anchor_rules": _counts(result.attribution, "anchor_rule"),
        "suspect_rules": _counts(result.attribution, "suspect_rule"),
        "suspect_rules_labelled": _counts(labelled, "suspect_rule"),
        "suspect_is_input_labelled": int((labelled.suspect_side == "input").sum()) if len(labelled) else 0,
        "no_departing_step_labelled": int((labelled.unusual_steps == 0).sum()) if len(labelled) else 0,
    }


def _counts(table: Any, column: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in table[column].value_counts().items()} if len(table) else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ev-runs", type=int, default=300)
    parser.add_argument("--desk-tickets", type=int, default=300)
    parser.add_argument(
        "--who-and-when",
        type=Path,
        help="a directory of Who&When logs, one JSON each with mistake_agent and mistake_step and either the "
        "dataset's `history` or a mirror's `question` + `trajectory`: adds a third source whose labels this project "
        "did not make",
    )
    parser.add_argument("--only", nargs="*", help="sources to run: ev support_desk who_and_when (default: all given)")
    args = parser.parse_args()
    sources = ["ev", "support_desk"] + (["who_and_when"] if args.who_and_when else [])
    sources = [s for s in sources if not args.only or s in args.only]
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="evswarm-attribution-") as tmp:
        work = Path(tmp)
        for name in sources:
            logs = work / f"{name}_logs"
            logs.mkdir()
            if name == "ev":
                outcomes, truth = ev_source(args.ev_runs, logs, work)
            elif name == "support_desk":
                outcomes, truth = desk_source(args.desk_tickets, logs, work)
            else:
                outcomes, truth = who_and_when_source(args.who_and_when, logs)
            figures[name] = run_source(name, work, outcomes, truth, logs)
            print(
                f"== {name}: {figures[name]['labelled_failed_traces']} labelled failed traces of "
                f"{figures[name]['traces']}"
            )
            for method, f in figures[name]["methods"].items():
                print(
                    f"  {method:<22} agent {f['agent_accuracy']}  step exact {f['step_exact']}  "
                    f"±3 {f['step_within_3']}  abstained {f['abstained']}"
                )
            print(
                f"  evswarm - best baseline (agent): {figures[name]['evswarm_minus_best_baseline_agent_accuracy']:+.3f}"
            )
            print(f"  suspect chosen by (labelled traces): {figures[name]['suspect_rules_labelled']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    kept = json.loads(RESULTS.read_text()).get("sources", {}) if RESULTS.is_file() else {}  # other sources' runs
    for name in figures:
        figures[name]["settings"] = {k: v for k, v in vars(args).items() if k != "only"}
    if "who_and_when" in figures:
        figures["who_and_when"]["data"] = WHO_AND_WHEN_NOTE
    RESULTS.write_text(json.dumps({"sources": {**kept, **figures}}, indent=2, sort_keys=True, default=str) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
