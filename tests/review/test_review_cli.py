"""`evswarm serve` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from evswarm.core.errors import EvswarmError
from evswarm.review.schemes import load_schemes
from evswarm.review.server import build_config


def test_serve_help_teaches_the_options() -> None:
    from evswarm.cli import app

    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--token", "--analysis", "--watch", "--annotator", "--collapse-lines"):
        assert option in result.output


def test_serve_on_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EvswarmError, match="does not exist"):
        build_config(tmp_path / "missing")


def test_short_tokens_and_bad_schemes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(EvswarmError, match="at least 8"):
        build_config(tmp_path, token="short")
    bad = tmp_path / "schemes.yaml"
    bad.write_text("schemes:\n  - name: x\n    type: stars\n")
    with pytest.raises(EvswarmError, match=r"schemes\.0\.type"):
        load_schemes(bad)


def test_generated_token_and_default_paths(tmp_path: Path) -> None:
    config = build_config(tmp_path)
    assert len(config.token) >= 24
    assert config.db_path == tmp_path / "review.sqlite"
    assert config.watch_dirs == [tmp_path / "inbox"] and (tmp_path / "inbox").is_dir()
    assert [s.name for s in config.schemes.schemes][:5] == [
        "final_decision_quality",
        "policy_compliance_correctness",
        "routing_specialist_activation",
        "market_drift_awareness",
        "review_appropriateness",
    ]
