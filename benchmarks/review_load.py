"""Bounded load test of the review app, from a second process on 127.0.0.1 only.

Four runs, each on a fresh server and database:
- chat: sustained webhook ingestion of short OpenAI-chat traces (traces/s, p50/p99 latency) while filling
  the database to 10,000 traces; then list-page latency over them (API and a real Chromium page) and the
  time until a 500-step trace's panes are ready in headless Chromium;
- bundles: real evswarm bundles from the shipped batch (data/bundles.zip, about 165 kB each);
- zipped batch: `evswarm serve` on a batch that keeps those bundles zipped (as data/ does): seconds to the
  first answer and to the end of the background import, its rate against the webhook's in the same run;
- mixed: chat traces with 5% malformed payloads mixed in (not JSON, wrong shapes, nesting past the
  limit): every malformed one must get a 4xx, and every good one must be stored (checked id by id).
Each timing is printed and written (benchmarks/results/review_load.json) beside the amount of distinct
work it covers (traces, payloads, bytes).

    .venv/bin/python benchmarks/review_load.py [--traces 10000] [--bundles 1000] [--concurrency 4]
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
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"  # never anything else
TOKEN = "bench-token-0123456789"
REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "review_load.json"
BUNDLES_ZIP = REPO / "data" / "bundles.zip"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MALFORMED_SHARE = 0.05
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


def _malformed(index: int) -> bytes:
    """A payload the server must refuse with a 4xx: four kinds in turn."""
    kind = index % 4
    if kind == 0:
        return b'{"id": "broken", "messages": [{"role": "user", "con'  # truncated JSON
    if kind == 1:
        return json.dumps({"id": f"bad_{index}", "messages": [{"role": "assistant", "tool_calls": 5}]}).encode()
    if kind == 2:
        return b'{"id": "deep", "messages": [{"role": "user", "content": ' + b"[" * 500 + b"]" * 500 + b"}]}"
    return json.dumps({"id": f"bad_{index}", "resourceSpans": [{"scopeSpans": [{"spans": "x"}]}]}).encode()


async def ingest(url: str, bodies: list[tuple[bytes, bool]], concurrency: int, deadline: float) -> dict[str, Any]:
    """POST every (body, good) pair; good ones must get 201, malformed ones a 4xx (never a 5xx)."""
    latencies: list[float] = []
    good_latencies: list[float] = []
    failures = 0  # a good payload not stored, or a malformed one not refused with a 4xx
    server_errors = 0
    queue: asyncio.Queue[tuple[bytes, bool]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    headers = {**AUTH, "Content-Type": "application/json"}

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures, server_errors
        while not queue.empty() and time.monotonic() < deadline:
            body, good = queue.get_nowait()
            start = time.perf_counter()
            response = await client.post(url + "/api/traces", content=body, headers=headers)
            elapsed = (time.perf_counter() - start) * 1000
            latencies.append(elapsed)
            if good:
                good_latencies.append(elapsed)
            server_errors += response.status_code >= 500
            if (good and response.status_code != 201) or (not good and not 400 <= response.status_code < 500):
                failures += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    sent_bytes = sum(len(body) for body, _ in bodies[: len(latencies)])
    return {
        "payloads": len(latencies),
        "good_payloads": sum(good for _, good in bodies[: len(latencies)]),
        "malformed_payloads": sum(not good for _, good in bodies[: len(latencies)]),
        "bytes": sent_bytes,
        "failures": failures,
        "server_errors": server_errors,
        "seconds": round(elapsed, 2),
        "rate_per_s": round(len(latencies) / elapsed, 1),
        "mib_per_s": round(sent_bytes / elapsed / 2**20, 2),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "good_p99_ms": round(percentile(good_latencies, 99), 2) if good_latencies else None,
        "concurrency": concurrency,
    }


def stored_ids(url: str) -> set[str]:
    """Every trace id in the server's database, paged through the list API."""
    ids: set[str] = set()
    with httpx.Client(timeout=30, headers=AUTH) as client:
        offset = 0
        while True:
            rows = client.get(url + "/api/traces", params={"limit": 200, "offset": offset}).json()["rows"]
            ids.update(row["trace_id"] for row in rows)
            if len(rows) < 200:
                return ids
            offset += 200


