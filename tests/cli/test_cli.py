"""The `evswarm` command line: help that reads well, fast answers, hints, and examples that run as written."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from evswarm.cli import app

REPO = Path(__file__).resolve().parents[2]
COMMANDS = [
    "simulate",
    "versions",
    "faults",
    "ab",
    "compare",
    "grade",
    "analyze",
    "replay",
    "serve",
    "demo",
    "verify",
    "diff",
    "import",
    "attribution-score",
]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100", "NO_COLOR": "1"}


def _evswarm(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "evswarm", *args], capture_output=True, text=True, env=ENV, cwd=REPO, timeout=60
    )
    return time.monotonic() - started, done


HEAVY = ("pandas", "torch", "sklearn", "umap", "agents", "fastapi", "uvicorn", "evswarm.core")
"""Modules `--help` and an argument error must not load: they are what makes a command slow to answer."""


def _loaded(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `evswarm ARGS` with `-X importtime`; return the result and the top-level names it imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "evswarm", *args],
        capture_output=True, text=True, env=ENV, cwd=REPO, timeout=60,
    )  # fmt: skip
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return done, names


def test_help_and_a_bad_argument_answer_without_loading_a_stage() -> None:
    """Fast answers by construction (timings are a benchmark's job): nothing heavy is imported."""
    for args, code, expected in [
        (["--help"], 0, "Commands:"),
        (["analyze", "data", "--embedder", "bert", "--out", "runs/x"], 2, "unknown --embedder"),
        (["simulate", "--runs", "many", "--out", "runs/x"], 2, "--runs"),
    ]:
        done, names = _loaded(*args)
        assert done.returncode == code and expected in done.stdout + done.stderr, done.stderr[-2000:]
        heavy = sorted(n for n in names if n.split(".")[0] in HEAVY or n.startswith("evswarm.core"))
        assert not heavy, f"`evswarm {' '.join(args)}` imported {heavy[:8]}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_shows_metavars_not_types_and_wraps_at_the_terminal(command: str) -> None:
    result = CliRunner(env={"COLUMNS": "90"}).invoke(app, [command, "--help"], prog_name="evswarm")
    assert result.exit_code == 0
    text = result.output
    assert "<bool>" not in text and "<path>" not in text and "<str>" not in text and "<int>" not in text
    assert "{" not in text.splitlines()[0], text.splitlines()[0]  # Usage: evswarm analyze [OPTIONS] DIR
    assert max(len(line) for line in text.splitlines()) <= 90
    wide = CliRunner(env={"COLUMNS": "200"}).invoke(app, [command, "--help"], prog_name="evswarm").output
    assert len(wide.splitlines()) <= len(text.splitlines())  # a wider terminal: longer lines, not the same ones


def test_version_and_the_usage_line_name_evswarm() -> None:
    result = CliRunner().invoke(app, ["--version"], prog_name="evswarm")
    assert result.exit_code == 0 and re.fullmatch(r"evswarm \d+\.\d+\.\d+\n", result.output)
    usage = CliRunner().invoke(app, ["replay", "--help"], prog_name="evswarm").output.splitlines()[0]
    assert usage == "Usage: evswarm replay [OPTIONS] DIR"


@pytest.mark.parametrize(
    "args, hint",
    [
        (["replay", "--verify", "true", "data"], "--verify is a flag and takes no value"),
        (
            ["simulate", "--runs", "3", "--version-set", "v1.0,v1.3", "--out", "x"],
            "--version-set v1.0 --version-set v1.3",
        ),
        (["serve", "data", "--annotator", "alice,bob"], "--annotator alice --annotator bob"),
        (["anlyze", "data"], "the commands are ab, compare, analyze, attribution-score"),
        (["analyze", "data"], "--out runs/batch1"),
        (["serve", "data", "--token", "short"], "at least 8 characters"),
    ],
)
def test_common_mistakes_get_a_hint_and_exit_2(args: list[str], hint: str) -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, args, prog_name="evswarm")
    assert result.exit_code == 2, result.output
    assert hint in " ".join(result.output.split()), result.output


