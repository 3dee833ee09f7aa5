"""Verified causes: does re-running with one suspect changed (`evswarm verify`) blame the right component
more often than the analysis's suspects alone? Measured against the causal record, which the product
never reads.

On a fresh default batch (simulated and graded), the analysis runs as a user runs it (`evswarm analyze`
with its defaults but the embedder), then `verify` tests the top patterns' top suspects. Over the member
runs of the tested patterns that have at least one cause:

- `before_trace`: share whose per-trace top suspect (attribution table) names one of the run's causes;
- `before_pattern`: share for which the pattern's top suspect names one of the run's causes (what a
  reader of the pattern table would blame);
- `after_explained`: share that some change flipped (its symptoms went away): one of the pattern's
  suspect interventions, or else the smallest set of the run's own components the per-run search found;
- `after_precision`: of those, the share whose explanation names only causes of the run (every
  component changed is one of its causes);
- `after_top1`: share whose explanation names only causes (unexplained runs count as misses), the
  figure comparable with `before_trace`; `by_pattern` / `by_search` split it by how it was found;
- `cause_recall`: over (explained run, recorded cause) pairs, the share of causes the run's explanation
  includes (the search returns a minimal change that removes the symptoms, not every cause of the run);
- `causes_10plus_confirmed`: the issue's figure, as it words it: over causes with at least 10 member runs,
  the share for which a `confirmed` pattern verdict names the cause and explains some of its runs (target
  in issue #12: at least 0.95);
- `causes_10plus_confirmed_split`: the same causes, the share for which a `confirmed` *split* verdict (one
  cause of a pattern, judged on the runs its change explains, `counterfactual/splits.py`) names the cause
  and explains some of its runs; `causes_10plus_confirmed_either`: a pattern or a split verdict does;
- `splits`: split verdicts by outcome; `split_precision`: over the own runs that confirmed splits count as
  flipped, the share whose recorded causes include every component the split changes; `split_specific`:
  splits whose change removed none of the pattern's other failing runs' symptoms, of those tested on any;
  `split_check_reruns`: re-runs the split checks needed beyond the suspects' and the search's twins, with
  `--split-check` (default here `all`, so every split is tried on all its pattern's other failing runs);
  `split_check_reruns_if_confirmed_only`: what `verify`'s default (`confirmed`: re-run only confirmed
  splits' checks) would have needed, the same pairs counted (a split's check needs the same twins either way);
- `causes_10plus_by_run`: the same causes, the share whose most frequent per-run explanation (pattern
  intervention or search) names them;
- `confirmed_precision`: over confirmed and partial verdicts, the share of their flipped runs whose
  causes include the intervention's target;
- `control_reproduced`: every control re-run reproduced its run byte for byte;
- `flip_rate_true_suspects` / `flip_rate_false_suspects`: over (run, intervention) pairs, how often the
  run flips when the intervention's target is one of its causes, and when it is not;
- `per_cause`: for each cause among the tested runs, the share of its runs whose verified explanation
  includes it, beside the share whose per-trace top suspect names it;
- `rerun_cost_ratio`: seconds per re-run (pattern interventions and search rounds) over seconds per run
  of a fresh simulation of the same seed measured in the same session (target in issue #12: at most
  1.5); `search_reruns_per_run`: re-runs the search spent per run it searched.

"Names a cause" means: the same agent or tool, or for input and environment causes the same side (an
intervention on the input or environment changes the run's input or environment, whatever field it is).
Runs whose symptoms come from no cause (grader mistakes) cannot be explained and are reported apart.

Usage: python benchmarks/verify_causes.py [--runs 400] [--seed 11] [--patterns 5] [--suspects 2] [--split-check all]
(results: verify_causes.json; with another --split-check, verify_causes_split_check_<it>.json)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from truth import RunTruth, ground_truth, run_command, simulated_batch

RESULTS = Path(__file__).resolve().parent / "results"


def names_cause(truth: RunTruth, component: str, side: str) -> bool:
    """Does (component, side) name one of the run's causes (see the module docstring)?"""
    for cause in truth.causes:
        if side in ("input", "environment") and cause["side"] == side:
            return True
        if cause["component"] == component:
            return True
    return False


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def _explains(truth: RunTruth, components: list[str]) -> bool:
    """Every component changed (`side:name`) is one of the run's causes."""
    return bool(components) and all(names_cause(truth, *reversed(c.split(":", 1))) for c in components)


def _side(kind: str) -> str:
    return "agent" if kind in ("agent", "resample") else kind


def _includes(cause: dict[str, object], components: list[str]) -> bool:
    side, name = str(cause["side"]), str(cause["component"])
    return any(c == f"{side}:{side}" if side in ("input", "environment") else c.split(":", 1)[1] == name
               for c in components)  # fmt: skip


