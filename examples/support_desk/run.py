"""Run the support desk on N tickets, recording every run with `evswarm.record`.

    python -m examples.support_desk.run --tickets 60 --seed 1 --out runs/desk

Re-running the same command skips the tickets already recorded (the batch is resumable). `run_desk`
also returns each ticket's planned failure mode: the app's own ground truth, which the benchmark reads and
which never goes into the batch.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from pathlib import Path

from agents import Runner, trace
from agents.exceptions import AgentsException

import evswarm
from examples.support_desk.app import MAX_TURNS, Ticket, build_agents, make_tickets, new_desk, resolved


@dataclass(frozen=True)
class DeskRun:
    ticket: Ticket
    trace_id: str
    resolved: bool


def trace_id_of(ticket: Ticket) -> str:
    return "trace_" + ticket.ticket_id.replace("-", "_")


async def _run_one(ticket: Ticket, recorder: evswarm.BatchRecorder) -> DeskRun:
    trace_id = trace_id_of(ticket)
    desk = new_desk(ticket)
    answer: str | None = None
    with trace("support_desk", trace_id=trace_id, metadata={"ticket": ticket.ticket_id}):
        try:
            result = await Runner.run(build_agents(ticket), ticket.text, context=desk, max_turns=MAX_TURNS)
            answer = str(result.final_output)
        except AgentsException:
            answer = None  # the agent span records the error; the run is failed
        ok = resolved(ticket, desk, answer)
        recorder.set_outcome(trace_id, "completed" if ok else "failed")
    return DeskRun(ticket, trace_id, ok)


def run_desk(out: Path, tickets: int, seed: int, fault_rate: float = 0.5) -> list[DeskRun]:
    """Record `tickets` runs into the batch `out` (skipping those already there); returns every run."""
    recorder = evswarm.record(out, label=f"support-desk-{seed}", exclusive=True)
    runs = []
    for ticket in make_tickets(tickets, seed, fault_rate):
        if recorder.has(trace_id_of(ticket)):
            continue
        runs.append(asyncio.run(_run_one(ticket, recorder)))
    recorder.force_flush()
    if recorder.errors:
        raise RuntimeError(f"{len(recorder.errors)} bundle(s) could not be written: {recorder.errors[0]}")
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-rate", type=float, default=0.5)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    runs = run_desk(args.out, args.tickets, args.seed, args.fault_rate)
    failed = sum(not r.resolved for r in runs)
    print(f"recorded {len(runs)} run(s) into {args.out} ({failed} unresolved)")


if __name__ == "__main__":
    main()
