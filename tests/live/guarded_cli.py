"""`evswarm` with every connection beyond this machine refused and reported on stderr.

The live-mode tests run `evswarm simulate` through this with a dummy OPENAI_API_KEY, to show that
nothing (the SDK's trace exporter included) talks to anything but the local model server.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

LOCAL = (None, "127.0.0.1", "::1", "localhost")
MARK = "BLOCKED NETWORK ATTEMPT"


def _guard() -> None:
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if self.family != socket.AF_UNIX and host not in LOCAL:
            sys.stderr.write(f"{MARK}: connect {address!r}\n")
            raise OSError(f"network blocked: {address!r}")
        return real_connect(self, address)

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOCAL:
            sys.stderr.write(f"{MARK}: lookup {host!r}\n")
            raise OSError(f"DNS blocked: {host!r}")
        return real_lookup(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = lookup


if __name__ == "__main__":
    _guard()
    from evswarm.cli import app

    app()
