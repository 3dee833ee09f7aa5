"""A small OpenAI-compatible Chat Completions server for live-mode tests, on 127.0.0.1.

It answers like a model that knows the job: it recognises the agent from the system message (the
agent's instructions), turns the chat history back into the Responses-style items the offline
policies read, asks the baseline policy what to do, and answers with chat `tool_calls` (tools and
handoffs) or a JSON message (the final answer). It can also misbehave on purpose: reject the key,
fail the first requests with 429/500, or answer too slowly.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from evswarm.agents.policy.actions import Action, CallTools, Finish, HandOff, PolicyContext
from evswarm.agents.policy.registry import decide
from evswarm.agents.policy.view import ConversationView, handoff_tool_name
from evswarm.agents.swarm import build_swarm


def agent_by_instructions() -> dict[str, str]:
    return {str(agent.instructions): name for name, agent in build_swarm().agents.items()}


def chat_to_items(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat messages back to the Responses-style items `ConversationView.parse` reads."""
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "user":
            items.append({"role": "user", "content": message.get("content") or ""})
        elif role == "assistant":
            if message.get("content"):
                items.append({"type": "message", "role": "assistant", "content": message["content"]})
            for call in message.get("tool_calls") or []:
                function = call["function"]
                items.append(
                    {
                        "type": "function_call",
                        "call_id": call["id"],
                        "name": function["name"],
                        "arguments": function["arguments"],
                    }
                )
        elif role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message["tool_call_id"],
                    "output": message.get("content") or "",
                }
            )
    return items


def answer(action: Action, agent: str, position: int) -> dict[str, Any]:
    """A policy action as a chat completion message (the thought goes in `reasoning_content`)."""
    key = f"{''.join(c for c in agent.lower() if c.isalnum())[:12]}_{position}"
    message: dict[str, Any] = {"role": "assistant", "content": None, "reasoning_content": action.thought}
    if isinstance(action, CallTools):
        message["tool_calls"] = [
            {
                "id": f"call_{key}_{n}",
                "type": "function",
                "function": {"name": c.tool, "arguments": json.dumps(c.args, sort_keys=True)},
            }
            for n, c in enumerate(action.calls)
        ]
    elif isinstance(action, HandOff):
        message["tool_calls"] = [
            {
                "id": f"call_{key}_h",
                "type": "function",
                "function": {"name": handoff_tool_name(action.target), "arguments": json.dumps(action.payload)},
            }
        ]
    elif isinstance(action, Finish):
        message["content"] = json.dumps(action.output, sort_keys=True)
    return message


@dataclass
class Script:
    """How the server behaves; tests set it before a run and read the log after."""

    api_key: str | None = None
    """When set, any other bearer token gets 401."""
    fail_first: list[int] = field(default_factory=list)
    """HTTP statuses for the first completion requests, in order (e.g. [429, 500]); then it answers."""
    fail_after: int | None = None
    """When set, every completion request after this many answered ones gets a 500."""
    page: str | None = None
    """When set, every completion request gets this HTML page with status 200 (a web server, not a model)."""
    delay_s: float = 0.0
    """Seconds to wait before answering each completion request."""
    log: list[tuple[float, int, str]] = field(default_factory=list)
    """(arrival time, status sent, agent) per completion request."""
    connections: set[int] = field(default_factory=set)
    """Client ports seen: fewer than requests when the client keeps connections alive."""
    schemas_seen: set[str] = field(default_factory=set)
    """Names of the strict JSON schemas requested as response_format."""


class ScriptedServer:
    """The server on a free port, serving from a background thread; use as a context manager."""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self.agents = agent_by_instructions()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._closing = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        self._wait_until_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _wait_until_ready(self, attempts: int = 200) -> None:
        for _ in range(attempts):
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                continue
        raise RuntimeError(f"scripted server at {self.base_url} never became ready")

    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        messages = request["messages"]
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        agent = self.agents[system]
        items = chat_to_items(messages)
        action = decide(agent, ConversationView.parse(agent, items), PolicyContext(agent))
        format_ = request.get("response_format") or {}
        if format_.get("type") == "json_schema" and format_["json_schema"].get("strict"):
            with self._lock:
                self.script.schemas_seen.add(format_["json_schema"]["name"])
        finish = "stop" if isinstance(action, Finish) else "tool_calls"
        prompt = len(json.dumps(messages)) // 4  # a stand-in token count; half of it "cached", as real servers report
        return {
            "id": f"chatcmpl-{agent}-{len(items)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": request["model"],
            "choices": [{"index": 0, "message": answer(action, agent, len(items)), "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": 20,
                "total_tokens": prompt + 20,
                "prompt_tokens_details": {"cached_tokens": prompt // 2},
            },
        }

    def respond(self, request: dict[str, Any], key: str) -> tuple[int, dict[str, Any] | str]:
        """The status and body for one completion request, as the script says."""
        script = self.script
        with self._lock:
            failing = script.fail_first.pop(0) if script.fail_first else None
            answered = sum(status == 200 for _, status, _ in script.log)
            if script.fail_after is not None and answered >= script.fail_after:
                failing = 500
        if script.api_key is not None and key != script.api_key:
            return 401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
        if script.page is not None:
            return 200, script.page
        if failing is not None:
            return failing, {"error": {"message": f"scripted failure {failing}"}}
        self._closing.wait(script.delay_s)  # a slow model (cut short when the server stops)
        return 200, self.complete(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do: the client reuses connections
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return None

            def _send(self, status: int, body: dict[str, Any] | str) -> None:
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if isinstance(body, str) else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                status, body = server.respond(request, key)
                with server._lock:
                    agent = server.agents.get(
                        next((m["content"] for m in request["messages"] if m["role"] == "system"), ""), "?"
                    )
                    server.script.log.append((time.monotonic(), status, agent))
                    server.script.connections.add(self.client_address[1])
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    self._send(status, body)

        return Handler
