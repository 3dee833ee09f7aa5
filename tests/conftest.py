"""Fixtures shared by every test package."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from evswarm.compute import Backend


class NetworkBlockedError(RuntimeError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Refuse every socket connection that is not to this machine, and every DNS lookup; yields the attempts."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if self.family == socket.AF_UNIX or host in ("127.0.0.1", "::1", "localhost"):
            return real_connect(self, address)  # type: ignore[arg-type]
        attempts.append(address)
        raise NetworkBlockedError(f"network access blocked in tests: {address!r}")

    real_lookup = socket.getaddrinfo

    def guarded_lookup(host: object, *args: object, **kwargs: object) -> object:
        if host in (None, "127.0.0.1", "::1", "localhost"):
            return real_lookup(host, *args, **kwargs)  # type: ignore[arg-type]
        attempts.append(host)
        raise NetworkBlockedError(f"DNS lookup blocked in tests: {host!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    yield attempts


@pytest.fixture(scope="session")
def ray_backend() -> Iterator[Backend]:
    """One real local Ray instance (2 CPUs) for every test of this process that runs on Ray: starting one
    takes 10-20 s here. Yields the `Backend` that joins it; `map_chunks` on any `--backend ray` without an
    address reuses it. Shut down at the end of the session."""
    from evswarm.compute import start_backend

    backend = Backend("ray", workers=2)
    start_backend(backend)
    yield backend
    import ray

    ray.shutdown()
