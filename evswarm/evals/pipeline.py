"""`grade(batch_dir)`: grade every bundle of a batch with promptfoo and write the label file."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evswarm.core.errors import EvswarmError
from evswarm.core.io import atomic_write_bytes, atomic_write_jsonl, read_jsonl
from evswarm.core.labels import LabelRow, write_labels
from evswarm.core.layout import BatchLayout
from evswarm.evals import promptfoo
from evswarm.evals.config import build_config, load_assertions, load_base_config
from evswarm.evals.report import rates_table
from evswarm.evals.results import label_rows
from evswarm.evals.testcases import bundle_targets, test_cases


@dataclass(frozen=True)
class GraderSpec:
    """`offline` (deterministic rubrics only), `openai:MODEL`, or a local promptfoo provider `file://x.py`."""

    name: str
    promptfoo_id: str | None
    network: bool

    @classmethod
    def parse(cls, text: str) -> GraderSpec:
        text = text.strip()
        if text == "offline":
            return cls(text, None, network=False)
        if text.startswith("openai:") and len(text) > len("openai:"):
            if not os.environ.get("OPENAI_API_KEY"):
                raise EvswarmError(
                    f"--grader {text} needs OPENAI_API_KEY",
                    hint="use --grader offline to grade without a model",
                )
            return cls(text, text, network=True)
        if text.startswith("file://"):
            path = Path(text[len("file://") :].split(":", 1)[0]).resolve()
            if not path.is_file():
                raise EvswarmError(f"--grader {text}: no such file {path}")
            suffix = text[len("file://") :].partition(":")[2]
            return cls(text, f"file://{path}" + (f":{suffix}" if suffix else ""), network=False)
        raise EvswarmError(
            f"unknown grader {text!r}",
            hint="use offline, openai:MODEL (e.g. openai:gpt-4.1-mini) or file://grader.py",
        )

    @property
    def llm(self) -> bool:
        return self.promptfoo_id is not None


@dataclass(frozen=True)
class GradeResult:
    labels_path: Path
    promptfoo_path: Path
    rows: list[LabelRow]

    @property
    def errors(self) -> list[LabelRow]:
        return [row for row in self.rows if row.grade_status != "graded"]


def grade(
    batch_dir: Path,
    *,
    grader: str = "offline",
    jobs: int = 4,
    console: Console | None = None,
    progress: bool = True,
    timeout: float | None = None,
    assertions: Path | None = None,
) -> GradeResult:
    """Grade every bundle in `batch_dir`; write `eval_labels.jsonl` and `promptfoo_results.json` there.

    `assertions`: a YAML file of the user's own promptfoo assertions (each with a `metric`), run beside
    the rubrics; their verdicts join each label row under their metric names."""
    console = console or Console()
    spec = GraderSpec.parse(grader)
    layout = BatchLayout(batch_dir)
    if not batch_dir.is_dir():
        raise EvswarmError(f"batch directory {batch_dir} does not exist")
    targets = bundle_targets(batch_dir)
    if not targets:
        raise EvswarmError(
            f"no bundles to grade in {layout.bundles_dir}", hint="run `evswarm simulate --out DIR` first"
        )
    install = promptfoo.locate()
    base = load_base_config(install.config)
    extra = load_assertions(assertions) if assertions is not None else []
    base["defaultTest"]["assert"] = [*base["defaultTest"]["assert"], *extra]
    facts = _results_facts(layout)

    with _workdir() as work:
        tests_file = work / "tests.jsonl"
        atomic_write_jsonl(tests_file, test_cases(targets))
        progress_file = work / "progress.log"
        progress_file.touch()
        config = build_config(base, tests_file=tests_file, progress_file=progress_file, llm=spec.llm)
        config_file = work / "promptfooconfig.yaml"
        config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        output_file = work / "promptfoo_results.json"
        env = promptfoo.environment(work / "state", network=spec.network)
        with _progress_bar(console, len(targets), progress_file, enabled=progress) as poll:
            output = promptfoo.run_eval(
                install, config_file, output_file, env=env, grader=spec.promptfoo_id, jobs=jobs,
                on_poll=poll, timeout=timeout,
            )  # fmt: skip
        metrics = tuple(str(a["metric"]) for a in extra)
        rows = label_rows(output, [run_id for run_id, _ in targets], facts, llm=spec.llm, extra=metrics)
        write_labels(layout.labels, rows)
        atomic_write_bytes(layout.promptfoo_results, output_file.read_bytes())

    result = GradeResult(labels_path=layout.labels, promptfoo_path=layout.promptfoo_results, rows=rows)
    _print_summary(console, result, spec)
    return result


def _results_facts(layout: BatchLayout) -> dict[str, dict[str, Any]]:
    """Case type and version set per run from results.jsonl, for error rows whose bundle cannot be read."""
    if not layout.results.is_file():
        return {}
    facts: dict[str, dict[str, Any]] = {}
    try:
        for row in read_jsonl(layout.results):
            if isinstance(row.get("run_id"), str):
                facts[row["run_id"]] = {
                    "case_type": row.get("scenario_family") or row.get("case_type"),
                    "agent_version_set": row.get("agent_version_set"),
                    "run_outcome": None,
                }
    except EvswarmError:
        return facts
    return facts


@contextmanager
def _workdir() -> Iterator[Path]:
    """Scratch dir for config, tests and promptfoo state: removed on success, kept (with its log) on error."""
    work = Path(tempfile.mkdtemp(prefix="evswarm-grade-"))
    yield work
    shutil.rmtree(work, ignore_errors=True)


@contextmanager
def _progress_bar(console: Console, total: int, progress_file: Path, *, enabled: bool) -> Iterator[Any]:
    """A progress bar fed by the provider's one-line-per-bundle progress file."""
    if not enabled:
        yield None
        return
    columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("grading", total=total)

        def poll() -> None:
            bar.update(task, completed=min(total, progress_file.stat().st_size // 2))

        yield poll


def _print_summary(console: Console, result: GradeResult, spec: GraderSpec) -> None:
    rows = result.rows
    graded = [row for row in rows if not row.is_error]
    title = f"Pass rates, {len(graded)} graded run(s), 95% Wilson intervals (grader: {spec.name})"
    console.print(rates_table(rows, title))
    broken = [row for row in rows if row.is_error]
    partial = [row for row in rows if row.grade_status == "partial"]
    if broken or partial:
        console.print(
            f"[yellow]{len(broken)} run(s) could not be graded and {len(partial)} had a grader error; "
            "they are error rows in the labels, not agent failures.[/]"
        )
        for row in (broken + partial)[:5]:
            console.print(f"  [yellow]{row.run_id}[/]: {row.grade_error}", highlight=False)
    llm_errors = [row for row in rows if row.promptfoo_llm_error]
    if llm_errors:
        console.print(f"[yellow]{len(llm_errors)} run(s) lack a model-graded verdict (judge errors).[/]")
    console.print(f"labels: {result.labels_path}\npromptfoo results: {result.promptfoo_path}", highlight=False)
