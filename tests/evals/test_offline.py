"""Grading never touches the network: the Python socket guard, and the whole path in a network namespace."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from evswarm.core.labels import read_labels
from evswarm.core.layout import BatchLayout
from evswarm.evals.promptfoo import DEAD_PROXY, environment
from tests.evals.builders import ROOT, requires_promptfoo

GUARD_CHECK = """
import socket
from evswarm.evals import netguard
netguard.install()
results = {}
try:
    socket.create_connection(("203.0.113.7", 80), timeout=1)
except netguard.NetworkBlockedError as exc:
    results["remote"] = str(exc)
try:
    socket.getaddrinfo("api.openai.com", 443)
except netguard.NetworkBlockedError as exc:
    results["dns"] = str(exc)
raw = socket.socket()
try:
    raw.connect(("198.51.100.1", 443))
except netguard.NetworkBlockedError as exc:
    results["raw"] = str(exc)
raw.close()
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
client = socket.create_connection(server.getsockname(), timeout=1)
results["loopback"] = "ok"
client.close(); server.close()
print(results)
"""


def test_socket_guard_refuses_remote_hosts_and_allows_loopback() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", GUARD_CHECK], env=env, capture_output=True, text=True, check=True)
    assert "network access to '203.0.113.7' refused" in out.stdout
    assert "network access to 'api.openai.com' refused" in out.stdout
    assert "network access to '198.51.100.1' refused" in out.stdout
    assert "'loopback': 'ok'" in out.stdout


def test_offline_environment_points_every_proxy_at_a_dead_port(tmp_path: Path) -> None:
    env = environment(tmp_path / "state", network=False)
    assert env["HTTPS_PROXY"] == env["HTTP_PROXY"] == DEAD_PROXY
    assert env["PROMPTFOO_DISABLE_TELEMETRY"] == env["PROMPTFOO_DISABLE_UPDATE"] == "1"
    assert env["PROMPTFOO_CONFIG_DIR"] == str(tmp_path / "state")
    assert env["PROMPTFOO_PYTHON"] == sys.executable and env["METADATA_SERVER_DETECTION"] == "none"
    assert "localhost" in env["NO_PROXY"]


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0


CONNECT_OUT = "import socket; socket.create_connection(('1.1.1.1', 53), 2)"
RUN_GRADE = """
import sys
from pathlib import Path
from evswarm.evals.pipeline import grade
grade(Path(sys.argv[1]), grader=sys.argv[2], progress=False)
"""


@pytest.mark.slow
@requires_promptfoo
@pytest.mark.parametrize("grader", ["offline", "file://{stub}"])
def test_whole_grading_path_runs_with_no_network(handmade_batch: tuple[Path, dict[str, str]], grader: str) -> None:
    assert _unshare_works(), "this test needs `unshare -rn` (user and network namespaces, as root on Linux)"
    batch, expected = handmade_batch
    grader = grader.format(stub=Path(__file__).with_name("stub_grader.py"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    probe = subprocess.run(
        ["unshare", "-rn", sys.executable, "-c", CONNECT_OUT],
        capture_output=True, text=True,
    )  # fmt: skip
    assert probe.returncode != 0  # the namespace really has no network
    done = subprocess.run(
        ["unshare", "-rn", sys.executable, "-c", RUN_GRADE, str(batch), grader],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {row.run_id: row for row in read_labels(BatchLayout(batch).labels)}
    assert {r for r, row in rows.items() if row.grade_status == "error"} == {
        r for r, want in expected.items() if want == "error"
    }
    assert rows["run_" + "a" * 32].promptfoo_pass is True
    if grader != "offline":
        assert rows["run_" + "a" * 32].promptfoo_llm_failed_checks == []
    results = json.loads(BatchLayout(batch).promptfoo_results.read_text())
    assert results["results"]["stats"]["successes"] == 1


def test_socket_module_is_untouched_in_the_test_process() -> None:
    """The guard is installed in promptfoo's provider workers, not in whoever imports the package."""
    import evswarm.evals.pipeline  # noqa: F401

    assert socket.socket.connect.__name__ == "connect" and socket.getaddrinfo.__module__ == "socket"
