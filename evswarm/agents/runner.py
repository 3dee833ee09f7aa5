"""Running one scenario through the swarm on the SDK Runner and returning its bundle."""

from __future__ import annotations

import json
from dataclasses import dataclass

from agents import (
    AgentsException,
    InputGuardrailTripwireTriggered,
    MaxTurnsExceeded,
    ModelProvider,
    OutputGuardrailTripwireTriggered,
    RunConfig,
    Runner,
)
from agents.tracing import set_trace_processors, trace

from evswarm.agents.assemble import WORKFLOW_NAME, Outcome, assemble_bundle
from evswarm.agents.outputs import OrderDecision
from evswarm.agents.policy.model import PolicyProvider
from evswarm.agents.state import RunState, clock_for, current_run
from evswarm.agents.swarm import Swarm, build_swarm
from evswarm.agents.tracing import BundleRecorder, EventLog
from evswarm.core.bundle import Bundle, Oracle, RunStatus
from evswarm.core.versions import ResolvedVersionSet
from evswarm.world.scenario import Scenario

MAX_TURNS = 100
"""Model calls allowed per run across all agents; a normal order takes 50-80."""

STATUS_OF = {
    "block": RunStatus.BLOCKED,
    "hold_for_review": RunStatus.AWAITING_REVIEW,
    "request_clarification": RunStatus.AWAITING_REVIEW,
}


@dataclass
class RunEnvironment:
    """What the runs of one version set in a worker process share: the agents (with that version's
    instructions), the model provider and the trace recorder."""

    swarm: Swarm
    provider: ModelProvider
    recorder: BundleRecorder
    version: ResolvedVersionSet | None = None
    """The version set these agents run; None: built-in instructions, and no per-agent versions recorded."""

    @classmethod
    def offline(cls) -> RunEnvironment:
        return cls.create(PolicyProvider())

    @classmethod
    def create(cls, provider: ModelProvider, version: ResolvedVersionSet | None = None) -> RunEnvironment:
        instructions = {name: agent.instructions for name, agent in version.agents.items()} if version else None
        env = cls(
            swarm=build_swarm(instructions),
            provider=provider,
            recorder=BundleRecorder(assemble_bundle),
            version=version,
        )
        env.activate()
        return env

    def activate(self) -> None:
        """Make this environment's recorder the process's only trace processor (the SDK exporter is replaced,
        so nothing is uploaded). Call again after another environment took over."""
        set_trace_processors([self.recorder])


def order_message(scenario: Scenario) -> str:
    order = scenario.order.model_dump(mode="json", exclude={"metadata"})
    return "Review this customer order and decide what happens to it.\n" + json.dumps(order, sort_keys=True)


def _blocked_by(guardrail: str, problems: list[str]) -> OrderDecision:
    """The decision a tripped guardrail stands for: the order does not go ahead."""
    return OrderDecision(
        decision="block",
        quoted_price=None,
        factory=None,
        supplier_substitutions=[],
        review_required=False,
        applied_incentives=[],
        applied_promotions=[],
        rationale=f"Stopped by the {guardrail} guardrail: {'; '.join(problems)}.",
    )


async def _execute(scenario: Scenario, state: RunState, env: RunEnvironment) -> Outcome:
    from evswarm.agents.live import ModelServerError

    config = RunConfig(model_provider=env.provider, workflow_name=WORKFLOW_NAME)
    try:
        result = await Runner.run(
            env.swarm.orchestrator,
            order_message(scenario),
            context=state,
            max_turns=MAX_TURNS,
            hooks=EventLog(),
            run_config=config,
        )
    except InputGuardrailTripwireTriggered as exc:
        problems = (exc.guardrail_result.output.output_info or {}).get("problems", [])
        return Outcome(
            RunStatus.BLOCKED,
            decision=_blocked_by("order_validity", problems),
            validation_outcome="invalid_order",
            error_code="order_validity",
            error_message="; ".join(problems),
            failure_agent="Orchestrator",
        )
    except OutputGuardrailTripwireTriggered as exc:
        problems = (exc.guardrail_result.output.output_info or {}).get("problems", [])
        return Outcome(
            RunStatus.BLOCKED,
            decision=_blocked_by("release_gate", problems),
            error_code="release_gate",
            error_message="; ".join(problems),
            failure_agent="Orchestrator",
        )
    except MaxTurnsExceeded as exc:
        return Outcome(
            RunStatus.FAILED, error_code="max_turns_exceeded", error_message=str(exc), failure_agent=state.active_agent
        )
    except ModelServerError as exc:  # live mode: the model server could not answer, even after retries
        return Outcome(
            RunStatus.FAILED,
            error_code=exc.failure.code,
            error_message=exc.failure.message,
            failure_agent=state.active_agent,
        )
    except AgentsException as exc:
        return Outcome(
            RunStatus.FAILED,
            error_code="agent_error",
            error_message=f"{type(exc).__name__}: {exc}",
            failure_agent=state.active_agent,
        )
    finally:  # live mode: release this run's pooled connections while their event loop is still running
        await env.provider.aclose()
    decision = result.final_output_as(OrderDecision)
    building = next((r for r in state.reports if r.get("agent") == "BuildabilityValidationAgent"), {})
    return Outcome(
        STATUS_OF.get(decision.decision, RunStatus.COMPLETED),
        decision=decision,
        validation_outcome="blocked" if building.get("status") == "blocked" else "passed",
    )


async def run_scenario(scenario: Scenario, oracle: Oracle, env: RunEnvironment) -> Bundle:
    """Run the swarm on one scenario inside its own SDK trace; the recorder turns the trace into a bundle."""
    state = RunState(scenario=scenario, clock=clock_for(scenario), run_key=scenario.run_id[4:16])
    version = env.version
    if version is not None:
        if version.name != scenario.version_set:
            raise ValueError(f"scenario of version set {scenario.version_set} given to agents of {version.name}")
        state.fault_windows = version.windows_by_fault(scenario.order_date)
        state.agent_versions = version.agent_versions
    trace_id = "trace_" + scenario.run_id.removeprefix("run_")
    env.recorder.expect(trace_id, state, oracle)
    token = current_run.set(state)
    try:
        with trace(WORKFLOW_NAME, trace_id=trace_id, group_id=scenario.batch_label or None):
            state.add_event(
                "status",
                None,
                agent_name="Orchestrator",
                payload={"active_agent": "Orchestrator", "run_status": "accepted"},
            )
            outcome = await _execute(scenario, state, env)
            state.add_event(
                "status",
                None,
                agent_name=state.active_agent or "Orchestrator",
                payload={
                    "active_agent": state.active_agent,
                    "run_status": outcome.status,
                    "terminal_state": outcome.status,
                    "validation_outcome": outcome.validation_outcome,
                    "selected_route": outcome.decision.decision if outcome.decision else outcome.error_code,
                    "retry_count": state.retry_count,
                    "loop_count": state.loop_count(),
                    "review_status": (state.review_packet or {}).get("status", "not_required"),
                },
            )
            env.recorder.set_outcome(trace_id, outcome)
    except BaseException:
        env.recorder.forget(trace_id)
        raise
    finally:
        current_run.reset(token)
    return env.recorder.take(trace_id)
