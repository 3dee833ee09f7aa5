"""Business rules that the world's oracle and the agents' policies share (the agents know them as
their instructions say; the oracle applies them to the true world state)."""

from __future__ import annotations

PRICE_TOLERANCE = 100.0
"""A quote within this many dollars of the correct price is right; a larger drift needs a price exception."""

OVERLOAD_UTILIZATION = 1.0
"""A factory loaded above this share of its capacity cannot take another build on schedule."""

DEFERRAL_TOLERANCE_DAYS = 7
"""A default factory whose backlog delays delivery by more than this is worth rerouting around, and a
reroute that adds more transit days than this needs the trade-off planner."""

FLEET_QUANTITY = 10
"""Orders of at least this many vehicles are fleet orders, which need human review."""
