"""Score evswarm's per-trace attribution, and the obvious baselines, against human root-cause labels.

A label file is CSV (with a header) or JSON Lines; each row names a trace (`trace_id`, `run_id` or `id`:
the source id or the run id), the responsible agent (`agent`, `mistake_agent`) and the responsible step
(`step`, `mistake_step`: the step's position in the source, e.g. the message index of a chat log; or
`step_id`: a span id), and optionally who labelled it (`annotator`). A trace labelled by several
annotators is scored against the first label, and the annotators' agreement is reported.

The attribution is read from `OUT/attribution.json` (written by `evswarm analyze`); the steps and the
baselines come from the batch's bundles (`--batch`, default: the batch the analysis names), on the same
steps: the last agent that spoke (skipping the closing message of the agent that opened the run), the
agent that spoke most, and the first agent; each baseline's step is that agent's last (first, for the
first agent) step. The baselines count the speakers the analysis could blame (its `also_blame`,
`never_blame` and `blame`, read from `OUT/analysis.json`; see `evswarm.core.speakers`), so every method
picks among the same speakers (the baselines here read the whole trace; the attribution table's own
baseline columns stop at the anchor). A step's position is its `source_step` for imported bundles, else
its index among the bundle's spans.

Reported per method: agent accuracy, step exact / within ±1 / within ±3 (over labelled traces the method
named a step for), and counts of labelled traces it abstained on (no attribution row, or the `input`
suspect); plus how many attributed traces have no label.
"""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evswarm.core.analysis import AttributionRow, read_table
from evswarm.core.bundle import Bundle
from evswarm.core.errors import EvswarmError
from evswarm.core.io import iter_jsonl, load_json, read_bundle
from evswarm.core.layout import BatchLayout
from evswarm.core.speakers import TURN_SPAN_TYPES, Blameable

METHODS = ("evswarm", "last_agent", "most_frequent_agent", "first_agent")


@dataclass(frozen=True)
class Label:
    trace_id: str
    agent: str | None
    step: int | None
    step_id: str | None
    annotator: str


@dataclass
class Guess:
    agent: str | None
    step: int | None


@dataclass
class MethodScore:
    labelled: int = 0
    abstained: int = 0
    agent_correct: int = 0
    steps_scored: int = 0
    step_exact: int = 0
    step_within_1: int = 0
    step_within_3: int = 0

    def as_dict(self) -> dict[str, Any]:
        answered = self.labelled - self.abstained

        def share(n: int, d: int) -> float | None:
            return round(n / d, 4) if d else None

        return {
            "labelled": self.labelled,
            "abstained": self.abstained,
            "agent_accuracy": share(self.agent_correct, self.labelled),
            "agent_accuracy_answered": share(self.agent_correct, answered),
            "step_exact": share(self.step_exact, self.labelled),
            "step_within_1": share(self.step_within_1, self.labelled),
            "step_within_3": share(self.step_within_3, self.labelled),
        }


@dataclass
class ScoreReport:
    methods: dict[str, MethodScore]
    labelled_traces: int
    unlabelled_attributed: int
    labels_for_unknown_traces: list[str]
    agreement: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "labelled_traces": self.labelled_traces,
            "unlabelled_attributed_traces": self.unlabelled_attributed,
            "labels_for_unknown_traces": len(self.labels_for_unknown_traces),
            "methods": {name: score.as_dict() for name, score in self.methods.items()},
            "agreement": self.agreement,
        }


