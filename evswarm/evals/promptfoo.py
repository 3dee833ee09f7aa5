"""Run the pinned promptfoo CLI by subprocess, offline and quiet, and read its JSON results."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evswarm.core.errors import EvswarmError
from evswarm.core.io import load_json

INSTALL_COMMAND = "npm install --omit=optional --no-package-lock --no-audit --no-fund"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
"""The directory holding the `evswarm` package (the repo root in a checkout)."""
DEAD_PROXY = "http://127.0.0.1:9"
"""A loopback port nothing listens on: any stray fetch promptfoo makes fails at once, with no DNS."""


class PromptfooError(EvswarmError):
    """promptfoo is missing or its run broke."""


@dataclass(frozen=True)
class Installation:
    """Where the pinned CLI and the repo's promptfoo config live."""

    binary: Path
    config: Path


def locate(start: Path | None = None) -> Installation:
    """Find `node_modules/.bin/promptfoo` and `promptfooconfig.yaml`: env vars, then repo, then cwd up."""
    binary_env = os.environ.get("EVSWARM_PROMPTFOO")
    config_env = os.environ.get("EVSWARM_PROMPTFOO_CONFIG")
    roots = [*(start or Path.cwd()).resolve().parents[::-1], (start or Path.cwd()).resolve()]
    candidates = [PACKAGE_ROOT, *reversed(roots)]
    binary = Path(binary_env) if binary_env else _first(candidates, "node_modules/.bin/promptfoo")
    config = Path(config_env) if config_env else _first(candidates, "promptfooconfig.yaml")
    if binary is None or not binary.is_file():
        raise PromptfooError(
            "promptfoo is not installed (no node_modules/.bin/promptfoo in this project)",
            hint=f"run `{INSTALL_COMMAND}` in {PACKAGE_ROOT} (Node 20+), or set EVSWARM_PROMPTFOO",
        )
    if config is None or not config.is_file():
        raise PromptfooError(
            f"promptfooconfig.yaml not found next to {binary.parents[2]}",
            hint="run from the evswarm checkout or set EVSWARM_PROMPTFOO_CONFIG",
        )
    return Installation(binary=binary, config=config)


def _first(dirs: list[Path], relative: str) -> Path | None:
    for directory in dirs:
        candidate = directory / relative
        if candidate.is_file():
            return candidate
    return None


def environment(state_dir: Path, *, network: bool) -> dict[str, str]:
    """The subprocess environment: telemetry, updates, sharing and remote generation off; state in
    `state_dir`; the real interpreter for Python providers; with `network` False, every proxy points at a
    dead loopback port."""
    env = dict(os.environ)
    env.update(
        {
            "PROMPTFOO_DISABLE_TELEMETRY": "1",
            "PROMPTFOO_DISABLE_UPDATE": "1",
            "PROMPTFOO_DISABLE_SHARING": "1",
            "PROMPTFOO_DISABLE_REMOTE_GENERATION": "1",
            "PROMPTFOO_DISABLE_RUNTIME_WARNINGS": "1",
            "PROMPTFOO_DISABLE_DEBUG_LOG": "1",
            "PROMPTFOO_DISABLE_ERROR_LOG": "1",
            "PROMPTFOO_CONFIG_DIR": str(state_dir),
            "PROMPTFOO_LOG_DIR": str(state_dir / "logs"),
            "PROMPTFOO_PYTHON": sys.executable,
            "METADATA_SERVER_DETECTION": "none",
            "NODE_NO_WARNINGS": "1",
            "PYTHONPATH": os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if not network:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
            env[name] = DEAD_PROXY
        env["NO_PROXY"] = env["no_proxy"] = "localhost,127.0.0.1,::1"
    return env


def summarize_log(text: str) -> str:
    """The line that says what went wrong (promptfoo's `Error: ...`), else the last non-empty lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if re.match(r"^[A-Za-z]*Error\b[^:]*:", line) or line.startswith("Error"):
            return line
    return " | ".join(lines[-3:])


def run_eval(
    install: Installation,
    config_file: Path,
    output_file: Path,
    *,
    env: dict[str, str],
    grader: str | None,
    jobs: int,
    on_poll: Callable[[], None] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Run `promptfoo eval` and return its parsed JSON output. Exit 0 (all passed) and 100 (some test
    failed) are results; any other exit, or no output file, is a PromptfooError quoting promptfoo."""
    command = [
        str(install.binary), "eval", "-c", str(config_file), "-o", str(output_file),
        "--no-cache", "--no-table", "--no-progress-bar", "--no-share", "--no-write", "-j", str(jobs),
    ]  # fmt: skip
    if grader:
        command += ["--grader", grader]
    log = config_file.with_name("promptfoo.log")
    started = time.monotonic()
    with log.open("wb") as sink:
        try:
            proc = subprocess.Popen(command, cwd=config_file.parent, env=env, stdout=sink, stderr=subprocess.STDOUT)
        except OSError as exc:
            raise PromptfooError(f"cannot start {install.binary}: {exc.strerror}") from exc
        try:
            while True:
                try:
                    code = proc.wait(timeout=0.2)
                    break
                except subprocess.TimeoutExpired:
                    if on_poll:
                        on_poll()
                    if timeout is not None and time.monotonic() - started > timeout:
                        raise PromptfooError(f"promptfoo did not finish within {timeout:.0f} s") from None
        except BaseException:  # Ctrl-C, a timeout: promptfoo must not outlive the command
            proc.kill()
            proc.wait()
            raise
    if on_poll:
        on_poll()
    if code not in (0, 100) or not output_file.is_file():
        excerpt = summarize_log(log.read_text(encoding="utf-8", errors="replace"))
        raise PromptfooError(
            f"promptfoo exited with code {code}" + (f": {excerpt}" if excerpt else " and wrote no results"),
            hint=f"full log: {log}",
        )
    result = load_json(output_file)
    if not isinstance(result, dict) or not isinstance(result.get("results"), dict):
        raise PromptfooError(f"{output_file}: not a promptfoo results file")
    return result