def run(
    batch: Path, bodies: list[tuple[bytes, bool]], expected: set[str], concurrency: int, deadline: float
) -> tuple[Server, dict[str, Any]]:
    """A fresh server, the ingestion run, and the proof that every good payload's trace was stored."""
    batch.mkdir()
    server = Server(batch)
    figures = asyncio.run(ingest(server.url, bodies, concurrency, deadline))
    found = stored_ids(server.url)
    figures["good_traces_expected"] = len(expected)
    figures["good_traces_stored"] = len(expected & found)
    figures["unexpected_traces_stored"] = len(found - expected)
    figures["every_good_payload_stored"] = expected <= found and not (found - expected)
    return server, figures


def chat_bodies(count: int) -> tuple[list[tuple[bytes, bool]], set[str]]:
    return [(json.dumps(chat_trace(i)).encode(), True) for i in range(count)], {f"bench_{i:06d}" for i in range(count)}


def mixed_bodies(count: int) -> tuple[list[tuple[bytes, bool]], set[str]]:
    """`count` payloads, every 20th malformed (5%), the rest good chat traces."""
    step = round(1 / MALFORMED_SHARE)
    bodies: list[tuple[bytes, bool]] = []
    expected: set[str] = set()
    for i in range(count):
        if i % step == step - 1:
            bodies.append((_malformed(i), False))
        else:
            trace = chat_trace(i)
            bodies.append((json.dumps(trace).encode(), True))
            expected.add(trace["id"])
    return bodies, expected


def bundle_bodies(limit: int) -> tuple[list[tuple[bytes, bool]], set[str]]:
    """Real evswarm bundles from the shipped batch, as they are on disk."""
    with zipfile.ZipFile(BUNDLES_ZIP) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".json"))[:limit]
        bodies = [(archive.read(name), True) for name in names]
    return bodies, {Path(name).stem for name in names}


