"""Grader validity: each rubric's verdict against the causal record, and metamorphic checks.

Truth for a rubric on a run: did a cause that acted in the run (planted or organic: the bundle's causal
record, which only benchmarks read) derail that rubric's dimension? Each run with a cause is re-executed
as its calm twin (the same scenario with every planted fault and organic cause switched off), and a
dimension counts as derailed when the run departs from its twin on it (decision, status, factory and
substitutions; price, or releasing what the twin blocked; required specialists the twin consulted, or a
runaway loop; the treatment of dated signals; whether review was requested). Runs with no cause are "not
derailed" on every rubric.

Per rubric: precision, recall and balanced accuracy of "rubric failed" vs "derailed", over all runs and
over the runs whose causes are all organic (causes no grader was designed around: agent slips, tool and
environment trouble, ambiguous input). Target: balanced accuracy >= 0.9 for every rubric.

Metamorphic checks (on the runs of the batch, graded in-process): perturbations that must not change any
verdict (reordering the calls a model made in one turn together with their results; renaming the
customer everywhere) and one that must (moving the final price by 10 x the tolerance on a run whose price
was right must fail `policy_compliance_correctness`). Each reports the share of runs that behaved.

    .venv/bin/python benchmarks/grader_validity.py [--runs 1000] [--seed 23] [--batch DIR]

Writes benchmarks/results/grader_validity.json and prints the tables.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from truth import calm_twin_bundles, simulated_batch  # noqa: E402

from evswarm.core.bundle import Bundle  # noqa: E402
from evswarm.core.io import read_bundle  # noqa: E402
from evswarm.core.labels import read_labels  # noqa: E402
from evswarm.core.layout import BatchLayout  # noqa: E402
from evswarm.evals.rubrics import EV_RUBRICS, grade_bundle  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
FD, PC, RS, MD, RA = EV_RUBRICS


def _review_requested(bundle: Bundle) -> bool:
    decision = bundle.run.summary.final_decision
    return bundle.review_packet is not None or bool(decision and decision.review_required)


def _signal_actions(bundle: Bundle) -> dict[str, str]:
    wanted = {s.event_id for s in bundle.oracle.signals} if bundle.oracle else set()
    return {d.event_id: d.action for d in bundle.snapshots.environment_decisions if d.event_id in wanted}


def derailed_dimensions(faulty: Bundle, baseline: Bundle) -> dict[str, bool]:
    """Which rubric dimensions the fault changed, judged against the same scenario re-run with no fault.

    The baseline policy reaches the oracle's answer on every case type (tests/simulator/test_swarm.py), so a
    dimension on which the faulty run departs from its own fault-free twin is one the fault derailed."""
    fd, bd = faulty.run.summary.final_decision, baseline.run.summary.final_decision

    def outcome(bundle: Bundle) -> tuple[object, ...]:
        d = bundle.run.summary.final_decision
        subs = sorted((s.component, s.to_supplier) for s in d.supplier_substitutions) if d else []
        return (d.decision if d else None, bundle.run.status, d.factory if d else None, subs)

    decision = outcome(faulty) != outcome(baseline)
    assert faulty.oracle is not None
    tolerance = faulty.oracle.price_tolerance
    priced = fd is not None and bd is not None and fd.quoted_price is not None and bd.quoted_price is not None
    price = priced and abs(fd.quoted_price - bd.quoted_price) > tolerance  # type: ignore[union-attr, operator]
    released_blocked = bool(bd and bd.decision == "block" and fd and fd.decision != "block")
    required = set(faulty.oracle.required_specialists)
    consulted = set(faulty.run.summary.specialist_activations)
    routing = bool((required & set(baseline.run.summary.specialist_activations)) - consulted) or (
        faulty.run.summary.loop_count > 3
    )
    return {
        FD: decision,
        PC: price or released_blocked,
        RS: routing,
        MD: _signal_actions(faulty) != _signal_actions(baseline),
        RA: _review_requested(faulty) != _review_requested(baseline),
    }


@dataclass
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    left_out: int = 0

    def add(self, derailed: bool | None, failed: bool | None) -> None:
        if derailed is None or failed is None:
            self.left_out += 1
        elif derailed and failed:
            self.tp += 1
        elif derailed:
            self.fn += 1
        elif failed:
            self.fp += 1
        else:
            self.tn += 1

    def metrics(self) -> dict[str, float | int | None]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        recall, specificity = ratio(self.tp, self.tp + self.fn), ratio(self.tn, self.tn + self.fp)
        both = recall is not None and specificity is not None
        balanced = round((recall + specificity) / 2, 4) if both else None  # type: ignore[operator]
        return {
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn, "left_out": self.left_out,
            "precision": ratio(self.tp, self.tp + self.fp), "recall": recall, "specificity": specificity,
            "balanced_accuracy": balanced,
        }  # fmt: skip


def _meets(m: dict[str, float | int | None]) -> bool:
    value = m["balanced_accuracy"]
    return value is not None and float(value) >= 0.9


def counterfactual_truth(batch: Path) -> tuple[dict[str, dict[str, bool]], dict[str, bool]]:
    """run_id -> rubric -> derailed (calm twins), and run_id -> "a planted fault acted in the run"."""
    layout = BatchLayout(batch)
    caused: list[str] = []
    planted: dict[str, bool] = {}
    truths: dict[str, dict[str, bool]] = {}
    for path in layout.bundle_paths():
        data = orjson.loads(path.read_bytes())
        run_id, causes = data["run"]["run_id"], data.get("injected_faults") or []
        planted[run_id] = any(c["origin"] == "planted" for c in causes)
        if causes:
            caused.append(run_id)
        else:
            truths[run_id] = dict.fromkeys(EV_RUBRICS, False)
    twins = calm_twin_bundles(batch, caused)
    for run_id in caused:
        truths[run_id] = derailed_dimensions(read_bundle(layout.bundle_path(run_id)), twins[run_id])
    return truths, planted


def _reorder_parallel_calls(bundle: Bundle) -> Bundle | None:
    """The first model turn that called two tools at once, with its calls (and their spans) swapped."""
    data = bundle.model_dump(mode="json")
    for span in data["spans"]:
        if span["span_type"] != "generation":
            continue
        calls = [
            i for i, item in enumerate(span["span_data"].get("output") or []) if item.get("type") == "function_call"
        ]
        if len(calls) < 2 or any(
            str(span["span_data"]["output"][i].get("name", "")).startswith("transfer_to_") for i in calls
        ):
            continue
        out = span["span_data"]["output"]
        out[calls[0]], out[calls[1]] = out[calls[1]], out[calls[0]]
        ids = {out[i].get("call_id") for i in calls[:2]}
        tools = [
            i
            for i, s in enumerate(data["spans"])
            if s["span_type"] == "function" and s["span_data"].get("call_id") in ids
        ]
        if len(tools) == 2:
            a, b = tools
            data["spans"][a], data["spans"][b] = data["spans"][b], data["spans"][a]
        return Bundle.model_validate(data)
    return None


def _rename_customer(bundle: Bundle) -> Bundle:
    name = bundle.run.config.customer.name
    raw = orjson.dumps(bundle.model_dump(mode="json")).decode().replace(name, "Kim Example-Renamed")
    return Bundle.model_validate(orjson.loads(raw))


def _move_price(bundle: Bundle) -> Bundle | None:
    decision = bundle.run.summary.final_decision
    if (
        bundle.oracle is None
        or decision is None
        or decision.quoted_price is None
        or bundle.oracle.expected_price is None
    ):
        return None
    data = bundle.model_dump(mode="json")
    data["run"]["summary"]["final_decision"]["quoted_price"] = (
        decision.quoted_price + 10 * bundle.oracle.price_tolerance
    )
    return Bundle.model_validate(data)


def metamorphic(batch: Path, limit: int = 400) -> dict[str, dict[str, int | float]]:
    """Share of runs whose verdicts behave under each perturbation (see the module docstring)."""
    counts = {name: {"runs": 0, "held": 0} for name in ("reorder_parallel_calls", "rename_customer", "move_price")}
    for path in list(BatchLayout(batch).bundle_paths())[:limit]:
        bundle = read_bundle(path)
        before = {n: v.passed for n, v in grade_bundle(bundle).items()}
        reordered = _reorder_parallel_calls(bundle)
        if reordered is not None:
            counts["reorder_parallel_calls"]["runs"] += 1
            counts["reorder_parallel_calls"]["held"] += {
                n: v.passed for n, v in grade_bundle(reordered).items()
            } == before
        counts["rename_customer"]["runs"] += 1
        counts["rename_customer"]["held"] += {
            n: v.passed for n, v in grade_bundle(_rename_customer(bundle)).items()
        } == before
        moved = _move_price(bundle)
        if moved is not None and before.get(PC):
            counts["move_price"]["runs"] += 1
            counts["move_price"]["held"] += not grade_bundle(moved)[PC].passed
    return {
        k: {**v, "share": round(v["held"] / v["runs"], 4) if v["runs"] else float("nan")} for k, v in counts.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--batch", type=Path, help="use this (simulated and graded) batch instead of making one")
    args = parser.parse_args()
    batch = args.batch or Path(os.environ.get("TMPDIR", "/tmp")) / "evswarm-bench" / f"batch-{args.runs}-s{args.seed}"
    if args.batch is None:
        simulated_batch(batch, args.runs, args.seed)
    rows = {row.run_id: row for row in read_labels(BatchLayout(batch).labels)}
    truths, planted = counterfactual_truth(batch)
    overall = {r: Confusion() for r in EV_RUBRICS}
    organic_only = {r: Confusion() for r in EV_RUBRICS}
    for run_id, derailed in truths.items():
        row = rows.get(run_id)
        for rubric in EV_RUBRICS:
            failed = row.passed(rubric) if row is not None else None
            failed = None if failed is None else not failed
            overall[rubric].add(derailed[rubric], failed)
            if not planted[run_id]:  # organic causes only, or none
                organic_only[rubric].add(derailed[rubric], failed)
    checks = metamorphic(batch)
    out = {
        "runs": len(truths),
        "seed": args.seed,
        "target_balanced_accuracy": 0.9,
        "rubrics": {r: overall[r].metrics() for r in EV_RUBRICS},
        "rubrics_on_organic_causes": {r: organic_only[r].metrics() for r in EV_RUBRICS},
        "metamorphic": checks,
        "machine": {"cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2)},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "grader_validity.json").write_text(json.dumps(out, indent=2) + "\n")
    console = Console(file=io.StringIO() if os.environ.get("QUIET") else sys.stdout, width=120)
    for title, table_rows in (
        ("all runs", out["rubrics"]),
        ("runs with organic causes (and runs with none)", out["rubrics_on_organic_causes"]),
    ):
        table = Table(title=f"Grader validity against calm twins: {title}")
        for column in ("rubric", "tp", "fp", "fn", "tn", "precision", "recall", "balanced accuracy", "target"):
            table.add_column(column)
        for rubric, m in table_rows.items():  # type: ignore[union-attr]
            keys = ("tp", "fp", "fn", "tn", "precision", "recall", "balanced_accuracy")
            table.add_row(rubric, *(str(m[k]) for k in keys), "ok" if _meets(m) else "SHORT")
        console.print(table)
    console.print("metamorphic:", json.dumps(checks))


if __name__ == "__main__":
    main()
