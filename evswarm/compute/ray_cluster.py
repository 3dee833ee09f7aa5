"""Joining Ray quietly: a local instance sized to this machine, or an existing cluster at an address.

A local instance talks only within this machine, starts no dashboard UI (Ray keeps its minimal head
process, bound to 127.0.0.1), reports no usage and keeps its logs in its session directory (under
/tmp/ray), off the user's terminal; its workers import the same evswarm as this process. An address is
checked before Ray is asked to join it, so a wrong one fails in seconds with a message naming it rather
than after Ray's own retries.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evswarm.compute.backend import Backend
from evswarm.core.errors import EvswarmError

_QUIET_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",  # no usage report leaves the machine
    "RAY_DEDUP_LOGS": "0",
    "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",
}
REACH_TIMEOUT = 3.0
"""Seconds to wait for a cluster address to accept a connection."""

_joined: tuple[str | None, int | None] | None = None
"""(address, CPUs of a local instance) of the Ray this process joined, None before it joins one."""


def _import_ray() -> Any:
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - ray is a declared dependency
        raise EvswarmError("--backend ray needs the `ray` package", hint="pip install 'ray>=2.50,<3'") from exc
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    """The host and port an address names (`ray://host:port` or `host:port`), None for `auto`/`local`."""
    bare = address.removeprefix("ray://")
    if bare in ("auto", "local"):
        return None
    host, sep, port = bare.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise EvswarmError(
            f"--address {address!r} is not a Ray address",
            hint="use HOST:PORT (the head's GCS, usually port 6379), ray://HOST:10001 (Ray Client) or auto",
        )
    return host.strip("[]"), int(port)


def check_reachable(address: str) -> None:
    """EvswarmError unless `address` is well formed and, when it names a host, accepts a TCP connection."""
    where = _host_port(address)
    if where is None:
        return
    if address.startswith("ray://"):
        try:
            import grpc  # noqa: F401  # what Ray Client needs beyond Ray itself
        except ImportError as exc:
            raise EvswarmError(
                f"--address {address} uses Ray Client, which needs `pip install 'ray[client]'` here",
                hint="install it, or run the command on a node of the cluster with --address auto",
            ) from exc
    try:
        with socket.create_connection(where, timeout=REACH_TIMEOUT):
            pass
    except OSError as exc:
        raise EvswarmError(
            f"cannot reach Ray at {address}: {exc.strerror or exc}",
            hint="is the cluster up (`ray status` on its head node)? Drop --address to start Ray on this machine",
        ) from exc


def check_ray(backend: Backend) -> None:
    """EvswarmError unless Ray is installed and, when `backend` names a cluster, it can be joined (joining
    takes a second or two, so it is done now; a local instance starts later, when there is work)."""
    _import_ray()
    if backend.address is not None:
        connect(backend)


def _worker_env() -> dict[str, Any]:
    """The runtime environment of a local instance's workers: this process's evswarm first on their path,
    so a worker never imports another checkout installed in the same virtualenv."""
    here = str(Path(__file__).resolve().parents[2])
    path = [here, *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != here)]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(path), **_QUIET_ENV}}


@contextlib.contextmanager
def _stderr_captured() -> Iterator[list[str]]:
    """Send this process's stderr (file descriptor 2, where Ray's C++ core logs while it connects) to a
    temporary file for the duration; yields a list that receives what was written, once done."""
    captured: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read().decode(errors="replace"))


def _join_hint(log: str) -> str:
    if "InvalidAuthToken" in log or "Unauthenticated" in log:
        return (
            "the cluster uses token authentication: set RAY_AUTH_MODE=token here, with its token in "
            "RAY_AUTH_TOKEN or ~/.ray/auth_token"
        )
    return "check --address (HOST:6379, ray://HOST:10001 or auto), or drop it to start Ray on this machine"


def connect(backend: Backend) -> Any:
    """The `ray` module, joined to the cluster `backend` names (started, for a local instance), once per
    process: a later call for the same cluster reuses it (a local instance with at least as many CPUs), one
    for another cluster leaves the first. Ray that the caller initialized itself is used as it is."""
    global _joined
    ray = _import_ray()
    wanted = (backend.address, None if backend.address else backend.local_workers())
    if ray.is_initialized() and (
        _joined is None or (wanted[0] == _joined[0] and (wanted[1] or 0) <= (_joined[1] or 0))
    ):
        return ray
    if backend.address is not None:
        check_reachable(backend.address)
    if ray.is_initialized():
        ray.shutdown()
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
    if backend.address is None:
        options.update(
            address="local",
            num_cpus=wanted[1],
            include_dashboard=False,
            runtime_env=_worker_env(),
        )
    else:
        options.update(address=backend.address, runtime_env={"env_vars": dict(_QUIET_ENV)})
    failure: Exception | None = None
    with _stderr_captured() as log:
        try:
            ray.init(**options)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            failure = exc
    if failure is not None:
        raise EvswarmError(
            f"cannot {'join Ray at ' + backend.address if backend.address else 'start a local Ray instance'}: "
            f"{failure}",
            hint=_join_hint("".join(log)),
        ) from failure
    _joined = wanted
    return ray
