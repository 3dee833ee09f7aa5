"""One arm of a comparison, read through core: its manifest and versions, and per run what the graders
saw (rubric verdicts, symptom patterns) and what the agents did (steps), plus the scenario it ran.

Bundles are read as `TraceBundle`s (the part every stage may read): never the oracle, the recorded model
calls or the causal record.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from evswarm.core.errors import BundleError, EvswarmError
from evswarm.core.io import parse_trace_bundle
from evswarm.core.labels import LabelRow, read_labels
from evswarm.core.layout import BatchLayout
from evswarm.core.manifest import BatchManifest, read_manifest
from evswarm.core.symptoms import Severity
from evswarm.core.versions import BatchVersions, content_hash


@dataclass
class RunRecord:
    """What a comparison needs of one run."""

    run_id: str
    scenario: str
    """A hash of the order and the dated world signals: two runs with equal hashes ran the same scenario."""
    version_set: str
    agent_versions: dict[str, str] | None
    steps: tuple[str, ...]
    """Every tool call, handoff and tripped guardrail, in order, named by agent."""
    behaviors: frozenset[str]
    label: LabelRow | None = None

    @property
    def graded(self) -> bool:
        return self.label is not None and not self.label.is_error

    def passed(self, rubric: str) -> bool | None:
        return self.label.passed(rubric) if self.label is not None else None

    @property
    def overall(self) -> bool | None:
        return self.label.promptfoo_pass if self.graded and self.label is not None else None

    @property
    def patterns(self) -> frozenset[str]:
        """Symptom patterns: what failing findings saw (kind, and subject when there is one)."""
        if not self.graded or self.label is None:
            return frozenset()
        return frozenset(
            f"{f.kind.value} {f.subject}" if f.subject else f.kind.value
            for f in self.label.findings
            if f.severity == Severity.ERROR
        )


@dataclass
class Arm:
    role: str
    root: Path
    manifest: BatchManifest | None
    versions: BatchVersions | None
    runs: dict[str, RunRecord] = field(default_factory=dict)
    rubrics: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def version_sets(self) -> list[str]:
        return sorted({run.version_set for run in self.runs.values()})

    @property
    def agent_versions(self) -> dict[str, str]:
        """The agents' versions, when every run of the arm ran the same ones (else empty)."""
        seen = {orjson.dumps(r.agent_versions, option=orjson.OPT_SORT_KEYS) for r in self.runs.values()}
        if len(seen) != 1:
            return {}
        return next(iter(self.runs.values())).agent_versions or {}


def _steps(spans: list[dict[str, object]], agents: list[str | None]) -> tuple[str, ...]:
    steps = []
    for span, agent in zip(spans, agents, strict=True):
        kind = span.get("type")
        if kind == "function":
            steps.append(f"{agent} calls {span.get('name')}")
        elif kind == "handoff":
            steps.append(f"{span.get('from_agent')} hands off to {span.get('to_agent')}")
        elif kind == "guardrail" and span.get("triggered"):
            steps.append(f"guardrail {span.get('name')} trips")
    return tuple(steps)


def behaviors_of(steps: tuple[str, ...], decision: str | None, status: str) -> frozenset[str]:
    """A run's behaviors: each step it takes at all, how often when more than once, how it ended."""
    counts = Counter(steps)
    out = set(counts) | {f"{step} ×{n}" for step, n in counts.items() if n > 1}
    out.add(f"ends {status}" + (f" with {decision}" if decision else ""))
    return frozenset(out)


def _run(raw: bytes, source: str) -> RunRecord:
    data = orjson.loads(raw)
    if not isinstance(data, dict):
        raise BundleError(f"{source}: expected a JSON object")
    bundle = parse_trace_bundle(data, source=source)
    summary = bundle.run.summary
    steps = _steps([s.span_data for s in bundle.spans], [s.agent_name for s in bundle.spans])
    decision = summary.final_decision.decision if summary.final_decision else None
    return RunRecord(
        run_id=bundle.run.run_id,
        scenario=content_hash([data["run"].get("config"), data.get("environment_events", [])], 16),
        version_set=summary.agent_version_set,
        agent_versions=summary.agent_versions,
        steps=steps,
        behaviors=behaviors_of(steps, str(decision) if decision else None, str(bundle.run.status)),
    )


def load_arm(role: str, root: Path) -> Arm:
    """Read a batch directory as one arm; it needs bundles and grades (`eval_labels.jsonl`)."""
    layout = BatchLayout(root)
    if not root.is_dir():
        raise EvswarmError(f"{role} batch {root} does not exist")
    paths = list(layout.bundle_paths())
    if not paths:
        raise EvswarmError(f"{role} batch {root} holds no bundles", hint="point at an `evswarm simulate --out` dir")
    if not layout.labels.is_file():
        raise EvswarmError(
            f"{role} batch {root} has no grades ({layout.labels.name})", hint=f"run `evswarm grade {root}` first"
        )
    manifest = read_manifest(layout.manifest) if layout.manifest.is_file() else None
    versions = None
    if layout.versions.is_file():
        from evswarm.core.io import load_json

        versions = BatchVersions.model_validate(load_json(layout.versions))
    arm = Arm(role=role, root=root, manifest=manifest, versions=versions)
    for path in paths:
        try:
            run = _run(path.read_bytes(), str(path))
        except (BundleError, OSError, orjson.JSONDecodeError) as exc:
            arm.notes.append(f"{role}: skipped {path.name}: {exc}".splitlines()[0])
            continue
        arm.runs[run.run_id] = run
    rubrics: dict[str, None] = {}
    unknown = 0
    for row in read_labels(layout.labels, on_bad_row=lambda message: arm.notes.append(f"{role}: {message}")):
        if row.run_id in arm.runs:
            arm.runs[row.run_id].label = row
            rubrics.update(dict.fromkeys(row.promptfoo_check_scores))
            rubrics.update(dict.fromkeys(row.promptfoo_failed_checks))
        else:
            unknown += 1
    arm.rubrics = list(rubrics)
    ungraded = sum(1 for run in arm.runs.values() if not run.graded)
    if ungraded:
        arm.notes.append(f"{role}: {ungraded} run(s) have no usable grade and are left out of the rubric checks")
    if unknown:
        arm.notes.append(f"{role}: {unknown} label row(s) name runs that are not in the batch; ignored")
    return arm
