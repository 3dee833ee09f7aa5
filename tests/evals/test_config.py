"""The promptfoo config built for a grading run from the repo's promptfooconfig.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from evswarm.core.errors import EvswarmError
from evswarm.evals.config import build_config, load_base_config
from evswarm.evals.rubrics import RUBRICS

ROOT = Path(__file__).resolve().parents[2]


def test_repo_config_has_one_javascript_assertion_per_rubric() -> None:
    base = load_base_config(ROOT / "promptfooconfig.yaml")
    asserts = base["defaultTest"]["assert"]
    assert [a["metric"] for a in asserts] == list(RUBRICS)
    assert {a["type"] for a in asserts} == {"javascript"}


def test_built_config_points_at_this_batch_and_the_installed_provider(tmp_path: Path) -> None:
    base = load_base_config(ROOT / "promptfooconfig.yaml")
    config = build_config(base, tests_file=tmp_path / "t.jsonl", progress_file=tmp_path / "p", llm=False)
    provider = config["providers"][0]
    assert provider["id"] == f"file://{ROOT / 'evswarm' / 'evals' / 'provider.py'}"
    assert provider["config"]["progress_file"] == str(tmp_path / "p") and provider["config"]["retrospective"] is False
    assert config["tests"] == f"file://{tmp_path / 't.jsonl'}" and config["sharing"] is False
    assert base["tests"] != config["tests"]  # the base is not modified


def test_model_grader_adds_an_llm_rubric_per_rubric(tmp_path: Path) -> None:
    base = load_base_config(ROOT / "promptfooconfig.yaml")
    config = build_config(base, tests_file=tmp_path / "t.jsonl", progress_file=None, llm=True)
    llm = [a for a in config["defaultTest"]["assert"] if a["type"] == "llm-rubric"]
    assert [a["metric"] for a in llm] == [f"llm_{name}" for name in RUBRICS]
    assert all(a["transform"] == "JSON.parse(output).retrospective" for a in llm)
    assert config["providers"][0]["config"]["retrospective"] is True


def test_config_without_rubric_assertions_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "promptfooconfig.yaml"
    path.write_text(
        "providers: [x]\ndefaultTest:\n  assert:\n    - {type: javascript, metric: final_decision_quality}\n"
    )
    with pytest.raises(EvswarmError, match="no assertion with metric policy_compliance_correctness"):
        load_base_config(path)
    path.write_text("providers: [\n")
    with pytest.raises(EvswarmError, match="not valid YAML"):
        load_base_config(path)
