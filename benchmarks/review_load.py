"""Bounded load test of the review app, from a second process on 127.0.0.1 only.

Measures: sustained webhook ingestion (traces/s, p50/p99 latency) while filling the database to 10,000
traces; list-page latency over those 10,000 traces (API and a real Chromium page); and the time until a
500-step trace's panes are ready in headless Chromium. Writes benchmarks/results/review_load.json.

    .venv/bin/python benchmarks/review_load.py [--traces 10000] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"  # never anything else
TOKEN = "bench-token-0123456789"
REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "review_load.json"
TIME_LIMIT_S = 240.0
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CASES = [
    "clean_simple",
    "pricing_exception_compound",
    "supplier_substitution_compound",
    "capacity_hold_simple",
]
OUTCOMES = ["completed", "awaiting_review", "blocked", "failed"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def chat_trace(index: int, tool_turns: int = 3) -> dict[str, Any]:
    """An OpenAI-chat trace with `tool_turns` reasoning+call+result turns (3 steps each) plus 2."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": f"Order {index}: quote a Volt EX LR."}]
    for turn in range(tool_turns):
        call_id = f"c{index}_{turn}"
        messages.append(
            {
                "role": "assistant",
                "name": ("PricingAgent", "SupplyAgent")[turn % 2],
                "content": f"Turn {turn}: checking component {turn} for order {index}.",
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": ("compute_quote", "check_stock")[turn % 2],
                            "arguments": json.dumps({"order": index, "component": turn}),
                        },
                    }
                ],
            }
        )
        messages.append(
            {
                "role": "tool",
                "tool_call_id": call_id,
                "content": json.dumps({"ok": True, "total": 48000 + turn, "lines": list(range(5))}),
            }
        )
    messages.append({"role": "assistant", "name": "Orchestrator", "content": f"Release order {index}."})
    return {
        "id": f"bench_{index:06d}",
        "title": f"bench order {index}",
        "messages": messages,
        "metadata": {
            "case_type": CASES[index % len(CASES)],
            "outcome": OUTCOMES[index % len(OUTCOMES)],
            "version_set": f"v{index % 3}",
        },
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, batch: Path) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = (batch.parent / "server.log").open("wb")
        code = (
            "import sys; from pathlib import Path; from evswarm.review import serve; "
            "serve(Path(sys.argv[1]), host='127.0.0.1', port=int(sys.argv[2]), token=sys.argv[3])"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, str(batch), str(self.port), TOKEN],
            cwd=REPO,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1"},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited early, see {self.log.name}")
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)  # readiness polling
        raise SystemExit("server not ready after 30 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


async def ingest(url: str, count: int, concurrency: int, deadline: float) -> dict[str, Any]:
    bodies = [json.dumps(chat_trace(i)).encode() for i in range(count)]
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while not queue.empty() and time.monotonic() < deadline:
            body = queue.get_nowait()
            start = time.perf_counter()
            response = await client.post(url + "/api/traces", content=body, headers=headers)
            latencies.append((time.perf_counter() - start) * 1000)
            if response.status_code != 201:
                failures += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "traces": len(latencies),
        "failures": failures,
        "seconds": round(elapsed, 2),
        "rate_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "concurrency": concurrency,
    }


def list_latency(url: str, total: int, requests: int = 200) -> dict[str, Any]:
    queries: list[dict[str, Any]] = [
        {},
        {"offset": total // 2},
        {"offset": max(0, total - 50)},
        {"case_type": CASES[1]},
        {"outcome": "blocked", "version_set": "v1"},
        {"q": "order 77"},
        {"annotated": "no", "offset": 1000},
    ]
    latencies: list[float] = []
    with httpx.Client(timeout=30) as client:
        for i in range(requests):
            start = time.perf_counter()
            response = client.get(url + "/api/traces", params={"limit": 50, **queries[i % len(queries)]})
            latencies.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
    return {
        "requests": requests,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "traces_in_db": total,
    }


def browser_timings(url: str, big_id: str, repeats: int = 5) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    list_ms: list[float] = []
    panes_ms: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        for _ in range(repeats):
            context = browser.new_context(viewport={"width": 1500, "height": 950})
            page = context.new_page()
            page.goto(url + "/")
            page.wait_for_selector("body[data-loaded-at]")
            list_ms.append(float(page.get_attribute("body", "data-loaded-at") or "nan"))
            page.goto(f"{url}/traces/{big_id}")
            page.wait_for_selector("body[data-ready='1']")
            panes_ms.append(float(page.get_attribute("body", "data-ready-at") or "nan"))
            cards = page.locator(".card").count()
            context.close()
        browser.close()
    return {
        "list_page_ready_ms_median": round(statistics.median(list_ms), 1),
        "big_trace_panes_ready_ms_median": round(statistics.median(panes_ms), 1),
        "big_trace_panes_ready_ms_max": round(max(panes_ms), 1),
        "big_trace_cards": cards,
        "repeats": repeats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=10_000, help="traces to ingest (bounded: at most 20,000)")
    parser.add_argument("--concurrency", type=int, default=4, help="parallel connections (at most 16)")
    args = parser.parse_args()
    count, concurrency = min(args.traces, 20_000), min(max(args.concurrency, 1), 16)
    deadline = time.monotonic() + TIME_LIMIT_S
    with tempfile.TemporaryDirectory(prefix="review-bench-") as tmp:
        batch = Path(tmp) / "batch"
        batch.mkdir()
        server = Server(batch)
        try:
            ingestion = asyncio.run(ingest(server.url, count, concurrency, deadline))
            stored = httpx.get(server.url + "/api/health").json()["traces"]
            listing = list_latency(server.url, stored)
            big = chat_trace(999_999, tool_turns=166)  # 1 + 166*3 + 1 = 500 steps
            big["id"] = "bench_big_500"
            response = httpx.post(server.url + "/api/traces", json=big, headers={"Authorization": f"Bearer {TOKEN}"})
            response.raise_for_status()
            steps = response.json()["steps"]
            browser = browser_timings(server.url, "bench_big_500")
        finally:
            server.stop()
    targets = {"ingest_rate_per_s": 300, "ingest_p99_ms": 100, "list_p99_ms": 200, "big_trace_panes_ms": 500}
    result = {
        "benchmark": "review_load",
        "host": HOST,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "ingestion": ingestion,
        "traces_in_db": stored,
        "list_api": listing,
        "browser": browser,
        "big_trace_steps": steps,
        "targets": targets,
        "met": {
            "ingest_rate": ingestion["rate_per_s"] >= targets["ingest_rate_per_s"],
            "ingest_p99": ingestion["p99_ms"] <= targets["ingest_p99_ms"],
            "list_p99": listing["p99_ms"] <= targets["list_p99_ms"],
            "big_trace_panes": browser["big_trace_panes_ready_ms_median"] <= targets["big_trace_panes_ms"],
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(
        f"ingest_rate={ingestion['rate_per_s']}/s ingest_p99={ingestion['p99_ms']}ms "
        f"list_p99={listing['p99_ms']}ms "
        f"panes_ready={browser['big_trace_panes_ready_ms_median']}ms (traces={stored}, steps={steps})"
    )


if __name__ == "__main__":
    main()
