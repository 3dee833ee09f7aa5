"""Independent random streams: one per (run, purpose), so a change to one agent, tool or feed never
reshuffles the draws of another.

A draw is a pure function of its keys (a SHA-256 of them), not a step of a shared generator: run 17's
PricingAgent slip draw is the same whatever any other agent did, in whatever order runs execute.
"""

from __future__ import annotations

import hashlib


def draw(*keys: object) -> float:
    """A uniform number in [0, 1) determined by `keys` alone."""
    digest = hashlib.sha256("\x1f".join(map(str, keys)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def chance(rate: float, *keys: object) -> bool:
    """True with probability `rate`, decided by `keys` alone."""
    return rate > 0 and draw(*keys) < rate
