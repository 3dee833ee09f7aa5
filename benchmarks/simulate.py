"""Benchmark `evswarm simulate`: 1000 runs with full tracing on this machine, against a bare-SDK floor.

Prints runs/s, peak RSS and the realism figures of the batch, then the overhead ratio: CPU seconds per run
of evswarm (policy model, world tools, trace capture, bundle assembly and writing) divided by CPU seconds
per run of a bare SDK loop in the same process that makes the same model turns, tool calls and handoffs
over the same agent graph, with trivial tools, a scripted model and a tracing processor that keeps nothing.
Targets: ratio <= 1.3, peak RSS <= 1 GiB, zero runner errors. Figures go to benchmarks/results/simulate.json.

    python benchmarks/simulate.py [--runs 1000] [--sample 150] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from agents import Agent, FunctionTool, Model, ModelProvider, ModelResponse, RunConfig, Runner, Usage
from agents.tool_context import ToolContext
from agents.tracing import Span, Trace, TracingProcessor, set_trace_processors
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseReasoningItem

from evswarm.agents.runner import MAX_TURNS, RunEnvironment, run_scenario
from evswarm.agents.swarm import build_swarm
from evswarm.core.bundle import Bundle, ModelCall
from evswarm.core.io import atomic_write_bytes, bundle_bytes
from evswarm.simulator import simulate
from evswarm.simulator.cases import generate
from evswarm.world.oracle import oracle_for

RESULTS = Path(__file__).parent / "results" / "simulate.json"


class _Discard(TracingProcessor):
    def on_trace_start(self, trace: Trace) -> None: ...
    def on_trace_end(self, trace: Trace) -> None: ...
    def on_span_start(self, span: Span[Any]) -> None: ...
    def on_span_end(self, span: Span[Any]) -> None: ...
    def shutdown(self) -> None: ...
    def force_flush(self) -> None: ...


class _ScriptModel(Model):
    """Returns a run's recorded model outputs verbatim, in order: the same conversation, no policy."""

    def __init__(self, script: list[ModelCall]) -> None:
        self.outputs = [[_item(o) for o in call.output] for call in script]
        self.position = 0

    async def get_response(
        self,
        system_instructions,
        input,
        model_settings,
        tools,
        output_schema,
        handoffs,  # type: ignore[no-untyped-def, override]
        tracing,
        *,
        previous_response_id=None,
        conversation_id=None,
        prompt=None,
    ) -> ModelResponse:
        output = self.outputs[self.position]
        self.position += 1
        return ModelResponse(output=output, usage=Usage(requests=1), response_id=None)

    async def stream_response(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def, override]
        raise NotImplementedError
        yield


def _item(raw: dict[str, Any]) -> Any:
    kind = raw["type"]
    if kind == "function_call":
        return ResponseFunctionToolCall.model_validate(raw)
    if kind == "reasoning":
        return ResponseReasoningItem.model_validate(raw)
    return ResponseOutputMessage.model_validate(raw)


class _ScriptProvider(ModelProvider):
    def __init__(self, model: _ScriptModel) -> None:
        self.model = model

    def get_model(self, model_name: str | None) -> Model:
        return self.model


