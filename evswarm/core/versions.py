"""Version files and resolved versions: what each agent of a version set runs.

A version file (YAML, format `evswarm.versions.v1`) defines version sets. The built-in sets ship in one
(`evswarm/agents/versions.yaml`); a user's own file (`--versions FILE`) stands beside it. Per agent, a
set may name any of:

- `policy`: a built-in policy variant (`standard`, or a planted fault the agent is responsible for);
- `instructions`: the agent's instructions, inline, or `{file: PATH}` relative to the version file;
- `model`: `offline` (the deterministic policy model) or `openai:MODEL`, with an optional `base_url`;
- `faults`: planted faults of this agent to switch on (workshops).

A set may `extends` another and override a few agents, field by field; its `rogue_windows` (a fault
switched on for a span of order dates) add to the ones it inherits. `schedule` gives each set's share of
a default batch. Resolving a set gives every agent's full version (`ResolvedAgent`) with a content hash,
which each bundle records (`run.summary.agent_versions`) and each batch lists in `versions.json`
(`BatchVersions`), so a batch says exactly what ran.

Parsing and resolution with file:line errors live in `evswarm.core.version_catalog`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

VERSIONS_FORMAT = "evswarm.versions.v1"
BATCH_VERSIONS_FORMAT = "evswarm.batch-versions.v1"
OFFLINE = "offline"
STANDARD_POLICY = "standard"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def check_model_spec(value: str | None) -> str | None:
    """`offline` or `openai:MODEL`."""
    if value is None or value == OFFLINE or (value.startswith("openai:") and value.removeprefix("openai:").strip()):
        return value
    raise ValueError(f"unknown model {value!r}: expected 'offline' or 'openai:MODEL'")


def _check_url(value: str | None) -> str | None:
    if value is None or value.startswith(("http://", "https://")):
        return value
    raise ValueError(f"base_url {value!r} is not an http(s) URL (e.g. http://127.0.0.1:8000/v1)")


class InstructionsFile(BaseModel):
    """Instructions kept in a text file, at a path relative to the version file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str = Field(min_length=1)


def _instructions(value: Any) -> Any:
    if value is None or isinstance(value, str | InstructionsFile):
        return value
    if isinstance(value, dict) and set(value) == {"file"} and isinstance(value["file"], str) and value["file"]:
        return InstructionsFile(file=value["file"])
    raise ValueError("give instructions as text, or as {file: PATH} with a path relative to the version file")


class AgentSpec(BaseModel):
    """What one version set changes about one agent (fields left out are inherited)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str | None = Field(default=None, description="`standard` or a planted fault of this agent")
    instructions: Annotated[str | InstructionsFile | None, BeforeValidator(_instructions)] = None
    model: Annotated[str | None, AfterValidator(check_model_spec)] = Field(
        default=None, description="`offline` or `openai:MODEL`; unset: the batch's --model"
    )
    base_url: Annotated[str | None, AfterValidator(_check_url)] = None
    faults: list[str] | None = Field(default=None, description="planted faults of this agent to switch on")


class WindowSpec(BaseModel):
    """A rogue window: a fault switched on for every run whose order date falls in [start, end]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    fault: str
    start: date
    end: date
    market_regime: str | None = Field(default=None, description="the market regime runs in the window report")
    schedule_regime: str | None = Field(default=None, description="the schedule regime runs in the window report")

    @model_validator(mode="after")
    def _ordered(self) -> WindowSpec:
        if self.start > self.end:
            raise ValueError(f"the window ends ({self.end}) before it starts ({self.start})")
        return self

    def covers(self, order_date: str) -> bool:
        return self.start.isoformat() <= order_date <= self.end.isoformat()


class VersionSetSpec(BaseModel):
    """One version set as written in a version file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    extends: str | None = Field(default=None, description="the set this one starts from")
    orchestrator_mode: Literal["canonical", "shadow"] | None = None
    agents: dict[str, AgentSpec] = Field(default_factory=dict)
    rogue_windows: list[WindowSpec] = Field(default_factory=list)


def _names(value: dict[str, Any]) -> dict[str, Any]:
    bad = [name for name in value if not NAME_PATTERN.match(name)]
    if bad:
        raise ValueError(f"version set name {bad[0]!r} must be letters, digits, '.', '_', '+' or '-'")
    return value


class VersionFile(BaseModel):
    """A version file: version sets, and optionally the default batch's schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["evswarm.versions.v1"]
    version_sets: Annotated[dict[str, VersionSetSpec], AfterValidator(_names)] = Field(default_factory=dict)
    schedule: dict[str, Annotated[float, Field(gt=0, allow_inf_nan=False)]] | None = Field(
        default=None, description="share of a default batch's runs per version set (normalized)"
    )


