"""Per-run state: the scenario the tools read, the simulated clock, and everything a bundle records
that the SDK's spans do not carry (event log, reports, model calls, fired faults, snapshots)."""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from evswarm.agents.faults import FAULTS
from evswarm.agents.slips import SLIPS
from evswarm.core.bundle import Cause, CauseOrigin, CauseSide, ModelCall
from evswarm.world.scenario import FactoryState, Scenario


class SimClock:
    """Deterministic time: starts at the order's simulated business hour and only moves when told."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> str:
        return self._now.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def advance(self, milliseconds: int) -> None:
        self._now += timedelta(milliseconds=milliseconds)


def clock_for(scenario: Scenario) -> SimClock:
    """Start of a run: 08:00 UTC on the order date plus a per-run offset, so runs of a day interleave."""
    offset = int(hashlib.sha256(scenario.run_id.encode()).hexdigest()[:6], 16) % (9 * 3600)
    day = datetime.fromisoformat(scenario.order_date).replace(tzinfo=UTC)
    return SimClock(day + timedelta(hours=8, seconds=offset))


@dataclass
class RunState:
    """The SDK run context (`RunContextWrapper.context`) of one evswarm run."""

    scenario: Scenario
    clock: SimClock
    run_key: str
    events: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    model_calls: list[ModelCall] = field(default_factory=list)
    causes: dict[str, Cause] = field(default_factory=dict)
    """The causal record: every cause that acted, by cause id (ground truth for benchmarks only)."""
    cause_steps: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """Where each cause acted: ("call", model call index), ("span", SDK span id) or ("event", event index)."""
    shock_landed: bool = False
    tool_call_ids: dict[str, str] = field(default_factory=dict)
    """SDK span id of a function span -> the model's call id it executed."""
    inventory_snapshot: list[dict[str, Any]] = field(default_factory=list)
    capacity_snapshot: list[dict[str, Any]] = field(default_factory=list)
    review_packet: dict[str, Any] | None = None
    retry_count: int = 0
    """Tool calls that failed on a flaky feed (each one is retried by its agent)."""
    arbitration_count: int = 0
    active_agent: str = ""
    handoff_pairs: list[tuple[str, str]] = field(default_factory=list)
    activated: list[str] = field(default_factory=list)
    tool_calls_seen: dict[str, int] = field(default_factory=dict)
    decoded_payloads: dict[str, Any] = field(default_factory=dict)
    """JSON payloads of the conversation already decoded by the policy model, by call id."""
    fault_windows: dict[str, str] = field(default_factory=dict)
    """Fault id -> the rogue window that switched it on in this run."""
    agent_versions: dict[str, str] | None = None
    """Agent name -> content hash of the version it runs (None when the run has no resolved version)."""

    @property
    def active_faults(self) -> list[str]:
        return self.scenario.active_faults

    def stream(self, agent_name: str) -> str:
        """The key of an agent's own random stream in this run (a resample intervention salts it); empty
        when agents make no slips, or this agent is held steady (an agent intervention)."""
        if not self.scenario.agent_slips or agent_name in self.scenario.steady_agents:
            return ""
        return f"{self.scenario.run_id}:{agent_name}:{self.scenario.slip_salt.get(agent_name, '')}"

    def record_decision(self, cause_id: str) -> None:
        """A policy deviated because of a planted fault or a slip, in the model call now being made."""
        if cause_id in FAULTS:
            fault = FAULTS[cause_id]
            window = self.fault_windows.get(cause_id)
            cause = Cause(
                cause_id=cause_id,
                origin=CauseOrigin.PLANTED,
                side=CauseSide.AGENT,
                component=fault.agent_name,
                description=fault.description,
                trigger=fault.trigger,
                rogue_window_id=window,
            )
        else:
            slip = SLIPS[cause_id]
            cause = Cause(
                cause_id=cause_id,
                origin=CauseOrigin.ORGANIC,
                side=CauseSide.AGENT,
                component=slip.agent_name,
                description=slip.description,
                trigger=slip.trigger,
            )
        self.record(cause, ("call", str(len(self.model_calls))))

    def record(self, cause: Cause, where: tuple[str, str]) -> None:
        """Keep `cause` in the causal record, with one more place where it acted."""
        self.causes.setdefault(cause.cause_id, cause)
        steps = self.cause_steps.setdefault(cause.cause_id, [])
        if where not in steps:
            steps.append(where)

    def factory_state(self, factory_id: str) -> FactoryState:
        """A factory as the tools see it now: a late shock shows only once it has landed."""
        return self.scenario.factory_state(factory_id, landed=self.shock_landed)

    def add_event(self, event_type: str, sdk_span_id: str | None, **fields: Any) -> None:
        self.clock.advance(1)
        self.events.append(
            {"event_type": event_type, "timestamp": self.clock.now(), "sdk_span_id": sdk_span_id, **fields}
        )

    def loop_count(self) -> int:
        """Handoffs that repeat an earlier (from, to) pair: the swarm going round in circles."""
        seen: set[tuple[str, str]] = set()
        loops = 0
        for pair in self.handoff_pairs:
            loops += pair in seen
            seen.add(pair)
        return loops


current_run: ContextVar[RunState] = ContextVar("evswarm_current_run")
"""The run being executed in this task; the model layer reads it to record calls and fired faults."""
