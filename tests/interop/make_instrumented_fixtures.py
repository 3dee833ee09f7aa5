"""Run the support-desk example under the real Agents SDK instrumentations and export their spans to OTLP
JSON files (the fixtures `tests/interop/test_import_instrumented.py` imports):

- `fixtures/otel_genai.jsonl`: `opentelemetry-instrumentation-openai-agents-v2` (GenAI semantic
  conventions, `gen_ai.*`), with message content captured;
- `fixtures/openinference.jsonl`: `openinference-instrumentation-openai-agents`.

    PYTHONPATH=$PWD .venv/bin/python tests/interop/make_instrumented_fixtures.py [--out DIR] [otel|openinference]

Each instrumentation runs in its own process (both patch the SDK's tracing). Offline: the example runs on
its scripted model, and the SDK's own uploader is removed first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
TICKETS = 8
SEED = 3


def _run(kind: str, out: Path) -> None:
    from agents import Runner, set_trace_processors, trace
    from agents.exceptions import AgentsException
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from examples.support_desk.app import MAX_TURNS, build_agents, make_tickets, new_desk
    from tests.interop.otlp_file import OtlpJsonFileExporter

    target = out / ("otel_genai.jsonl" if kind == "otel" else "openinference.jsonl")
    target.unlink(missing_ok=True)
    set_trace_processors([])  # nothing is uploaded
    provider = TracerProvider(resource=Resource.create({"service.name": "support-desk"}))
    provider.add_span_processor(SimpleSpanProcessor(OtlpJsonFileExporter(target)))
    if kind == "otel":
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true"
        from opentelemetry.instrumentation.openai_agents import OpenAIAgentsInstrumentor
    else:
        from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor  # type: ignore[no-redef]
    OpenAIAgentsInstrumentor().instrument(tracer_provider=provider)

    async def one(ticket) -> None:  # type: ignore[no-untyped-def]
        trace_id = "trace_" + ticket.ticket_id.replace("-", "_")
        with trace("support_desk", trace_id=trace_id), contextlib.suppress(AgentsException):
            await Runner.run(build_agents(ticket), ticket.text, context=new_desk(ticket), max_turns=MAX_TURNS)

    for ticket in make_tickets(TICKETS, SEED, fault_rate=0.6):
        asyncio.run(one(ticket))
    provider.force_flush()
    print(f"wrote {target}")


def main() -> None:
    args = sys.argv[1:]
    out = FIXTURES
    if args[:1] == ["--out"]:
        out, args = Path(args[1]), args[2:]
    kinds = args or ["otel", "openinference"]
    if len(kinds) == 1:
        _run(kinds[0], out)
        return
    out.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        subprocess.run([sys.executable, __file__, "--out", str(out), kind], check=True, env={**os.environ})


if __name__ == "__main__":
    main()
