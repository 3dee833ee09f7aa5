"""`evswarm.record(DIR)`: record the traces of your own Agents SDK app as an evswarm batch.

One call installs a tracing processor; every trace the SDK closes afterwards becomes a bundle (no oracle,
no causal record: see `evswarm.core.foreign`) in `DIR/bundles/`, with its row in `DIR/results.jsonl`.
The batch is resumable: rows already there are kept, and a trace recorded again replaces its own bundle
only. Span ids are made deterministic from the trace id and span order.

The SDK's processor contract asks that processors never block the run and never raise: the processor
only copies span exports in memory; a background thread builds and writes the bundles, and a failure
to write one is logged and kept in `errors`, never raised into the app. `force_flush` (and `shutdown`,
which the SDK calls at exit) waits, up to a deadline, until everything queued is written.

A run's outcome is `failed` when an agent span records an error (the run raised: turn limit, a tripped
guardrail, a crash), else `completed`; `set_outcome(trace_id, "failed")` says otherwise (for a run that
finished with a wrong answer), before or after the trace ends.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any

from agents.tracing import Span, Trace, TracingProcessor, add_trace_processor, set_trace_processors

from evswarm.core.bundle import RunStatus
from evswarm.core.foreign import ForeignBatch, sdk_bundle

log = logging.getLogger(__name__)

_STOP = object()


def _run_id(trace_id: str) -> str:
    return "run_" + "".join(c if c.isalnum() or c in "_-." else "_" for c in trace_id.removeprefix("trace_"))


class BatchRecorder(TracingProcessor):
    """A tracing processor that writes each finished trace as a bundle into a batch directory."""

    def __init__(self, out_dir: Path | str, *, label: str = "recorded") -> None:
        self.batch = ForeignBatch(Path(out_dir), label=label)  # a bad directory fails here, at install
        self.errors: list[str] = []
        self.recorded: list[str] = []
        self._traces: dict[str, dict[str, Any]] = {}
        self._spans: dict[str, list[dict[str, Any]]] = {}
        self._outcomes: dict[str, RunStatus] = {}
        self._written: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[Any] = queue.Queue()
        self._writer = threading.Thread(target=self._work, name="evswarm-record", daemon=True)
        self._writer.start()

    # -- the SDK's processor interface: quick, never raising -------------------------------------------
    def on_trace_start(self, trace: Trace) -> None:
        try:
            with self._lock:
                self._traces[trace.trace_id] = dict(trace.export() or {})
                self._spans.setdefault(trace.trace_id, [])
        except Exception:  # never into the app
            log.exception("evswarm.record: on_trace_start failed")

    def on_trace_end(self, trace: Trace) -> None:
        try:
            with self._lock:
                export = self._traces.pop(trace.trace_id, None) or dict(trace.export() or {})
                spans = self._spans.pop(trace.trace_id, [])
            self._queue.put((trace.trace_id, export, spans))
        except Exception:
            log.exception("evswarm.record: on_trace_end failed")

    def on_span_start(self, span: Span[Any]) -> None:
        return None

    def on_span_end(self, span: Span[Any]) -> None:
        try:
            export = span.export()
            if export:
                with self._lock:
                    self._spans.setdefault(span.trace_id, []).append(dict(export))
        except Exception:
            log.exception("evswarm.record: on_span_end failed")

    def force_flush(self, timeout: float = 30.0) -> None:
        """Wait until every queued trace is written (at most `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)

    def shutdown(self) -> None:
        self.force_flush()
        self._queue.put(_STOP)

    # -- outcomes and the writer -------------------------------------------------------------------------
    def set_outcome(self, trace_id: str, outcome: str | RunStatus) -> None:
        """The outcome of a run (completed, failed, ...), before or after its trace ends; never raises."""
        try:
            status = RunStatus(outcome)
        except ValueError:
            log.warning("evswarm.record: unknown outcome %r for %s (use one of %s)", outcome, trace_id,
                        ", ".join(s.value for s in RunStatus))  # fmt: skip
            return
        with self._lock:
            self._outcomes[trace_id] = status
        self._queue.put(("outcome", trace_id))

    def has(self, trace_id: str) -> bool:
        """Whether the batch already holds this trace (to skip work on a resumed run)."""
        return self.batch.has(_run_id(trace_id))

    def _write(self, trace_id: str, export: dict[str, Any], spans: list[dict[str, Any]]) -> None:
        if not spans:
            return
        with self._lock:
            status = self._outcomes.get(trace_id)
        bundle = sdk_bundle(trace_id, export, spans, run_id=_run_id(trace_id), source_id=trace_id, status=status)
        self.batch.add(bundle)
        self.batch.flush()
        self._written[trace_id] = (export, spans)
        self.recorded.append(bundle.run.run_id)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                if item[0] == "outcome":
                    if item[1] in self._written:
                        self._write(item[1], *self._written[item[1]])
                else:
                    self._write(*item)
            except Exception as exc:  # kept, never raised into the app
                log.exception("evswarm.record: writing a bundle failed")
                self.errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                self._queue.task_done()


def record(out_dir: Path | str, *, label: str = "recorded", exclusive: bool = False) -> BatchRecorder:
    """Record every Agents SDK trace of this process into the batch directory `out_dir`.

    Adds the processor beside the SDK's own (which uploads traces when an OpenAI key is set);
    `exclusive=True` replaces them, so nothing leaves the machine. Returns the processor: call
    `force_flush()` before reading the batch, and `set_outcome(trace_id, ...)` for runs whose outcome
    the spans do not show."""
    recorder = BatchRecorder(out_dir, label=label)
    if exclusive:
        set_trace_processors([recorder])
    else:
        add_trace_processor(recorder)
    return recorder