def zipped_import(root: Path, limit: int) -> dict[str, Any]:
    """`evswarm serve` on a batch whose bundles are zipped (the shipped data's layout): seconds until the
    server first answers, and until its background import of `limit` bundles is done."""
    batch = root / "zipped"
    batch.mkdir(parents=True)
    with zipfile.ZipFile(BUNDLES_ZIP) as source, zipfile.ZipFile(batch / "bundles.zip", "w") as target:
        names = sorted(n for n in source.namelist() if n.endswith(".json"))[:limit]
        for name in names:
            target.writestr(name, source.read(name))
    started = time.monotonic()
    server = Server(batch)
    first_answer = time.monotonic() - started
    try:
        deadline = time.monotonic() + TIME_LIMIT_S
        loading: dict[str, Any] = {}
        while time.monotonic() < deadline:
            loading = httpx.get(server.url + "/api/health", timeout=5).json()["loading"]
            if loading.get("phase") == "done":
                break
            time.sleep(0.2)  # polling the import's progress, bounded by the deadline
        status = httpx.get(server.url + "/api/status", headers=AUTH).json()
    finally:
        server.stop()
    seconds = float(loading.get("seconds") or 0.0)
    return {
        "bundles": len(names),
        "first_answer_s": round(first_answer, 2),
        "import_s": round(seconds, 2),
        "rate_per_s": round(len(names) / seconds, 1) if seconds else None,
        "traces_stored": status["traces"],
        "import_errors": status["import_error_count"],
        "done": loading.get("phase") == "done",
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
    with httpx.Client(timeout=30, headers=AUTH) as client:
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
            context.add_init_script(f"localStorage.setItem('evswarm-review-token', {json.dumps(TOKEN)})")
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


def _timed(label: str, step: Callable[[], Any]) -> Any:
    print(f"{label}...", file=sys.stderr, flush=True)
    return step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=10_000, help="chat traces to ingest (bounded: at most 20,000)")
    parser.add_argument("--bundles", type=int, default=1000, help="real bundles to post (at most 1,000)")
    parser.add_argument("--mixed", type=int, default=4000, help="payloads of the 5%%-malformed run")
    parser.add_argument("--concurrency", type=int, default=4, help="parallel connections (at most 16)")
    args = parser.parse_args()
    count, concurrency = min(args.traces, 20_000), min(max(args.concurrency, 1), 16)
    load_at_start = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="review-bench-") as tmp:
        bodies, expected = chat_bodies(count)
        server, ingestion = _timed(
            "chat run", lambda: run(Path(tmp) / "chat", bodies, expected, concurrency, time.monotonic() + TIME_LIMIT_S)
        )
        try:
            stored = httpx.get(server.url + "/api/status", headers=AUTH).json()["traces"]
            listing = list_latency(server.url, stored)
            big = chat_trace(999_999, tool_turns=166)  # 1 + 166*3 + 1 = 500 steps
            big["id"] = "bench_big_500"
            response = httpx.post(server.url + "/api/traces", json=big, headers=AUTH)
            response.raise_for_status()
            steps = response.json()["steps"]
            browser = browser_timings(server.url, "bench_big_500")
        finally:
            server.stop()
        bodies, expected = bundle_bodies(min(args.bundles, 1000))
        server, bundles = _timed(
            "bundle run",
            lambda: run(Path(tmp) / "bundles", bodies, expected, concurrency, time.monotonic() + TIME_LIMIT_S),
        )
        server.stop()
        zipped = _timed("zipped batch import", lambda: zipped_import(Path(tmp), min(args.bundles, 1000)))
        bodies, expected = mixed_bodies(args.mixed)
        server, mixed = _timed(
            "mixed run",
            lambda: run(Path(tmp) / "mixed", bodies, expected, concurrency, time.monotonic() + TIME_LIMIT_S),
        )
        server.stop()
    bundles["mean_bundle_kib"] = round(bundles["bytes"] / max(bundles["payloads"], 1) / 1024, 1)
    targets = {
        "ingest_rate_per_s": 300,
        "ingest_p99_ms": 100,
        "list_p99_ms": 200,
        "big_trace_panes_ms": 500,
        "zipped_import_1000_s": 15,
    }
    result = {
        "benchmark": "review_load",
        "host": HOST,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m_at_start": load_at_start,  # other work on the machine skews every rate
        },
        "ingestion": ingestion,
        "bundle_ingestion": bundles,
        "zipped_batch_import": {
            **zipped,
            # baseline measured in this run: the same bundles posted to the webhook
            "rate_vs_webhook": round(zipped["rate_per_s"] / bundles["rate_per_s"], 2)
            if zipped["rate_per_s"] and bundles["rate_per_s"]
            else None,
        },
        "mixed_ingestion": {**mixed, "malformed_share": MALFORMED_SHARE},
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
            "mixed_ingest_rate": mixed["rate_per_s"] >= targets["ingest_rate_per_s"],
            "mixed_ingest_p99": mixed["p99_ms"] <= targets["ingest_p99_ms"],
            "every_good_payload_stored": all(
                run_figures["every_good_payload_stored"] for run_figures in (ingestion, bundles, mixed)
            ),
            "zipped_import": zipped["done"]
            and zipped["traces_stored"] == zipped["bundles"]
            and zipped["import_s"] * 1000 / max(zipped["bundles"], 1) <= targets["zipped_import_1000_s"],
            "no_server_errors": all(run_figures["server_errors"] == 0 for run_figures in (ingestion, bundles, mixed)),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    for name, figures in (("chat", ingestion), ("bundles", bundles), ("mixed 5% malformed", mixed)):
        print(
            f"{name}: {figures['rate_per_s']}/s ({figures['mib_per_s']} MiB/s) p50={figures['p50_ms']}ms "
            f"p99={figures['p99_ms']}ms over {figures['payloads']} payloads ({figures['bytes']:,} bytes); "
            f"good stored {figures['good_traces_stored']}/{figures['good_traces_expected']}, "
            f"failures={figures['failures']} server_errors={figures['server_errors']}"
        )
    print(
        f"zipped batch: first answer {zipped['first_answer_s']}s, {zipped['bundles']} bundles imported in "
        f"{zipped['import_s']}s ({zipped['rate_per_s']}/s), {zipped['traces_stored']} stored"
    )
    print(
        f"list_p99={listing['p99_ms']}ms over {stored} traces; "
        f"panes_ready={browser['big_trace_panes_ready_ms_median']}ms (steps={steps})"
    )


if __name__ == "__main__":
    main()
