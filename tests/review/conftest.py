"""Fixtures for the review app tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from evswarm.review.app import create_app
from evswarm.review.server import build_config
from tests.browser import chromium

from .helpers import TOKEN, LiveServer, write_batch


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return write_batch(tmp_path / "batch")


@pytest.fixture
def make_client() -> Iterator[Callable[..., TestClient]]:
    """Open in-process apps (lifespan included); all are closed at the end of the test."""
    opened: list[TestClient] = []

    def factory(batch_dir: Path, **options: Any) -> TestClient:
        options.setdefault("token", TOKEN)
        client = TestClient(create_app(build_config(batch_dir, **options)), base_url="http://127.0.0.1")
        client.__enter__()
        opened.append(client)
        return client

    yield factory
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def live_server(batch: Path) -> Iterator[LiveServer]:
    server = LiveServer(batch)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module (a module may define its own to order it after its server)."""
    with chromium() as instance:
        yield instance