# --- resolved versions ------------------------------------------------------------------------------


def content_hash(data: Any, length: int = 12) -> str:
    """A short SHA-256 of canonical JSON."""
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()[:length]


class ResolvedAgent(BaseModel):
    """The full version of one agent in one version set, and its content hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str = STANDARD_POLICY
    faults: list[str] = Field(default_factory=list, description="planted faults switched on in every run")
    rogue_windows: list[WindowSpec] = Field(
        default_factory=list, description="windows that switch on one of this agent's faults for some dates"
    )
    instructions: str
    instructions_source: str = Field(description="`built-in`, `inline`, or the file they were read from")
    model: str | None = Field(default=None, description="None: the batch's --model")
    base_url: str | None = None
    orchestrator_mode: str | None = Field(default=None, description="the Orchestrator's mode; None for others")
    version: str = Field(default="", description="content hash of everything above but instructions_source")

    def hashed(self) -> ResolvedAgent:
        """This agent with `version` set from its content."""
        content = self.model_dump(mode="json", exclude={"version", "instructions_source"})
        return self.model_copy(update={"version": content_hash(content)})


class ResolvedVersionSet(BaseModel):
    """A version set with `extends` applied: every agent's full version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    extends: str | None = None
    source: str = Field(description="`built-in`, or the version file that defines it")
    orchestrator_mode: str = "canonical"
    rogue_windows: list[WindowSpec] = Field(default_factory=list)
    agents: dict[str, ResolvedAgent]

    @property
    def faults(self) -> list[str]:
        """Planted faults switched on in every run of this set (rogue windows aside)."""
        return sorted({fault for agent in self.agents.values() for fault in agent.faults})

    def window_on(self, order_date: str) -> WindowSpec | None:
        """The rogue window covering `order_date` (the last listed, if several)."""
        covering = [w for w in self.rogue_windows if w.covers(order_date)]
        return covering[-1] if covering else None

    def active_faults(self, order_date: str) -> tuple[list[str], str | None]:
        """Faults switched on for a run dated `order_date`, and the rogue window that added one (if any)."""
        faults = list(self.faults)
        for window in self.rogue_windows:
            if window.covers(order_date) and window.fault not in faults:
                faults.append(window.fault)
        last = self.window_on(order_date)
        return sorted(faults), last.id if last else None

    def windows_by_fault(self, order_date: str) -> dict[str, str]:
        """Fault id -> the rogue window that switched it on for a run dated `order_date`."""
        return {w.fault: w.id for w in self.rogue_windows if w.covers(order_date)}

    @property
    def agent_versions(self) -> dict[str, str]:
        """Agent name -> content hash of its version."""
        return {name: agent.version for name, agent in self.agents.items()}

    @property
    def version(self) -> str:
        """A content hash of the whole set (every agent's version and the set-level settings)."""
        return content_hash(
            {
                "agents": self.agent_versions,
                "mode": self.orchestrator_mode,
                "windows": [w.model_dump(mode="json") for w in self.rogue_windows],
            }
        )

    def with_default_model(self, model: str, base_url: str | None) -> ResolvedVersionSet:
        """This set as a batch runs it: agents that name no model run on the batch's `model`."""
        agents = {
            name: (
                agent.model_copy(update={"model": model, "base_url": base_url}).hashed()
                if agent.model is None
                else agent
            )
            for name, agent in self.agents.items()
        }
        return self.model_copy(update={"agents": agents})

    def changed_agents(self, other: ResolvedVersionSet) -> list[str]:
        """Agents whose version differs between this set and `other`, in this set's agent order."""
        return [name for name, agent in self.agents.items() if other.agents.get(name, agent).version != agent.version]


class VersionSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description="`built-in` or the version file's path as given")
    sha256: str


class BatchVersions(BaseModel):
    """`versions.json` in a batch directory: the resolved version sets the batch ran, as it ran them."""

    model_config = ConfigDict(extra="forbid")

    format: str = BATCH_VERSIONS_FORMAT
    sources: list[VersionSource] = Field(description="the version files the sets were resolved from")
    version_sets: dict[str, ResolvedVersionSet] = Field(description="every set the batch may use, as run")
    schedule: list[tuple[str, float]] | None = Field(
        description="(version set, share) of the default mix, in the order runs are drawn by; None when the "
        "batch is restricted to named sets"
    )

    def schedule_weights(self) -> dict[str, float]:
        """The schedule as an ordered mapping (the order decides which set a run draws)."""
        return dict(self.schedule or [])