def score(analysis: Path, report: object, truth: dict[str, RunTruth]) -> dict[str, object]:
    from evswarm.core.analysis import AttributionRow, SuspectRow, read_table

    causes = [c for c in report.causes if c.scope == "pattern"]  # type: ignore[attr-defined]
    splits = [c for c in report.causes if c.scope == "split"]  # type: ignore[attr-defined]
    attribution = {row.run_id: row for row in read_table(analysis, AttributionRow)}
    pattern_top = {
        row.pattern_id: (row.component, row.side) for row in read_table(analysis, SuspectRow) if row.rank == 1
    }
    members: dict[str, int] = {}
    for row in report.runs:  # type: ignore[attr-defined]
        members.setdefault(row.run_id, row.pattern_id)
    explained_by = {row.run_id: row for row in report.run_causes if row.components}  # type: ignore[attr-defined]
    caused = [r for r in members if truth[r].causes]
    before_trace = sum(
        1 for r in caused if r in attribution and names_cause(truth[r], attribution[r].suspect_component,
                                                              attribution[r].suspect_side)
    )  # fmt: skip
    before_pattern = sum(
        1 for r in caused if members[r] in pattern_top and names_cause(truth[r], *pattern_top[members[r]])
    )
    explained = [r for r in caused if r in explained_by]
    right = [r for r in explained if _explains(truth[r], explained_by[r].components)]
    confirmed_hits = confirmed_total = 0
    for cause in causes:
        if cause.verdict not in ("confirmed", "partial"):
            continue
        side = _side(cause.kind)
        flipped = [row.run_id for row in report.runs if row.intervention == cause.intervention  # type: ignore[attr-defined]
                   and row.pattern_id == cause.pattern_id and row.flipped]  # fmt: skip
        confirmed_total += len(flipped)
        confirmed_hits += sum(1 for r in flipped if names_cause(truth[r], cause.target, side))
    controls = [c for c in causes if c.kind == "control"]
    true_flips = true_pairs = false_flips = false_pairs = 0
    kinds = {c.intervention: c for c in causes}
    for row in report.runs:  # type: ignore[attr-defined]
        cause = kinds[row.intervention]
        if cause.kind == "control" or not row.symptoms_before:
            continue
        side = _side(cause.kind)
        if names_cause(truth[row.run_id], cause.target, side):
            true_pairs += 1
            true_flips += row.flipped
        else:
            false_pairs += 1
            false_flips += row.flipped
    per_cause = []
    by_cause: dict[str, list[str]] = {}
    for run_id in members:
        for c in truth[run_id].causes:
            by_cause.setdefault(str(c["cause_id"]), []).append(run_id)
    big_named: list[bool] = []
    big_confirmed: list[bool] = []
    big_split: list[bool] = []
    for cause_id, runs in sorted(by_cause.items()):
        first = next(c for c in truth[runs[0]].causes if c["cause_id"] == cause_id)
        component, side = str(first["component"]), str(first["side"])
        hit = [r for r in runs if r in explained_by and _includes(first, explained_by[r].components)]
        trace_hit = [r for r in runs if r in attribution and (attribution[r].suspect_component == component or (
            side in ("input", "environment") and attribution[r].suspect_side == side))]  # fmt: skip
        modal = Counter(
            tuple(sorted(explained_by[r].components)) if r in explained_by else () for r in runs
        ).most_common(1)
        modal_names = bool(modal) and _includes(first, list(modal[0][0]))
        confirmed_names = any(
            c.verdict == "confirmed"
            and _includes(first, [f"{_side(c.kind)}:{c.target}"])
            and set(c.explains) & set(runs)
            for c in causes
        )
        split_names = [
            c
            for c in splits
            if c.verdict == "confirmed" and _includes(first, c.components) and set(c.explains) & set(runs)
        ]
        if len(runs) >= 10:
            big_named.append(modal_names)
            big_confirmed.append(confirmed_names)
            big_split.append(bool(split_names))
        per_cause.append({"cause": cause_id, "side": side, "component": component, "member_runs": len(runs),
                          "verified_names_it": _share(len(hit), len(runs)),
                          "suspect_top1_names_it": _share(len(trace_hit), len(runs)),
                          "modal_explanation": list(modal[0][0]) if modal else [],
                          "modal_names_it": modal_names, "confirmed_pattern_names_it": confirmed_names,
                          "confirmed_splits_naming_it": [f"P{c.pattern_id} {c.intervention} {c.flipped}/{c.runs}"
                                                         for c in split_names]})  # fmt: skip
    searched = [row for row in report.run_causes if row.found_by != "pattern"]  # type: ignore[attr-defined]
    return {
        "member_runs": len(members),
        "member_runs_with_a_cause": len(caused),
        "member_runs_without_a_cause": len(members) - len(caused),
        "unexplainable_flipped": sum(1 for r in members if not truth[r].causes and r in explained_by),
        "before_trace": _share(before_trace, len(caused)),
        "before_pattern": _share(before_pattern, len(caused)),
        "after_explained": _share(len(explained), len(caused)),
        "after_precision": _share(len(right), len(explained)),
        "after_top1": _share(len(right), len(caused)),
        "by_pattern": _share(sum(1 for r in right if explained_by[r].found_by == "pattern"), len(caused)),
        "by_search": _share(sum(1 for r in right if explained_by[r].found_by == "search"), len(caused)),
        "cause_recall": _share(
            sum(_includes(c, explained_by[r].components) for r in explained for c in truth[r].causes),
            sum(len(truth[r].causes) for r in explained),
        ),
        "causes_10plus_confirmed": {
            "causes": len(big_confirmed),
            "named": _share(sum(big_confirmed), len(big_confirmed)),
        },
        "causes_10plus_confirmed_split": {"causes": len(big_split), "named": _share(sum(big_split), len(big_split))},
        "causes_10plus_confirmed_either": {
            "causes": len(big_split),
            "named": _share(sum(a or b for a, b in zip(big_confirmed, big_split, strict=True)), len(big_split)),
        },
        "causes_10plus_by_run": {"causes": len(big_named), "named": _share(sum(big_named), len(big_named))},
        "splits": dict(Counter(c.verdict for c in splits)),
        "split_precision": _share(*_split_precision(splits, report, truth)),
        "split_specific": [sum(1 for c in splits if c.others and not c.also_flips), sum(1 for c in splits if c.others)],
        "split_others_flipped": [sum(len(c.also_flips) for c in splits), sum(c.others for c in splits)],
        "split_check_reruns": sum(c.check_reruns for c in splits),
        "split_check_reruns_if_confirmed_only": sum(c.check_reruns for c in splits if c.verdict == "confirmed"),
        "split_others_untested": sum(c.others_untested for c in splits),
        "confirmed_precision": _share(confirmed_hits, confirmed_total),
        "control_reproduced": all(c.verdict == "reproduced" for c in controls),
        "flip_rate_true_suspects": _share(true_flips, true_pairs),
        "flip_rate_false_suspects": _share(false_flips, false_pairs),
        "pairs_true_false": [true_pairs, false_pairs],
        "searched_runs": len(searched),
        "search_reruns": sum(row.reruns for row in searched),
        "search_reruns_per_run": round(sum(row.reruns for row in searched) / len(searched), 2) if searched else None,
        "per_cause": per_cause,
        "interventions": [
            {k: getattr(c, k) for k in ("pattern_id", "intervention", "runs", "flipped", "flip_rate", "verdict")}
            for c in sorted(causes, key=lambda c: (c.pattern_id, c.intervention))
        ],
        "split_verdicts": [
            {
                **{
                    k: getattr(c, k)
                    for k in (
                        "pattern_id",
                        "intervention",
                        "components",
                        "runs",
                        "flipped",
                        "flip_rate",
                        "ci_low",
                        "verdict",
                        "others",
                        "others_untested",
                        "check_reruns",
                    )
                },
                "also_flips": len(c.also_flips),
            }
            for c in sorted(splits, key=lambda c: (c.pattern_id, -c.runs, c.intervention))
        ],
    }


