"""Short-lived, single-use tickets that let a browser's EventSource (which cannot send headers) open the
live stream: a signed-in page asks for a ticket with its token, then opens `/api/traces/stream?ticket=`."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TICKET_SECONDS = 60.0
MAX_OPEN_TICKETS = 10_000


@dataclass(frozen=True)
class Ticket:
    name: str
    role: str
    expires: float


class TicketBook:
    """Tickets by value; each is valid once, for `ttl` seconds. Thread-safe."""

    def __init__(self, ttl: float = TICKET_SECONDS, clock: Callable[[], float] | None = None) -> None:
        self.ttl = ttl
        self._clock: Callable[[], float] = clock or time.monotonic
        self._tickets: dict[str, Ticket] = {}
        self._lock = threading.Lock()

    def issue(self, name: str, role: str) -> str:
        """A new ticket for this principal."""
        value = "tkt_" + secrets.token_urlsafe(24)
        now = self._clock()
        with self._lock:
            self._tickets = {k: t for k, t in self._tickets.items() if t.expires > now}
            while len(self._tickets) >= MAX_OPEN_TICKETS:  # oldest first
                self._tickets.pop(next(iter(self._tickets)))
            self._tickets[value] = Ticket(name, role, now + self.ttl)
        return value

    def redeem(self, value: str) -> Ticket | None:
        """The ticket's principal if it is known and unexpired; it cannot be used again either way."""
        with self._lock:
            ticket = self._tickets.pop(value, None)
        if ticket is None or ticket.expires <= self._clock():
            return None
        return ticket


SIGNIN_SECONDS = 24 * 3600.0


class SignInCodes:
    """One-time sign-in codes: `evswarm serve` prints a link with one per token it hands out
    (`http://HOST:PORT/#signin=CODE`); the page trades the code for the token once (POST /api/signin) and
    keeps the token. The code sits in the link's fragment, which browsers never send to a server. Thread-safe."""

    def __init__(self, ttl: float = SIGNIN_SECONDS, clock: Callable[[], float] | None = None) -> None:
        self.ttl = ttl
        self._clock: Callable[[], float] = clock or time.monotonic
        self._codes: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def issue(self, token: str) -> str:
        """A new code that signs in with `token`, once, within `ttl` seconds."""
        code = secrets.token_urlsafe(18)
        with self._lock:
            now = self._clock()
            self._codes = {k: v for k, v in self._codes.items() if v[1] > now}
            self._codes[code] = (token, now + self.ttl)
        return code

    def redeem(self, code: str) -> str | None:
        """The token of a known, unexpired code; the code cannot be used again either way."""
        with self._lock:
            found = self._codes.pop(code, None)
        if found is None or found[1] <= self._clock():
            return None
        return found[0]
