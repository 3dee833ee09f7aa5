"""Helpers for the review app tests: a hand-made batch, tokens and a real server in a subprocess."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .bundles import label_row, make_bundle

TOKEN = "test-server-token"
REPO = Path(__file__).resolve().parents[2]


def run_id(index: int) -> str:
    return "run_" + f"{index:032x}"


def write_batch(root: Path, count: int = 4) -> Path:
    """A batch dir with `count` bundles (alternating case types) and their grades."""
    (root / "bundles").mkdir(parents=True, exist_ok=True)
    labels = []
    for index in range(count):
        rid = run_id(index)
        bundle = make_bundle(
            rid,
            case_type=("clean_simple", "pricing_exception_compound")[index % 2],
            version_set=("baseline", "v2_pricing")[index % 2],
            terminal_state=("completed", "awaiting_review")[index % 2],
        )
        (root / "bundles" / f"{rid}.json").write_text(json.dumps(bundle, indent=2))
        failed = ["final_decision_quality"] if index % 2 else []
        labels.append(label_row(rid, failed, f"span_{rid[-8:]}_0005"))
    (root / "eval_labels.jsonl").write_text("".join(json.dumps(row) + "\n" for row in labels))
    return root


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """`evswarm serve` in a subprocess on 127.0.0.1 and a free port."""

    def __init__(self, batch_dir: Path, *, extra: dict[str, Any] | None = None) -> None:
        self.port = free_port()
        self.log_path = batch_dir.parent / f"server-{self.port}.log"
        self.log = self.log_path.open("wb")
        self.url = f"http://127.0.0.1:{self.port}"
        options = {"token": TOKEN, **(extra or {})}
        code = (
            "import sys, json; from pathlib import Path; from evswarm.review import serve; "
            "o = json.loads(sys.argv[2]); "
            "o = {k: Path(v) if k in ('analysis', 'db', 'schemes') else v for k, v in o.items()}; "
            "serve(Path(sys.argv[1]), port=int(sys.argv[3]), **o)"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, str(batch_dir), json.dumps(options), str(self.port)],
            cwd=REPO,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1"},
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the server answers and its start-up import (run in the background) is done."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.log_path.read_text(errors="replace")
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{output}")
            try:
                health = httpx.get(self.url + "/api/health", timeout=1.0)
                if health.status_code == 200 and health.json()["loading"]["phase"] == "done":
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)  # polling interval while waiting for readiness, not synchronization
        raise RuntimeError("server did not become ready")

    def signin_links(self) -> dict[str, str]:
        """The one-time sign-in links the server printed, by whom they sign in (`server (admin)`,
        `annotator NAME`)."""
        text = " ".join(self.log_path.read_text(errors="replace").split())
        found = re.findall(r"(server \(admin\)|annotator \S+): (http\S+#signin=\S+)", text)
        return {who: link for who, link in found}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def json_auth(token: str = TOKEN) -> dict[str, str]:
    """The server token and a JSON content type: what the webhook needs."""
    return {**auth(token), "Content-Type": "application/json"}


def wait_until(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll `condition` until it returns something truthy (returned) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)  # polling interval of a condition wait with a deadline


def import_errors(client: Any) -> list[dict[str, Any]]:
    """The server's recorded import errors (newest first), read with the server token."""
    return list(client.get("/api/status", headers=auth()).json()["import_errors"])


def write_analysis(directory: Path, members: list[str], label: str = "pricing drift") -> Path:
    """Analysis tables (written through the core row models, as `evswarm analyze` writes them) that put
    `members` in pattern 1 and blame each one's PricingAgent model turn (span 4) for its quote (span 5)."""
    from evswarm.core.analysis import (
        AttributionRow,
        PatternRow,
        SuspectRow,
        SuspectStepRow,
        TracePatternRow,
        write_table,
    )

    directory.mkdir(parents=True, exist_ok=True)

    def span(rid: str, index: int) -> str:
        return f"span_{rid[-8:]}_{index:04d}"

    pattern = PatternRow(
        pattern_id=1, label=label, label_basis="test", keywords=["quote"], trace_count=len(members),
        prevalence=0.5, share_of_analyzed=1.0, severity=2.0, severity_weighted_prevalence=0.5, impact=1.0,
        dominant_case_type="pricing_exception_compound", dominant_outcome="awaiting_review",
        top_suspect="PricingAgent", top_suspect_side="agent", top_suspect_share=0.75, representatives=members[:1],
    )  # fmt: skip
    write_table(directory, PatternRow, [pattern])
    write_table(directory, TracePatternRow, [
        TracePatternRow(run_id=rid, pattern_id=1, pattern=label, probability=1.0,
                        case_type="pricing_exception_compound", run_outcome="awaiting_review",
                        agent_version_set="v2_pricing", anchor_event_id=span(rid, 5), anchor_reason="cited by a grade",
                        map_x=0.0, map_y=0.0)
        for rid in members
    ])  # fmt: skip
    write_table(directory, SuspectRow, [
        SuspectRow(pattern_id=1, pattern=label, rank=1, component="PricingAgent", side="agent", traces=3,
                   share=0.75, mean_score=0.8, example_step=span(members[0], 4)),
        SuspectRow(pattern_id=1, pattern=label, rank=2, component="compute_quote", side="tool", traces=1,
                   share=0.25, mean_score=0.4, example_step=span(members[0], 5)),
    ])  # fmt: skip
    write_table(directory, SuspectStepRow, [
        SuspectStepRow(run_id=rid, rank=rank, event_id=span(rid, index), seq=index, agent_name=agent,
                       node_kind=kind, tool_name=tool, score=score, deviation=score, earliness=0.5, proximity=0.5,
                       hop=1, anchor_event_id=span(rid, 5))
        for rid in members
        for rank, index, agent, kind, tool, score in (
            (1, 4, "PricingAgent", "generation", "", 0.8), (2, 1, "Orchestrator", "generation", "", 0.3))
    ])  # fmt: skip
    write_table(directory, AttributionRow, [
        AttributionRow(run_id=rid, suspect_event_id=span(rid, 4), suspect_seq=4, suspect_agent="PricingAgent",
                       suspect_kind="generation", suspect_tool="", suspect_side="agent",
                       suspect_component="PricingAgent", suspect_rule="contrast with peers", score=0.8,
                       deviation=0.9, earliness=1.0, proximity=0.5,
                       anchor_event_id=span(rid, 5), anchor_rule="cited by a grade", unusual_steps=1,
                       baseline_last_agent="PricingAgent", baseline_most_frequent_agent="Orchestrator",
                       baseline_first_agent="Orchestrator")
        for rid in members
    ])  # fmt: skip
    return directory
