"""Build the promptfoo config for one grading run from the repo's `promptfooconfig.yaml`."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from evswarm.core.errors import EvswarmError
from evswarm.evals.rubrics import DESCRIPTIONS, RUBRICS

LLM_PREFIX = "llm_"
"""Metric name prefix of the model-graded (`llm-rubric`) twin of each rubric."""

_PROVIDER_FILE = Path(__file__).with_name("provider.py")


def load_base_config(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvswarmError(f"cannot read promptfoo config {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise EvswarmError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("defaultTest", {}).get("assert"), list):
        raise EvswarmError(f"{path}: expected a promptfoo config with `defaultTest.assert` (one per rubric)")
    metrics = [a.get("metric") for a in data["defaultTest"]["assert"] if isinstance(a, dict)]
    if missing := [name for name in RUBRICS if name not in metrics]:
        raise EvswarmError(f"{path}: no assertion with metric {', '.join(missing)}")
    return data


def load_assertions(path: Path) -> list[dict[str, Any]]:
    """The user's own promptfoo assertions: a YAML list (or `assert:` list) of assertions, each with a
    `metric` name that is not a rubric's. Each assertion sees the provider's JSON output: `run_id`,
    `final_answer` (the run's last agent message), `transcript` (one line per step) and `grades`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvswarmError(f"cannot read --assertions {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise EvswarmError(f"{path}: not valid YAML ({exc})") from exc
    items = data.get("assert") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise EvswarmError(f"{path}: expected a list of promptfoo assertions (or an `assert:` list)")
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise EvswarmError(f"{path}: assertion {number}: expected an object with a `type`")
        metric = item.get("metric")
        if not isinstance(metric, str) or not metric:
            raise EvswarmError(f"{path}: assertion {number}: give it a `metric` name (its column in the labels)")
        if metric in RUBRICS or metric in seen:
            raise EvswarmError(f"{path}: assertion {number}: metric {metric!r} is already used")
        seen.add(metric)
    return items


def llm_rubric_text(rubric: str) -> str:
    return (
        f"You are grading one run of an EV-order agent swarm on the rubric `{rubric}`. The output is a "
        f"plain-text account of the run (order, signals in effect, steps with span ids, decisions). "
        f"Pass only if: {DESCRIPTIONS[rubric]} Cite the span ids you rely on in your reason."
    )


def build_config(
    base: dict[str, Any],
    *,
    tests_file: Path,
    progress_file: Path | None,
    llm: bool,
) -> dict[str, Any]:
    """A copy of `base` with absolute paths, this batch's tests, and (with `llm`) the llm-rubric twins."""
    config = copy.deepcopy(base)
    config["tests"] = f"file://{tests_file}"
    providers = config.get("providers") or []
    if len(providers) != 1 or not isinstance(providers[0], dict):
        raise EvswarmError("promptfooconfig.yaml must declare exactly one provider (the evswarm grader)")
    provider = providers[0]
    provider["id"] = f"file://{_PROVIDER_FILE}"
    options = dict(provider.get("config") or {})
    options["retrospective"] = llm
    if progress_file is not None:
        options["progress_file"] = str(progress_file)
    provider["config"] = options
    config["sharing"] = False
    if llm:
        config["defaultTest"]["assert"] += [
            {
                "type": "llm-rubric",
                "metric": f"{LLM_PREFIX}{rubric}",
                "value": llm_rubric_text(rubric),
                "transform": "JSON.parse(output).retrospective",
            }
            for rubric in RUBRICS
        ]
    return config
