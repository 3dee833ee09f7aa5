"""A local stand-in for a model grader (promptfoo `--grader file://...`), to test llm-rubric wiring offline.

It reads the rendered grading prompt (chat messages as JSON), finds the rubric name and the run account,
and answers in the llm-rubric reply format. It fails a run whose account shows no final decision."""

from __future__ import annotations

import json
import re
from typing import Any


def call_api(prompt: str, options: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    try:
        messages = json.loads(prompt)
        text = "\n".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
    except ValueError:
        text = prompt
    rubric = re.search(r"on the rubric `([a-z_]+)`", text)
    accounts = re.findall(r"<Output>\s*(.*?)\s*</Output>", text, re.S)  # the last one: earlier are examples
    body = accounts[-1] if accounts else ""
    first_line = body.splitlines()[0] if body else "(no output)"
    passed = "Final decision: none" not in body and '"grades"' not in body
    reply = {
        "pass": passed,
        "score": 0.9 if passed else 0.2,
        "reason": f"stub judge on {rubric.group(1) if rubric else '?'}: {first_line}",
    }
    return {"output": json.dumps(reply)}
