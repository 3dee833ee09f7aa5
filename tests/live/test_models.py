"""`--model` parsing and the live-mode knobs, and the one-line summary of a batch's model trouble."""

from __future__ import annotations

import pytest

from evswarm.agents.providers import ModelChoice, parse_model
from evswarm.core.errors import EvswarmError
from evswarm.core.results import ResultsRow
from evswarm.simulator.batch import model_trouble


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "EVSWARM_MODEL_TIMEOUT", "EVSWARM_MODEL_RETRIES"):
        monkeypatch.delenv(name, raising=False)


def test_live_mode_reads_key_timeout_and_retries_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    assert parse_model("openai:gpt-x", None) == ModelChoice("openai", "gpt-x", None, timeout=120.0, max_retries=4)
    monkeypatch.setenv("EVSWARM_MODEL_TIMEOUT", "2.5")
    monkeypatch.setenv("EVSWARM_MODEL_RETRIES", "0")
    choice = parse_model("openai:m", "http://127.0.0.1:8000/v1")
    assert (choice.timeout, choice.max_retries, choice.base_url) == (2.5, 0, "http://127.0.0.1:8000/v1")
    provider = choice.provider()
    assert provider.client.timeout == 2.5 and provider.client.max_retries == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("EVSWARM_MODEL_TIMEOUT", "soon", "EVSWARM_MODEL_TIMEOUT='soon' is not a number of seconds > 0"),
        ("EVSWARM_MODEL_TIMEOUT", "0", "is not a number of seconds > 0"),
        ("EVSWARM_MODEL_RETRIES", "-1", "EVSWARM_MODEL_RETRIES='-1' is not a whole number >= 0"),
        ("EVSWARM_MODEL_RETRIES", "2.5", "is not a whole number >= 0"),
    ],
)
def test_bad_knobs_are_refused_by_name(monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv(variable, value)
    with pytest.raises(EvswarmError, match=says.replace("(", r"\(").replace(">", ">")):
        parse_model("openai:m", None)


def test_live_mode_without_a_key_or_with_a_bad_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(EvswarmError, match="needs OPENAI_API_KEY"):
        parse_model("openai:m", None)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    with pytest.raises(EvswarmError, match="is not an http"):
        parse_model("openai:m", "127.0.0.1:8000")
    with pytest.raises(EvswarmError, match="only applies with --model openai"):
        parse_model("offline", "http://127.0.0.1:8000/v1")


def _row(index: int, code: str | None, message: str | None) -> ResultsRow:
    return ResultsRow(
        run_id=f"run_{index}", batch_index=index, batch_label="b", batch_size=3, status="failed",
        final_status="failed", bundle_path=None, error_code=code, error_message=message,
    )  # fmt: skip


def test_model_trouble_names_the_first_cause_and_what_it_cost() -> None:
    said = "the model server at http://h/v1 rejected the API key (HTTP 401)"
    rows = [
        _row(2, "model_auth_error", said + " (not attempted again: an earlier run of this batch failed the same way)"),
        _row(1, "model_auth_error", said),
        _row(3, "order_validity", "bad order"),
    ]
    assert model_trouble(rows) == f"2 of 3 runs failed because {said}"
    assert model_trouble([_row(1, "max_turns_exceeded", "too long"), _row(2, None, None)]) is None
