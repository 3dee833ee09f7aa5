"""`final_answer` (oracle-free): the run ended with an answer that its own steps support, and the user did
not have to ask again.

Symptoms: `empty_answer` (no final answer, or an empty one, from a run that did not crash),
`contradictory_answer` (the answer reports success, e.g. "issued", "updated", "done", while the last tool
call failed and nothing recovered it), `user_repeat` (a later user message repeats an earlier one).
"""

from __future__ import annotations

import re

from evswarm.core.bundle import Bundle
from evswarm.core.symptoms import Symptom
from evswarm.evals.rubrics.trace_view import TraceView, words
from evswarm.evals.verdict import Check, Verdict

NAME = "final_answer"
DESCRIPTION = (
    "The run ends with a non-empty answer that agrees with what its tools returned (no success claimed "
    "after a failed call), and the user never had to repeat the request."
)
NEEDS_ORACLE = False
SUCCESS = re.compile(r"\b(issued|updated|done|completed|resolved|succeeded|processed|fixed|refunded|booked)\b", re.I)
REPEAT_OVERLAP = 0.6
"""Word overlap (Jaccard) at which a later user message repeats an earlier one."""


def grade(bundle: Bundle) -> Verdict:
    view = TraceView(bundle)
    checks: list[Check] = []
    final = view.final_answer
    if final is None or not final[1].strip():
        if not view.run_errors:
            where: list[str | None] = [final[0].span_id] if final else [view.terminal_event]
            checks.append(Check.saw(1.0, Symptom.EMPTY_ANSWER, "the run ended without an answer", where))
    else:
        span, text = final
        failed = view.tool_results[-1] if view.tool_results and view.tool_results[-1].failed else None
        if failed is not None and SUCCESS.search(text):
            checks.append(Check.saw(1.0, Symptom.CONTRADICTORY_ANSWER,
                                    f"the answer reports success but the last call of {failed.tool} failed",
                                    [span.span_id, failed.span_id], failed.tool))  # fmt: skip
    users = view.user_messages
    for later in range(1, len(users)):
        mine = words(users[later][1])
        for earlier in range(later):
            theirs = words(users[earlier][1])
            if mine and theirs and len(mine & theirs) / len(mine | theirs) >= REPEAT_OVERLAP:
                checks.append(Check.saw(1.0, Symptom.USER_REPEAT, "the user repeated the request",
                                        [users[earlier][0], users[later][0]]))  # fmt: skip
                break
        else:
            continue
        break
    checks.append(Check.ok(1.0, "an answer its steps support"))
    return Verdict.from_checks(NAME, checks, empty="", evidence=[final[0].span_id] if final else [])
