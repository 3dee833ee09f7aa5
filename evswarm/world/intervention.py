"""One intervention on a run's world: everything else identical (scenario, world, seeds, every other
agent's random stream), one thing changed. The counterfactual stage re-executes runs under these.

- `control`: nothing changes; the re-run must reproduce the original exactly.
- `agent`: the target agent alone runs its version from the `reference` version set (policy,
  instructions, model): its planted faults are replaced by `faults` (the reference version's faults for
  that agent, usually none), and it makes no organic slips (it behaves exactly as that policy says).
- `resample`: the target agent's own random stream is salted, so its organic slips are drawn anew.
- `tool`: the target tool's trouble (an outage, a stale snapshot) is switched off.
- `environment`: the late capacity shock is switched off.
- `input`: the customer's notes go back to what they were before they became ambiguous.
- `combined`: every one of `parts` at once (the cause search tests groups of components this way).
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evswarm.world.scenario import Scenario

InterventionKind = Literal["control", "agent", "resample", "tool", "environment", "input", "combined"]


class Intervention(BaseModel):
    """A single change to a run's world (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    kind: InterventionKind
    target: str = ""
    """The agent, tool or `environment` / `input` the intervention touches (empty for a control)."""
    faults: list[str] = Field(default_factory=list)
    """For `agent`: the planted faults the agent runs with instead of its own."""
    reference: str = ""
    """For `agent`: the version set whose version of the agent it runs (the simulator swaps it in)."""
    owner_of: dict[str, str] = Field(default_factory=dict)
    """For `agent`: fault id -> responsible agent, for every fault the run might have on."""
    salt: str = "resample-1"
    """For `resample`: the salt of the agent's new random stream."""
    parts: list[Intervention] = Field(default_factory=list)
    """For `combined`: the single interventions applied together (none of them `combined`)."""

    @classmethod
    def together(cls, parts: list[Intervention]) -> Intervention:
        """`parts` applied at once: the one part itself when there is one, else a `combined` intervention."""
        if not parts:
            raise ValueError("Intervention.together needs at least one intervention")
        if len(parts) == 1:
            return parts[0]
        flat = [leaf for part in parts for leaf in (part.parts if part.kind == "combined" else [part])]
        return cls(kind="combined", parts=sorted(flat, key=lambda p: p.slug))

    @property
    def leaves(self) -> list[Intervention]:
        """The single interventions this one makes (itself, unless it is `combined`)."""
        return list(self.parts) if self.kind == "combined" else [self]

    @property
    def slug(self) -> str:
        """A file-system name for the intervention."""
        if self.kind == "control":
            return "control"
        if self.kind == "combined":
            digest = hashlib.sha1(" ".join(p.slug for p in self.parts).encode()).hexdigest()[:10]
            return f"combined-{len(self.parts)}-{digest}"
        target = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.target) or "all"
        return f"{self.kind}-{target}"

    def describe(self) -> str:
        if self.kind == "combined":
            return "; ".join(p.describe() for p in self.parts)
        return {
            "control": "no intervention",
            "agent": f"{self.target} runs the reference version ({self.reference or 'baseline'}), without slips",
            "resample": f"{self.target} draws its choices anew",
            "tool": f"{self.target} has no trouble",
            "environment": "no environment shock lands",
            "input": "the customer's notes are unambiguous",
        }[self.kind]

    def apply(self, scenario: Scenario) -> Scenario:
        """`scenario` with this one change."""
        if self.kind == "combined":
            for part in self.parts:
                scenario = part.apply(scenario)
            return scenario
        if self.kind == "agent":
            kept = [f for f in scenario.active_faults if self.owner_of.get(f) != self.target]
            steady = sorted({*scenario.steady_agents, self.target})
            return scenario.model_copy(update={"active_faults": sorted({*kept, *self.faults}), "steady_agents": steady})
        if self.kind == "resample":
            return scenario.model_copy(update={"slip_salt": {**scenario.slip_salt, self.target: self.salt}})
        if self.kind == "tool":
            return scenario.model_copy(
                update={"tool_troubles": [t for t in scenario.tool_troubles if t.tool != self.target]}
            )
        if self.kind == "environment":
            return scenario.model_copy(update={"late_shock": None})
        if self.kind == "input" and scenario.hidden_intent_issues:
            order = scenario.order.model_copy(update={"notes": ""})
            return scenario.model_copy(update={"hidden_intent_issues": [], "order": order})
        return scenario
