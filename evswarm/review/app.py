"""The review app: a FastAPI application over one batch directory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evswarm.review import api_annotations, api_diff, api_ingest, api_traces
from evswarm.review.config import ReviewConfig
from evswarm.review.state import ReviewState
from evswarm.review.watch import initial_files, load_files, refresh_sidecars, watch_sidecars, watch_traces

STATIC_DIR = Path(str(resources.files("evswarm.review").joinpath("static")))

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Adds a strict Content-Security-Policy (no inline script) and friends to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _page(name: str) -> Any:
    path = STATIC_DIR / name

    def handler() -> FileResponse:
        return FileResponse(path, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})

    return handler


def create_app(config: ReviewConfig) -> FastAPI:
    """Build the app. The batch is imported at start-up (unchanged files are skipped on restart): before the
    app answers, or with `config.background_load` while it already answers (`/api/health` and the list page
    show the progress). Start-up never fails because of a file: each bad one is an import error."""
    state = ReviewState.open(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.notifier.bind(asyncio.get_running_loop())
        stop, appeared = asyncio.Event(), asyncio.Event()
        armed = [asyncio.Event(), asyncio.Event()]
        tasks = [asyncio.create_task(watch_sidecars(state, stop, appeared, armed[0]))]
        if config.watch:
            tasks.append(asyncio.create_task(watch_traces(state, stop, appeared, armed[1])))
        else:
            armed[1].set()
        # The watchers arm first (set up their OS watches), then the one initial scan runs, so that no
        # file written during start-up slips between the scan and the watch.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(event.wait() for event in armed)), timeout=10)

        async def initial_load() -> None:
            await anyio.to_thread.run_sync(refresh_sidecars, state)
            await anyio.to_thread.run_sync(lambda: load_files(state, initial_files(state), progress=config.progress))

        loader = asyncio.create_task(initial_load())
        if not config.background_load:
            await loader
        try:
            yield
        finally:
            stop.set()
            state.closing.set()  # an import still running stops after its current file
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await loader
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            state.store.close()

    app = FastAPI(
        title="evswarm review",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.review = state
    app.include_router(api_ingest.router)
    app.include_router(api_traces.router)
    app.include_router(api_annotations.router)
    app.include_router(api_diff.router)
    app.add_api_route("/", _page("index.html"), methods=["GET"], include_in_schema=False)
    app.add_api_route("/agreement", _page("agreement.html"), methods=["GET"], include_in_schema=False)
    app.add_api_route("/diff", _page("diff.html"), methods=["GET"], include_in_schema=False)
    trace_page = _page("trace.html")

    def trace_html(trace_id: str) -> FileResponse:
        if len(trace_id) > 128:
            raise HTTPException(status_code=404)
        response: FileResponse = trace_page()
        return response

    app.add_api_route("/traces/{trace_id}", trace_html, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SecurityHeaders)
    # Outermost: answer only the host names the server is meant to be reached by (DNS rebinding).
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=config.allowed_hosts, www_redirect=False)
    return app
