"""Benchmark `evswarm grade`: wall time for 1000 bundles and the ratio to promptfoo's own floor.

The floor is the same 1000 tests through the same pinned promptfoo CLI, with a Python provider that does
nothing (same worker pool) and five javascript assertions that do nothing; an `echo` provider floor is
reported too. Target: ratio <= 2.

    .venv/bin/python benchmarks/grade.py [--runs 1000] [--batch DIR] [--jobs 4]

Without --batch it simulates a batch (`evswarm simulate --runs N --seed 11`) under /tmp and reuses it.
Writes benchmarks/results/grade.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evswarm.core.layout import BatchLayout  # noqa: E402
from evswarm.evals import promptfoo  # noqa: E402
from evswarm.evals.pipeline import grade  # noqa: E402
from evswarm.evals.rubrics import RUBRICS  # noqa: E402
from evswarm.evals.testcases import bundle_targets, test_cases  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
NOOP_PROVIDER = """
def call_api(prompt, options, context):
    return {"output": "{}"}
"""


def simulated_batch(runs: int, seed: int) -> Path:
    """A simulated batch under /tmp, made once and reused (`evswarm simulate` is resumable)."""
    out = Path(tempfile.gettempdir()) / f"evswarm-bench-batch-{runs}-{seed}"
    if len(list(BatchLayout(out).bundle_paths())) < runs:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "evswarm", "simulate", "--runs", str(runs), "--seed", str(seed)]
        subprocess.run([*command, "--out", str(out)], check=True, env=env, cwd=ROOT)
    return out


def floor_seconds(batch: Path, *, jobs: int, provider: str) -> float:
    """promptfoo on the same tests with a do-nothing provider (`python` or `echo`) and assertions."""
    install = promptfoo.locate()
    base = yaml.safe_load(install.config.read_text())
    with tempfile.TemporaryDirectory(prefix="evswarm-floor-") as tmp:
        work = Path(tmp)
        tests = work / "tests.jsonl"
        tests.write_text("".join(json.dumps(t) + "\n" for t in test_cases(bundle_targets(batch))))
        (work / "noop.py").write_text(NOOP_PROVIDER)
        workers = (base["providers"][0].get("config") or {}).get("workers", 2)
        config = {
            "prompts": base["prompts"],
            "providers": [
                {"id": f"file://{work / 'noop.py'}", "config": {"workers": workers}} if provider == "python"
                else {"id": "echo"}
            ],
            "tests": f"file://{tests}",
            "defaultTest": {"assert": [{"type": "javascript", "metric": n, "value": "true"}
                                       for n in RUBRICS]},
            "sharing": False,
        }  # fmt: skip
        config_file = work / "promptfooconfig.yaml"
        config_file.write_text(yaml.safe_dump(config))
        env = promptfoo.environment(work / "state", network=False)
        started = time.perf_counter()
        promptfoo.run_eval(install, config_file, work / "out.json", env=env, grader=None, jobs=jobs)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--batch", type=Path, help="grade this batch instead of simulating one")
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1, help="take the best of N timings of each")
    args = parser.parse_args()

    batch = args.batch or simulated_batch(args.runs, args.seed)
    n = len(bundle_targets(batch))
    console = Console()
    console.print(f"grading {n} bundles from {batch} (jobs={args.jobs})")

    grade_times, python_floor, echo_floor = [], [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = grade(batch, jobs=args.jobs, console=Console(file=io.StringIO()), progress=False)
        grade_times.append(time.perf_counter() - started)
        python_floor.append(floor_seconds(batch, jobs=args.jobs, provider="python"))
        echo_floor.append(floor_seconds(batch, jobs=args.jobs, provider="echo"))

    wall, floor, echo = min(grade_times), min(python_floor), min(echo_floor)
    report = {
        "benchmark": "grade",
        "bundles": n,
        "batch": str(batch),
        "source": "given batch" if args.batch else "evswarm simulate",
        "jobs": args.jobs,
        "repeat": args.repeat,
        "grade_wall_s": round(wall, 2),
        "bundles_per_s": round(n / wall, 1),
        "floor_noop_python_provider_s": round(floor, 2),
        "floor_echo_provider_s": round(echo, 2),
        "ratio_vs_noop_python_floor": round(wall / floor, 2),
        "ratio_vs_echo_floor": round(wall / echo, 2),
        "target_ratio": 2.0,
        "meets_target": wall / floor <= 2.0,
        "graded_rows": sum(1 for row in result.rows if row.grade_status == "graded"),
        "error_rows": sum(1 for row in result.rows if row.grade_status != "graded"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "grade.json").write_text(json.dumps(report, indent=2) + "\n")
    console.print_json(data=report)


if __name__ == "__main__":
    main()
