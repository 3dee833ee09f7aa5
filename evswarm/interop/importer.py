"""`import_traces(sources, out)`: bring foreign traces in as a batch directory every stage reads.

Every payload goes through the canonical step model of `evswarm.core.formats` (the readers the review
app uses), then becomes a bundle (`to_bundle`); Agents SDK exports become bundles directly, keeping their
span types. Ids come from the source (the payload's own `id`, `trace_id` or `run_id`, an OpenTelemetry
trace id, else the file name, with the line number for a line of a JSON Lines file). Titles come from
the payload's title, else its first user message. Outcomes come from the payload (`outcome`, `status`,
`success`, `is_correct`, ...), or from an outcomes file (which wins), else they are `unknown`.

Nothing is half-written: every source is read and converted first. Problems (a file no reader accepts,
a file of mixed formats, a bad line, two traces with one id) stop the import with all of them listed
(exit 2) unless `skip_bad` is set, in which case the rest is imported and the problems are reported.
Warnings (traces naming no agent, no failing trace, outcomes for unknown ids) never stop it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evswarm.core.batch_speakers import record_named
from evswarm.core.bundle import Bundle, RunStatus
from evswarm.core.errors import BundleError, EvswarmError
from evswarm.core.foreign import ForeignBatch, run_id_for, sdk_bundle
from evswarm.core.formats import ImportFormatError, to_traces
from evswarm.core.formats.common import first_str
from evswarm.core.io import parse_bundle
from evswarm.core.speakers import named_speakers, named_twice
from evswarm.interop.outcomes import OutcomeRow, parse_outcome, read_outcomes
from evswarm.interop.sdk_export import read_sdk_export
from evswarm.interop.sources import FORMATS, Payload, core_format, expand, read_file
from evswarm.interop.to_bundle import DEFAULT_AGENT, to_bundle

_OUTCOME_KEYS = ("outcome", "status", "terminal_state", "success", "is_correct", "correct", "resolved")


@dataclass
class Imported:
    """One trace ready to write."""

    source: str
    source_id: str
    fmt: str
    bundle: Bundle
    unnamed_agent_steps: int = 0


@dataclass
class ImportResult:
    out_dir: Path
    written: int
    unchanged: int
    traces: list[Imported]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def formats(self) -> Counter[str]:
        return Counter(t.fmt for t in self.traces)

    @property
    def outcomes(self) -> Counter[str]:
        return Counter(t.bundle.run.status.value for t in self.traces)


def _payload_outcome(value: Any) -> RunStatus | None:
    if not isinstance(value, dict):
        return None
    metadata = value.get("metadata")
    for mapping in (value, metadata if isinstance(metadata, dict) else {}):
        for key in _OUTCOME_KEYS:
            if key in mapping and (status := parse_outcome(mapping[key])) is not None:
                return status
    return None


def _merged_otel(payload: Payload) -> Any:
    if isinstance(payload.value, list) and payload.lines:  # JSON Lines of OTLP batches (or span lists)
        batches: list[Any] = []
        spans: list[Any] = []
        for line in payload.value:
            if isinstance(line, dict) and isinstance(line.get("resourceSpans"), list):
                batches += line["resourceSpans"]
            elif isinstance(line, dict) and isinstance(line.get("spans"), list):
                spans += line["spans"]
            else:
                spans.append(line)
        if batches and spans:
            raise ImportFormatError(f"{payload.source}: mixes OTLP batches and bare spans")
        return {"resourceSpans": batches} if batches else spans
    return payload.value


class _Converter:
    def __init__(self, fmt: str, outcomes: dict[str, OutcomeRow]) -> None:
        self.fmt = fmt
        self.outcomes = outcomes
        self.used_outcomes: set[str] = set()

    def _outcome(self, source_id: str, run_id: str, fallback: RunStatus | None) -> tuple[RunStatus, str | None]:
        row = self.outcomes.get(source_id) or self.outcomes.get(run_id)
        if row is not None:
            self.used_outcomes.add(row.trace_id)
            return row.status or fallback or RunStatus.UNKNOWN, row.anchor
        return fallback or RunStatus.UNKNOWN, None

    def convert(self, payload: Payload) -> list[Imported]:
        if payload.fmt == "agents-sdk":
            return self._sdk(payload)
        if payload.fmt == "evswarm":
            return [self._evswarm(payload)]
        value = _merged_otel(payload) if payload.fmt in ("otel", "openinference") else payload.value
        traces = to_traces(value, core_format(payload.fmt))
        single = len(traces) == 1
        out = []
        for trace in traces:
            explicit = payload.fmt in ("otel", "openinference") or (
                isinstance(value, dict) and first_str(value, "id", "trace_id", "run_id") is not None
            )
            source_id = trace.trace_id if explicit or not single else payload.stem
            run_id = run_id_for(source_id)
            own = _payload_outcome(value) or _status(trace.outcome)
            status, anchor = self._outcome(source_id, run_id, own)
            try:
                converted = to_bundle(trace, run_id=run_id, source_id=source_id, status=status, anchor=anchor)
            except ValueError as exc:
                raise ImportFormatError(f"{payload.source}: trace {source_id}: {exc}") from exc
            out.append(
                Imported(payload.source, source_id, payload.fmt, converted.bundle, converted.unnamed_agent_steps)
            )
        return out

    def _sdk(self, payload: Payload) -> list[Imported]:
        out = []
        for trace_id, trace_export, spans in read_sdk_export(payload.value):
            run_id = run_id_for(trace_id)
            status, anchor = self._outcome(trace_id, run_id, None)
            try:
                bundle = sdk_bundle(
                    trace_id,
                    trace_export,
                    spans,
                    run_id=run_id,
                    source_id=trace_id,
                    status=status if status is not RunStatus.UNKNOWN else None,
                    anchor=anchor,
                )
            except ValueError as exc:
                raise ImportFormatError(f"{payload.source}: trace {trace_id}: {exc}") from exc
            out.append(Imported(payload.source, trace_id, payload.fmt, bundle))
        return out

    def _evswarm(self, payload: Payload) -> Imported:
        if not isinstance(payload.value, dict):
            raise ImportFormatError(f"{payload.source}: an evswarm bundle must be a JSON object")
        try:
            bundle = parse_bundle(payload.value, source=payload.source)
        except BundleError as exc:
            raise ImportFormatError(exc.message) from exc
        run_id = bundle.run.run_id
        row = self.outcomes.get(run_id)
        if row is not None and row.status is not None:
            self.used_outcomes.add(row.trace_id)
            bundle.run.status = row.status
            bundle.run.summary.terminal_state = row.status
        return Imported(payload.source, run_id, payload.fmt, bundle)


def _status(text: str | None) -> RunStatus | None:
    return parse_outcome(text) if text else None


def import_traces(
    sources: list[Path],
    out_dir: Path,
    *,
    fmt: str = "auto",
    outcomes: Path | None = None,
    skip_bad: bool = False,
    label: str = "imported",
    agents: Iterable[str] = (),
    people: Iterable[str] = (),
) -> ImportResult:
    """Read every source, convert it, and write the batch (bundles and `results.jsonl`) into `out_dir`.
    Speakers named in `agents` / `people` are agents / people whatever their names' words
    (`evswarm.core.speakers.named_speakers`), and the batch keeps the names (`evswarm.core.batch_speakers`).

    Raises an EvswarmError (exit 2) listing every problem when a source cannot be imported (unless
    `skip_bad`), and when nothing at all can be imported."""
    if fmt not in FORMATS:
        raise EvswarmError(f"unknown --format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    if isinstance(agents, str) or isinstance(people, str):
        raise TypeError("agents and people take lists of names, not a string")
    agents, people = list(agents), list(people)
    both = named_twice(agents, people)
    if both:
        raise EvswarmError(
            f"--agent and --person both name {', '.join(both)}", hint="give each speaker one kind (names ignore case)"
        )
    with named_speakers(agents, people):
        result = _import(sources, out_dir, fmt, outcomes, skip_bad, label)
    if agents or people:
        record_named(result.out_dir, agents, people)  # analyze blames them the same way
    return result


def _import(
    sources: list[Path], out_dir: Path, fmt: str, outcomes: Path | None, skip_bad: bool, label: str
) -> ImportResult:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise EvswarmError(f"--out {out} is a file, not a directory")
    outcome_rows = read_outcomes(outcomes) if outcomes is not None else {}
    converter = _Converter(fmt, outcome_rows)
    problems: list[str] = []
    traces: list[Imported] = []
    for path in expand(sources):
        try:
            payloads = read_file(path, fmt)
        except ImportFormatError as exc:
            problems.append(str(exc))
            continue
        for payload in payloads:
            try:
                traces += converter.convert(payload)
            except ImportFormatError as exc:
                message = str(exc)
                problems.append(message if message.startswith(payload.source) else f"{payload.source}: {message}")
    seen: dict[str, str] = {}
    unique: list[Imported] = []
    for trace in traces:
        run_id = trace.bundle.run.run_id
        if run_id in seen:
            problems.append(f"{trace.source}: trace id {trace.source_id} is already used by {seen[run_id]}")
            continue
        seen[run_id] = trace.source
        unique.append(trace)
    if problems and not skip_bad:
        shown = "\n  ".join(problems[:10]) + (f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise EvswarmError(
            f"{len(problems)} problem(s); nothing was written:\n  {shown}",
            hint="fix the sources, pass --format, or --skip-bad to import the rest",
        )
    if not unique:
        raise EvswarmError("no trace could be imported", hint="check the sources and --format")
    batch = ForeignBatch(out, label=label)
    written = sum(batch.add(t.bundle) for t in unique)
    batch.flush()
    result = ImportResult(out, written, len(unique) - written, unique, problems)
    result.warnings = _warnings(result, outcome_rows, converter.used_outcomes)
    return result


def _warnings(result: ImportResult, outcomes: dict[str, OutcomeRow], used: set[str]) -> list[str]:
    warnings = []
    unnamed = [t for t in result.traces if t.unnamed_agent_steps]
    if unnamed:
        warnings.append(
            f"{len(unnamed)} trace(s) name no agent on some steps (e.g. {unnamed[0].source_id}): those steps are "
            f"attributed to `{DEFAULT_AGENT}`; give each message a `name` to tell agents apart"
        )
    unknown = sorted(set(outcomes) - used)
    if unknown:
        warnings.append(
            f"the outcomes file names {len(unknown)} trace id(s) that were not imported: "
            + ", ".join(unknown[:5])
            + (" ..." if len(unknown) > 5 else "")
        )
    counts = result.outcomes
    if not counts.get(RunStatus.FAILED.value):
        how = (
            "no outcome is known for any trace"
            if counts.get(RunStatus.UNKNOWN.value) == len(result.traces)
            else "no trace failed"
        )
        warnings.append(
            f"{how}: `evswarm analyze` will look for traces that behave unlike their peers; pass --outcomes FILE "
            "(trace id, outcome) to say which failed"
        )
    return warnings
