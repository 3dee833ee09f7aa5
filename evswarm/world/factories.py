"""Factories: which models they build, weekly capacity, and release states."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Factory:
    factory_id: str
    region: str
    weekly_capacity: int
    models: tuple[str, ...]
    transit_days: dict[str, int]
    """Days to deliver into each sales region."""


FACTORIES: dict[str, Factory] = {
    "fremont_ca": Factory(
        "fremont_ca",
        "US-CA",
        5200,
        ("Lumen", "Atlas", "Nova"),
        {"US-CA": 2, "US-WA": 4, "US-TX": 6, "US-NY": 8, "CA-ON": 9, "EU-DE": 30},
    ),
    "austin_tx": Factory(
        "austin_tx",
        "US-TX",
        4800,
        ("Atlas", "Ridge"),
        {"US-TX": 2, "US-CA": 6, "US-WA": 7, "US-NY": 6, "CA-ON": 8, "EU-DE": 28},
    ),
    "normal_il": Factory(
        "normal_il",
        "US-NY",
        3000,
        ("Ridge", "Nova"),
        {"US-NY": 3, "CA-ON": 3, "US-TX": 5, "US-CA": 6, "US-WA": 6, "EU-DE": 25},
    ),
    "berlin_de": Factory(
        "berlin_de",
        "EU-DE",
        4000,
        ("Lumen", "Atlas"),
        {"EU-DE": 2, "US-NY": 20, "US-CA": 26, "US-TX": 24, "US-WA": 26, "CA-ON": 21},
    ),
}

"""Above this booked/available ratio a factory cannot take the order in the requested window."""


def factories_for(model: str) -> list[Factory]:
    return [f for f in FACTORIES.values() if model in f.models]
