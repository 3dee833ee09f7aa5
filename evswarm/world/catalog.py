"""The vehicle catalog: models, trims, wheels, battery packs, options, and the rules that make a build valid."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Trim:
    code: str
    base_msrp: float
    batteries: tuple[str, ...]
    wheels: tuple[str, ...]


@dataclass(frozen=True)
class VehicleModel:
    name: str
    body: str
    trims: dict[str, Trim]
    options: tuple[str, ...]
    launch_date: str = "2020-01-01"
    factories: tuple[str, ...] = field(default=())


WHEEL_PRICES: dict[str, float] = {
    "19in_aero": 0.0,
    "20in_sport": 1500.0,
    "21in_performance": 2500.0,
    "22in_offroad": 3000.0,
}

BATTERY_PRICES: dict[str, float] = {"LFP-60": 0.0, "NMC-82": 4000.0, "NMC-100": 8500.0}

OPTION_PRICES: dict[str, float] = {
    "tow_package": 1350.0,
    "premium_audio": 900.0,
    "assist_plus": 4000.0,
    "heat_pump": 700.0,
    "third_row": 2200.0,
    "bed_cover": 1100.0,
}

PAINTS: tuple[str, ...] = ("glacier_white", "graphite", "deep_blue", "ember_red")

MODELS: dict[str, VehicleModel] = {
    "Lumen": VehicleModel(
        name="Lumen",
        body="sedan",
        trims={
            "standard": Trim("standard", 41990.0, ("LFP-60",), ("19in_aero", "20in_sport")),
            "long_range": Trim("long_range", 48990.0, ("NMC-82",), ("19in_aero", "20in_sport")),
            "performance": Trim("performance", 56990.0, ("NMC-82",), ("20in_sport", "21in_performance")),
        },
        options=("premium_audio", "assist_plus", "heat_pump"),
        factories=("fremont_ca", "berlin_de"),
    ),
    "Atlas": VehicleModel(
        name="Atlas",
        body="suv",
        trims={
            "standard": Trim("standard", 47990.0, ("LFP-60", "NMC-82"), ("19in_aero", "20in_sport")),
            "long_range": Trim("long_range", 54990.0, ("NMC-82", "NMC-100"), ("20in_sport",)),
            "performance": Trim("performance", 64990.0, ("NMC-100",), ("21in_performance",)),
        },
        options=("premium_audio", "assist_plus", "heat_pump", "third_row", "tow_package"),
        factories=("fremont_ca", "austin_tx", "berlin_de"),
    ),
    "Ridge": VehicleModel(
        name="Ridge",
        body="pickup",
        trims={
            "standard": Trim("standard", 52990.0, ("NMC-82",), ("20in_sport", "22in_offroad")),
            "long_range": Trim("long_range", 61990.0, ("NMC-100",), ("20in_sport", "22in_offroad")),
            "performance": Trim("performance", 74990.0, ("NMC-100",), ("22in_offroad",)),
        },
        options=("tow_package", "bed_cover", "premium_audio", "assist_plus"),
        factories=("austin_tx", "normal_il"),
    ),
    "Nova": VehicleModel(
        name="Nova",
        body="compact",
        trims={
            "standard": Trim("standard", 36990.0, ("LFP-60",), ("19in_aero",)),
            "long_range": Trim("long_range", 42990.0, ("NMC-82",), ("19in_aero", "20in_sport")),
        },
        options=("premium_audio", "heat_pump"),
        launch_date="2025-07-01",
        factories=("normal_il", "fremont_ca"),
    ),
}


def buildability_violations(model: str, trim: str, wheels: str, battery: str, options: list[str]) -> list[str]:
    """Codes of every catalog rule the configuration breaks (empty when the build is valid)."""
    spec = MODELS.get(model)
    if spec is None:
        return ["UNKNOWN_MODEL"]
    trim_spec = spec.trims.get(trim)
    if trim_spec is None:
        return ["UNKNOWN_TRIM"]
    problems: list[str] = []
    if wheels not in trim_spec.wheels:
        problems.append("WHEEL_TRIM_CONFLICT")
    if battery not in trim_spec.batteries:
        problems.append("BATTERY_TRIM_CONFLICT")
    problems.extend("OPTION_NOT_OFFERED" for option in options if option not in spec.options)
    if "tow_package" in options and battery == "LFP-60":
        problems.append("TOW_REQUIRES_NMC")
    return sorted(set(problems))


def list_price(model: str, trim: str, wheels: str, battery: str, options: list[str]) -> float:
    """Catalog price before promotions, incentives and tariffs."""
    spec = MODELS[model].trims[trim]
    return (
        spec.base_msrp
        + WHEEL_PRICES[wheels]
        + BATTERY_PRICES[battery]
        + sum(OPTION_PRICES[option] for option in options)
    )


def battery_components(battery: str) -> str:
    return "cells_lfp" if battery.startswith("LFP") else "cells_nmc"


def required_components(model: str, wheels: str, battery: str) -> list[str]:
    """Components a build draws from inventory (the ones that can run short)."""
    return [
        battery_components(battery),
        f"wheelset_{wheels}",
        "drive_unit",
        "infotainment_soc",
        f"body_{model.lower()}",
    ]