def _int(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(float(str(value)))
    except ValueError:
        return None


def _label(raw: dict[str, Any], where: str) -> Label:
    trace = next((str(raw[k]) for k in ("trace_id", "run_id", "id") if raw.get(k) not in (None, "")), None)
    if trace is None:
        raise EvswarmError(f"{where}: no trace id (expected trace_id, run_id or id)")
    agent = next((str(raw[k]) for k in ("agent", "mistake_agent") if raw.get(k) not in (None, "")), None)
    step_raw = next((raw[k] for k in ("step", "mistake_step") if raw.get(k) not in (None, "")), None)
    step = _int(step_raw)
    if step_raw is not None and step is None:
        raise EvswarmError(f"{where}: step {step_raw!r} is not a number (use step_id for a span id)")
    step_id = str(raw["step_id"]) if raw.get("step_id") not in (None, "") else None
    return Label(trace, agent, step, step_id, str(raw.get("annotator") or "labeller"))


def read_root_cause_labels(path: Path) -> list[Label]:
    """Labels from CSV or JSON Lines; a bad row raises an EvswarmError naming the file and line."""
    if not path.is_file():
        raise EvswarmError(f"{path}: no such label file")
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        labels = [_label(raw, f"{path}:{n}") for n, raw in iter_jsonl(path)]
    else:
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                labels = [_label(raw, f"{path}:{n}") for n, raw in enumerate(csv.DictReader(handle), start=2)]
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise EvswarmError(f"cannot read {path}: {exc}") from exc
    if not labels:
        raise EvswarmError(f"{path}: no labels")
    return labels


@dataclass
class _Steps:
    """One bundle's agent steps: (position, agent, span id) in order, and span id -> position."""

    agents: list[tuple[int, str, str]]
    position: dict[str, int]
    source_id: str
    hub: str | None


def _steps(bundle: Bundle, blame: Blameable) -> _Steps:
    position: dict[str, int] = {}
    agents: list[tuple[int, str, str]] = []
    for index, span in enumerate(bundle.spans):
        where = getattr(span, "source_step", None)
        pos = where if isinstance(where, int) else index
        position[span.span_id] = pos
        acts = span.span_type in TURN_SPAN_TYPES and blame.allows(span.agent_name)
        if acts and (not agents or agents[-1][1] != span.agent_name or agents[-1][0] != pos):
            agents.append((pos, str(span.agent_name), span.span_id))
    source = getattr(bundle.run.summary, "source_id", None) or bundle.run.run_id
    return _Steps(agents, position, str(source), agents[0][1] if agents else None)


def baselines(steps: _Steps) -> dict[str, Guess]:
    """The obvious guesses on one trace's agent steps."""
    turns = steps.agents
    if not turns:
        return {m: Guess(None, None) for m in METHODS[1:]}
    closing = turns[:-1] if len(turns) > 1 and turns[-1][1] == steps.hub else turns
    last = closing[-1]
    counts = Counter(agent for _, agent, _ in turns)
    frequent = counts.most_common(1)[0][0]
    frequent_step = next(pos for pos, agent, _ in reversed(turns) if agent == frequent)
    return {
        "last_agent": Guess(last[1], last[0]),
        "most_frequent_agent": Guess(frequent, frequent_step),
        "first_agent": Guess(turns[0][1], turns[0][0]),
    }


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().lower() == b.strip().lower()


def _agreement(labels: list[Label]) -> dict[str, Any]:
    """Agreement between annotators who labelled the same traces: per pair, agent agreement (share and
    Cohen's kappa) and step agreement (exact and within ±3)."""
    from sklearn.metrics import cohen_kappa_score

    by: dict[str, dict[str, Label]] = {}
    for label in labels:
        by.setdefault(label.annotator, {}).setdefault(label.trace_id, label)
    pairs = []
    for a, b in itertools.combinations(sorted(by), 2):
        shared = sorted(set(by[a]) & set(by[b]))
        if not shared:
            continue
        agents_a = [str(by[a][t].agent) for t in shared]
        agents_b = [str(by[b][t].agent) for t in shared]
        steps = [
            (by[a][t].step, by[b][t].step) for t in shared if by[a][t].step is not None and by[b][t].step is not None
        ]
        same = sum(x == y for x, y in zip(agents_a, agents_b, strict=True))
        kappa = cohen_kappa_score(agents_a, agents_b) if len(set(agents_a) | set(agents_b)) > 1 else 1.0
        pairs.append(
            {
                "annotators": [a, b],
                "traces": len(shared),
                "agent_agreement": round(same / len(shared), 4),
                "agent_kappa": round(float(kappa), 4),
                "step_exact": round(sum(x == y for x, y in steps) / len(steps), 4) if steps else None,
                "step_within_3": round(sum(abs(x - y) <= 3 for x, y in steps) / len(steps), 4) if steps else None,  # type: ignore[operator]
            }
        )
    return {"annotators": sorted(by), "pairs": pairs}


def score_attribution(labels_path: Path, analysis_dir: Path, batch_dir: Path | None = None) -> ScoreReport:
    """Score the attribution in `analysis_dir` and the baselines against the labels in `labels_path`."""
    labels = read_root_cause_labels(labels_path)
    rows = {row.run_id: row for row in read_table(Path(analysis_dir), AttributionRow)}
    manifest_path = Path(analysis_dir) / "analysis.json"
    manifest = load_json(manifest_path) if manifest_path.is_file() else {}
    config = manifest.get("config") or {}
    blame = Blameable.of(config.get("also_blame") or [], config.get("never_blame") or [], config.get("blame") or [])
    if batch_dir is None:
        recorded = manifest.get("batch_dir")
        if not recorded:
            raise EvswarmError(f"{analysis_dir}: cannot tell which batch was analyzed", hint="pass --batch DIR")
        batch_dir = Path(str(recorded))
    layout = BatchLayout(Path(batch_dir))
    bundles = {p.stem: p for p in layout.bundle_paths()}
    if not bundles:
        raise EvswarmError(f"{batch_dir}: no bundles", hint="pass the batch directory the analysis was made from")
    steps_of: dict[str, _Steps] = {}
    by_source: dict[str, str] = {}
    for run_id, path in bundles.items():
        steps_of[run_id] = _steps(read_bundle(path), blame)
        by_source[steps_of[run_id].source_id] = run_id
    first: dict[str, Label] = {}
    for label in labels:
        first.setdefault(label.trace_id, label)
    methods = {name: MethodScore() for name in METHODS}
    unknown: list[str] = []
    for trace_id, label in first.items():
        found: str | None = trace_id if trace_id in steps_of else by_source.get(trace_id)
        if found is None:
            unknown.append(trace_id)
            continue
        steps = steps_of[found]
        want_step = label.step if label.step is not None else steps.position.get(label.step_id or "")
        row = rows.get(found)
        guesses = dict(baselines(steps))
        if row is None or row.suspect_agent == "input":
            guesses["evswarm"] = Guess(None, None)
        else:
            guesses["evswarm"] = Guess(row.suspect_agent, steps.position.get(row.suspect_event_id))
        for name in METHODS:
            guess, score = guesses[name], methods[name]
            score.labelled += 1
            if guess.agent is None:
                score.abstained += 1
                continue
            score.agent_correct += _same(guess.agent, label.agent)
            if want_step is not None and guess.step is not None:
                score.steps_scored += 1
                gap = abs(guess.step - want_step)
                score.step_exact += gap == 0
                score.step_within_1 += gap <= 1
                score.step_within_3 += gap <= 3
    labelled = len(first) - len(unknown)
    if not labelled:
        raise EvswarmError(
            f"none of the {len(first)} labelled trace(s) is in {batch_dir}",
            hint="label rows name traces by the source id or the run id (bundles/run_<id>.json)",
        )
    report = ScoreReport(methods, labelled, len(set(rows) - {by_source.get(t, t) for t in first}), unknown)
    report.agreement = _agreement(labels)
    return report
