from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("EVSWARM_CACHE_DIR", str(tmp_path / "cache"))
    from evswarm.cli import app

    return app


def test_analyze_command_writes_report(cli, batch_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        ["analyze", str(batch_dir), "--out", str(out), "--embedder", "tfidf", "--reducer", "pca", "--quiet"],
    )
    assert res.exit_code == 0, res.output
    assert "report:" in res.output and (out / "report.html").is_file()
    assert (out / "patterns.csv").is_file()


def test_analyze_command_bad_input_exits_2_without_traceback(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = CliRunner().invoke(cli, ["analyze", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 2
    text = " ".join(res.output.split())  # rich wraps long messages
    assert "does not exist" in text and "Traceback" not in text
    res = CliRunner().invoke(cli, ["analyze", str(tmp_path), "--out", str(tmp_path / "o"), "--embedder", "bert"])
    assert res.exit_code == 2 and "unknown --embedder" in " ".join(res.output.split())


def test_analyze_backend_mistakes_exit_2_before_any_work(cli, batch_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "o"
    for extra, said in (
        (["--address", "auto"], "--address needs --backend ray"),
        (["--backend", "spark"], "unknown --backend 'spark'"),
        (["--workers", "0"], "--workers must be at least 1"),
    ):
        res = CliRunner().invoke(cli, ["analyze", str(batch_dir), "--out", str(out), "-q", *extra])
        assert res.exit_code == 2 and said in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_analyze_without_grades_says_so_on_the_terminal(cli, batch_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    ungraded = tmp_path / "ungraded"
    shutil.copytree(batch_dir, ungraded)
    (ungraded / "eval_labels.jsonl").unlink(missing_ok=True)
    res = CliRunner().invoke(
        cli, ["analyze", str(ungraded), "--out", str(tmp_path / "o"), "--embedder", "tfidf", "--reducer", "pca", "-q"]
    )
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "has no grades" in text and f"evswarm grade {ungraded}" in text


def test_a_new_analysis_drops_verified_causes_of_the_old_one(cli, batch_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    out.mkdir()
    for name in ("causes.json", "causes.csv", "counterfactual_runs.json"):
        (out / name).write_text("[]")
    args = ["analyze", str(batch_dir), "--out", str(out), "--embedder", "tfidf", "--reducer", "pca", "--quiet"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert not any((out / name).exists() for name in ("causes.json", "causes.csv", "counterfactual_runs.json"))
    assert "Not verified yet" in (out / "report.html").read_text(encoding="utf-8")