def _split_precision(splits: list[object], report: object, truth: dict[str, RunTruth]) -> tuple[int, int]:
    """Over confirmed splits' own runs counted as flipped: (runs whose causes include every component the
    split changes, all such runs). A split's own run counts as flipped unless its control lost the failure,
    which the split row shows only as a count: the runs are read back from `run_causes` and the controls."""
    kept = {
        row.run_id
        for row in report.runs  # type: ignore[attr-defined]
        if row.intervention == "control" and set(row.symptoms_before) <= set(row.symptoms_after)
    }
    hits = total = 0
    for split in splits:
        if split.verdict != "confirmed":  # type: ignore[attr-defined]
            continue
        for run_id in split.explains:  # type: ignore[attr-defined]
            if run_id in kept:
                total += 1
                hits += _explains(truth[run_id], split.components)  # type: ignore[attr-defined]
    return hits, total


def _simulate_seconds_per_run(batch: Path, work: Path, runs: int = 20) -> float:
    """The baseline, measured now (the machine is shared): seconds per run to simulate `runs` runs of the
    batch's seed from scratch, with the same workers verify uses."""
    from evswarm.core.manifest import read_manifest

    seed = read_manifest(batch / "batch.json").seed
    scratch = work / "verify-baseline"
    shutil.rmtree(scratch, ignore_errors=True)
    start = time.perf_counter()
    run_command(["simulate", "--runs", str(runs), "--seed", str(seed), "--out", str(scratch), "--quiet"])
    return (time.perf_counter() - start) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--patterns", type=int, default=5)
    parser.add_argument("--suspects", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "evswarm-bench")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--split-check", default="all", choices=("confirmed", "all", "reuse"))
    args = parser.parse_args()
    from evswarm.counterfactual import verify
    from evswarm.macro import AnalyzeConfig, analyze

    batch = args.work / f"batch-{args.runs}-s{args.seed}"
    sim_seconds, grade_seconds = simulated_batch(batch, args.runs, args.seed)
    analysis = args.work / f"verify-analysis-{args.runs}-s{args.seed}"
    start = time.perf_counter()
    analyze(
        batch, analysis, config=AnalyzeConfig(embedder=args.embedder, cache_root=args.work / "cache", progress=False)
    )
    analyze_seconds = time.perf_counter() - start
    simulate_per_run = _simulate_seconds_per_run(batch, args.work)
    shutil.rmtree(analysis / "counterfactual", ignore_errors=True)  # cold: every twin re-run and graded
    start = time.perf_counter()
    report = verify(batch, analysis, patterns=args.patterns, suspects=args.suspects, max_runs=None, progress=True,
                    split_check=args.split_check)  # fmt: skip
    verify_seconds = time.perf_counter() - start
    start = time.perf_counter()
    verify(batch, analysis, patterns=args.patterns, suspects=args.suspects, max_runs=None, progress=False,
           split_check=args.split_check)  # fmt: skip
    warm_seconds = time.perf_counter() - start
    truth = ground_truth(batch, twins=False).runs
    figures = score(analysis, report, truth)
    reruns = len(report.runs) + sum(row.reruns for row in report.run_causes) + report.split_reruns
    out = {
        "runs": args.runs,
        "seed": args.seed,
        "embedder": args.embedder,
        "patterns": args.patterns,
        "suspects": args.suspects,
        "split_check": args.split_check,
        **figures,
        "reruns": reruns,
        "seconds": {
            "simulate": round(sim_seconds, 1),
            "grade": round(grade_seconds, 1),
            "analyze": round(analyze_seconds, 1),
            "verify": round(verify_seconds, 1),
            "verify_again": round(warm_seconds, 1),
        },
        "verify_seconds_per_rerun": round(verify_seconds / reruns, 3) if reruns else None,
        "simulate_seconds_per_run": round(simulate_per_run, 3),
        "rerun_cost_ratio": round(verify_seconds / reruns / simulate_per_run, 2) if reruns else None,
        "notes": report.notes,
        "machine": {"cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2)},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "verify_causes.json" if args.split_check == "all" else f"verify_causes_split_check_{args.split_check}.json"
    (RESULTS / name).write_text(json.dumps(out, indent=2, default=str) + "\n")
    keys = ("member_runs_with_a_cause", "before_trace", "before_pattern", "after_explained", "after_precision",
            "after_top1", "by_pattern", "by_search", "cause_recall", "causes_10plus_confirmed",
            "causes_10plus_confirmed_split", "causes_10plus_confirmed_either", "causes_10plus_by_run", "splits",
            "split_precision", "split_specific", "split_others_flipped", "split_check_reruns",
            "split_check_reruns_if_confirmed_only", "split_others_untested",
            "confirmed_precision", "control_reproduced",
            "flip_rate_true_suspects", "flip_rate_false_suspects", "pairs_true_false", "searched_runs",
            "search_reruns_per_run", "reruns", "rerun_cost_ratio")  # fmt: skip
    for key in keys:
        print(f"{key:>28}: {out[key]}")
    for row in figures["per_cause"]:  # type: ignore[attr-defined]
        print(f"  {row['cause']:<55} {row['member_runs']:>3} runs  verified {row['verified_names_it']}  "
              f"suspect top-1 {row['suspect_top1_names_it']}  "
              f"most often: {' + '.join(row['modal_explanation']) or '-'}")  # fmt: skip
    for row in figures["interventions"]:  # type: ignore[attr-defined]
        print(f"  P{row['pattern_id']} {row['intervention']:<40} {row['flipped']}/{row['runs']} {row['verdict']}")
    for row in figures["split_verdicts"]:  # type: ignore[attr-defined]
        print(f"  split P{row['pattern_id']} {' + '.join(row['components']):<50} {row['flipped']}/{row['runs']} "
              f"{row['verdict']:<9} also flips {row['also_flips']}/{row['others']} "
              f"(check re-runs {row['check_reruns']})")  # fmt: skip


if __name__ == "__main__":
    main()