def test_faults_are_whole_at_80_columns() -> None:
    from evswarm.agents.versions import FAULTS

    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["versions"])
    assert result.exit_code == 0 and max(len(line) for line in result.output.splitlines()) <= 80
    text = " ".join(result.output.split())
    for fault in FAULTS.values():  # every word of every fault is there, none cut
        assert fault.fault_id in text and " ".join(fault.description.split()) in text


# -- examples ----------------------------------------------------------------------------------------------

READS_A_BATCH = {"grade", "analyze", "replay", "serve", "verify"}
"""Commands whose first argument is a batch that must exist when the example runs."""
ARMS = {"ab": ("base", "candidate")}
"""Batches a command makes inside its --out directory."""
AFTER_MAKE_DEMO = {"data", "runs/demo"}
"""What exists after `make demo`: the shipped batch and the demo's analysis."""


def _readme_examples() -> list[list[str]]:
    """`evswarm ...` lines of the README's code blocks, in order (comments and `env -u VAR` dropped)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if not line or line.split()[0] not in ("evswarm", "env", "python"):
                continue
            words = shlex.split(line)
            if words[:2] == ["python", "-m"] and "--out" in words:  # an example program that writes a batch
                out.append(["--made", words[words.index("--out") + 1]])
                continue
            while (words and words[0] in ("env", "-u")) or (words and words[0].isupper()):
                words = words[1:]
            if words and words[0] == "evswarm":
                out.append(words[1:])
    return out


def _help_examples() -> list[list[str]]:
    """Every `Example...: evswarm ...` line and indented `evswarm ...` line of every command's help."""
    out = []
    for command in COMMANDS:
        text = CliRunner(env={"COLUMNS": "400"}).invoke(app, [command, "--help"], prog_name="evswarm").output
        text = text[text.index("Example") :] if "Example" in text else ""
        for found in re.findall(r"(?:^Examples?[^:\n]*: |\n\s+)evswarm ([^\n]+)", text):
            words = shlex.split(found.split("  #")[0])
            if words and words[0] in COMMANDS:
                out.append(words)
    return out


def _check(examples: list[list[str]], where: str) -> None:
    """Each example parses with the real command, and a batch it reads exists after `make demo` or is
    made by an example before it."""
    group = get_command(app)
    made = set(AFTER_MAKE_DEMO)
    for args in examples:
        if args[0] == "--made":
            made.add(args[1])
            continue
        ctx = group.make_context("evswarm", list(args))
        name = args[0]
        command = group.get_command(ctx, name)
        assert command is not None, f"{where}: unknown command in `evswarm {' '.join(args)}`"
        sub = command.make_context(name, list(args[1:]), parent=ctx)  # raises on a usage error
        if name in READS_A_BATCH:
            source = str(next(iter(v for k, v in sub.params.items() if k in ("batch_dir", "batch"))))
            assert source in made, f"{where}: `evswarm {' '.join(args)}` reads {source}, which nothing made"
        if "out" in sub.params and sub.params["out"] is not None:
            made.add(str(sub.params["out"]))
            made.update(f"{sub.params['out']}/{arm}" for arm in ARMS.get(name, ()))


def test_every_readme_example_parses_and_reads_what_exists() -> None:
    examples = _readme_examples()
    assert len(examples) >= 8
    _check(examples, "README.md")


def test_every_help_example_parses_and_reads_what_exists() -> None:
    examples = _help_examples()
    assert {e[0] for e in examples} >= {"simulate", "grade", "analyze", "replay", "serve", "demo"}
    order = ["simulate", "grade", "demo", "analyze", "replay", "serve"]  # the help examples as a workshop runs them
    _check(sorted(examples, key=lambda e: order.index(e[0]) if e[0] in order else 0), "--help")
