"""`tool_use` (oracle-free): tool calls worked, or their failures were recovered.

Symptoms: `retries_exhausted` (a tool failed two or more times and its last call failed too: the run went
on without its result or gave up), `tool_error` (a tool's last call failed: an error; a failure that a
later call of the same tool recovered from: a warning). Each cites the failed calls.
"""

from __future__ import annotations

from evswarm.core.bundle import Bundle
from evswarm.core.symptoms import Severity, Symptom
from evswarm.evals.rubrics.trace_view import TraceView
from evswarm.evals.verdict import Check, Verdict

NAME = "tool_use"
DESCRIPTION = "Every tool call returned a result, or a failed call was retried successfully; no tool kept failing."
NEEDS_ORACLE = False


def grade(bundle: Bundle) -> Verdict:
    view = TraceView(bundle)
    checks: list[Check] = []
    by_tool: dict[str, list] = {}
    for result in view.tool_results:
        by_tool.setdefault(result.tool, []).append(result)
    for tool, results in by_tool.items():
        failures = [r for r in results if r.failed]
        if not failures:
            continue
        cited: list[str | None] = [r.span_id for r in failures[:4]]
        if not results[-1].failed:
            check = Check.saw(
                0.0, Symptom.TOOL_ERROR, f"{tool} failed {len(failures)} time(s), then worked", cited, tool
            )
            checks.append(check.model_copy(update={"severity": Severity.WARNING}))
        elif len(failures) >= 2:
            checks.append(Check.saw(1.0, Symptom.RETRIES_EXHAUSTED,
                                    f"{tool} failed {len(failures)} times and never worked", cited, tool))  # fmt: skip
        else:
            checks.append(Check.saw(1.0, Symptom.TOOL_ERROR, f"{tool} failed and was not retried", cited, tool))
    working = len(view.tool_results) - sum(r.failed for r in view.tool_results)
    checks.append(Check.ok(1.0, f"{working} of {len(view.tool_results)} tool call(s) worked"))
    return Verdict.from_checks(NAME, checks, empty="no tool calls", evidence=[])