class _BareSwarm:
    """The swarm's agents, tool names and handoff edges with no evswarm logic: every tool returns the output
    recorded for its call id, handoffs are plain, and there are no guardrails, hooks or output types."""

    def __init__(self) -> None:
        self.outputs: dict[str, str] = {}
        schema = {"type": "object", "properties": {}, "additionalProperties": True}
        real = build_swarm()
        bare = {
            name: Agent[Any](
                name=name,
                instructions="",
                tools=[
                    FunctionTool(
                        name=t.name,
                        description="",
                        params_json_schema=schema,
                        on_invoke_tool=self._recorded,
                        strict_json_schema=False,
                    )
                    for t in agent.tools
                    if isinstance(t, FunctionTool)
                ],
            )
            for name, agent in real.agents.items()
        }
        for name, agent in real.agents.items():
            bare[name].handoffs = [bare[h.agent_name] for h in agent.handoffs]  # type: ignore[union-attr]
        self.start = bare["Orchestrator"]

    async def _recorded(self, ctx: ToolContext[Any], arguments: str) -> str:
        return self.outputs.get(ctx.tool_call_id, "ok")

    async def run(self, bundle: Bundle) -> None:
        self.outputs = {
            s.span_data["call_id"]: str(s.span_data.get("output"))
            for s in bundle.spans
            if s.span_type == "function" and "call_id" in s.span_data
        }
        provider = _ScriptProvider(_ScriptModel(bundle.model_calls))
        with contextlib.suppress(Exception):  # the floor mirrors failed runs up to where they failed
            await Runner.run(
                self.start,
                "Review this customer order.\n" + bundle.run.config.model_dump_json(),
                max_turns=MAX_TURNS,
                run_config=RunConfig(model_provider=provider),
            )


def measure_overhead(sample: int, seed: int) -> dict[str, float]:
    """Interleave evswarm and floor runs on the same scenarios; compare CPU seconds per run."""
    env = RunEnvironment.offline()
    bare = _BareSwarm()
    ours, floor = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(sample):
            scenario = generate(seed, index)
            set_trace_processors([env.recorder])
            t0 = time.process_time()
            bundle = asyncio.run(run_scenario(scenario, oracle_for(scenario), env))
            atomic_write_bytes(Path(tmp) / f"{scenario.run_id}.json", bundle_bytes(bundle))
            ours.append(time.process_time() - t0)
            set_trace_processors([_Discard()])
            t0 = time.process_time()
            asyncio.run(bare.run(bundle))
            floor.append(time.process_time() - t0)
    set_trace_processors([env.recorder])
    return {
        "sample_runs": sample,
        "evswarm_cpu_ms_per_run": 1000 * statistics.fmean(ours),
        "floor_cpu_ms_per_run": 1000 * statistics.fmean(floor),
        "ratio": statistics.fmean(ours) / statistics.fmean(floor),
    }


def _median(distribution: dict[str, int]) -> float:
    values = [int(k) for k, v in distribution.items() for _ in range(v)]
    return float(statistics.median(values)) if values else 0.0


def measure_batch(runs: int, seed: int, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = simulate(runs, seed, Path(tmp), workers=workers, progress=False)
        wall = time.perf_counter() - t0
        summary = json.loads((Path(tmp) / "run_summary.json").read_text())
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "runs": runs,
        "workers": workers,
        "wall_s": round(wall, 1),
        "runs_per_s": round(runs / wall, 2),
        "peak_rss_mib": round(max(children, own), 1),
        "runner_errors": len(report.runner_errors),
        "status_counts": summary["status_counts"],
        "case_types": len(summary["scenario_counts"]),
        "distinct_agents": len(summary["agent_activation_run_counts"]),
        "median_handoffs": _median(summary["handoff_count_distribution"]),
        "median_function_spans": _median(summary["function_tool_span_count_distribution"]),
        "fault_run_counts": summary["injected_fault_run_counts"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=150, help="runs in the in-process overhead comparison")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    batch = measure_batch(args.runs, args.seed, args.workers)
    print(json.dumps(batch, indent=2))
    overhead = measure_overhead(args.sample, args.seed)
    print(json.dumps(overhead, indent=2))
    figures = {
        **batch,
        **{f"overhead_{k}": round(v, 3) for k, v in overhead.items()},
        "load_average": os.getloadavg(),
        "targets": {"ratio_max": 1.3, "peak_rss_mib_max": 1024, "runner_errors": 0},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(
        f"runs/s={batch['runs_per_s']} peak_rss_mib={batch['peak_rss_mib']} ratio={overhead['ratio']:.2f} "
        f"runner_errors={batch['runner_errors']}"
    )


if __name__ == "__main__":
    main()
