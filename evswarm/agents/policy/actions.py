"""What a policy decides each turn, and the helpers policies use to build reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from evswarm.agents.slips import slip_for
from evswarm.world.streams import chance


@dataclass(frozen=True)
class Call:
    tool: str
    args: dict[str, Any]


@dataclass(frozen=True)
class CallTools:
    calls: list[Call]
    thought: str


@dataclass(frozen=True)
class HandOff:
    target: str
    payload: dict[str, Any]
    thought: str


@dataclass(frozen=True)
class Finish:
    output: dict[str, Any]
    thought: str


Action = CallTools | HandOff | Finish


@dataclass
class PolicyContext:
    """The policy variant in force for one agent in one run: which faults are switched on, the agent's own
    random stream for slips, and a way to record a fault or slip that fired (the run's causal record)."""

    agent_name: str = ""
    faults: frozenset[str] = frozenset()
    stream: str = ""
    """Key of this agent's random stream in this run (empty: the agent never slips, as in unit tests)."""
    on_fire: Callable[[str], None] = field(default=lambda cause_id: None)

    def deviates(self, fault_id: str) -> bool:
        """True (and recorded) when `fault_id` is switched on; call only where its trigger holds."""
        if fault_id in self.faults:
            self.on_fire(fault_id)
            return True
        return False

    def slips(self, slip_id: str) -> bool:
        """True (and recorded) when this agent makes its slip `slip_id` now; call only where its trigger
        holds. Decided by the agent's own stream, so other agents and versions never change the draw."""
        if not self.stream:  # no stream (unit tests, a scripted server): the agent never slips
            return False
        slip = slip_for(self.agent_name, slip_id)
        if chance(slip.rate, self.stream, slip.slip_id):
            self.on_fire(slip.cause_id)
            return True
        return False


def call(tool: str, **args: Any) -> Call:
    return Call(tool, args)


def finding(code: str, severity: str, message: str) -> dict[str, str]:
    return {"code": code, "severity": severity, "message": message}


def signal(event_id: str, action: str) -> dict[str, str]:
    return {"event_id": event_id, "action": action}


def report(
    agent: str,
    status: str,
    summary: str,
    *,
    findings: list[dict[str, str]] | None = None,
    signals: list[dict[str, str]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "agent": agent,
        "status": status,
        "summary": summary,
        "findings": findings or [],
        "signals": signals or [],
        **fields,
    }
