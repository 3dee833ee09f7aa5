"""`evswarm serve` on the command line."""

from __future__ import annotations

import socket
from collections.abc import Iterator
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
    for option in (
        "--port",
        "--token",
        "--analysis",
        "--watch",
        "--annotator",
        "--collapse-lines",
        "--public-read",
        "--allow-host",
        "--max-body-mb",
    ):
        assert option in result.output


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def _serve(*args: str) -> tuple[int, list[str]]:
    from evswarm.cli import app

    result = CliRunner().invoke(app, ["serve", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "make_args, words",
    [
        (lambda d, port: [str(d), "--port", "99999"], "--port 99999 is not a port"),
        (lambda d, port: [str(d), "--port", "0"], "--port 0 is not a port"),
        (lambda d, port: [str(d), "--port", str(port)], "is in use"),
        (lambda d, port: [str(d), "--db", str(d / "file.txt" / "review.sqlite")], "is a file, not a directory"),
        (lambda d, port: [str(d), "--db", str(d / "file.txt")], "cannot open it as an SQLite database"),
        (lambda d, port: [str(d), "--db", str(d)], "is not a file"),
        (lambda d, port: [str(d), "--max-body-mb", "-1"], "--max-body-mb -1 is not a size"),
        (lambda d, port: [str(d), "--max-body-mb", "0"], "--max-body-mb 0 is not a size"),
        (lambda d, port: [str(d), "--max-body-mb", "nan"], "--max-body-mb nan is not a size"),
        (lambda d, port: [str(d / "file.txt")], "is not a directory"),
        (lambda d, port: [str(d / "missing")], "does not exist"),
        (lambda d, port: [str(d), "--watch", str(d / "file.txt")], "--watch"),
        (lambda d, port: [str(d), "--host", "no-such-host.invalid"], "--host"),
    ],
)
def test_serve_input_errors_exit_2_with_one_line_and_no_traceback(
    tmp_path: Path, busy_port: int, make_args, words: str
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "file.txt").write_text("not a database, not a directory")
    code, lines = _serve(*make_args(tmp_path, busy_port))
    assert code == 2, lines
    assert lines[0].startswith("error:") and words in lines[0], lines
    assert not any("Traceback" in line for line in lines)
    if "does not exist" not in words:  # that one keeps its hint line
        assert len(lines) == 1, lines


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
