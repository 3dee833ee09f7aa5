"""Sales regions and the compliance rules in force in each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    country: str
    default_factory: str
    special_regime: bool
    """True where a regional specialist must review (homologation, local equipment law)."""


@dataclass(frozen=True)
class RegionRule:
    """A rule that blocks a configuration in a region from a date on."""

    rule_id: str
    region: str
    description: str
    effective_from: str
    model: str | None = None
    wheels: str | None = None
    battery: str | None = None
    option: str | None = None

    def blocks(self, model: str, wheels: str, battery: str, options: list[str], on_date: str) -> bool:
        if on_date < self.effective_from:
            return False
        checks = [
            self.model is None or self.model == model,
            self.wheels is None or self.wheels == wheels,
            self.battery is None or self.battery == battery,
            self.option is None or self.option in options,
        ]
        return all(checks)


REGIONS: dict[str, Region] = {
    "US-CA": Region("US-CA", "California", "US", "fremont_ca", True),
    "US-TX": Region("US-TX", "Texas", "US", "austin_tx", False),
    "US-NY": Region("US-NY", "New York", "US", "normal_il", False),
    "US-WA": Region("US-WA", "Washington", "US", "fremont_ca", False),
    "CA-ON": Region("CA-ON", "Ontario", "CA", "normal_il", True),
    "EU-DE": Region("EU-DE", "Germany", "DE", "berlin_de", True),
}

REGION_RULES: tuple[RegionRule, ...] = (
    RegionRule(
        "de-pickup-homologation",
        "EU-DE",
        "Ridge pickup is not homologated for EU registration",
        "2024-01-01",
        model="Ridge",
    ),
    RegionRule(
        "de-offroad-wheel-ban",
        "EU-DE",
        "22in off-road wheels lack EU type approval",
        "2024-01-01",
        wheels="22in_offroad",
    ),
    RegionRule(
        "on-offroad-wheel-width",
        "CA-ON",
        "22in off-road wheels exceed Ontario width limits",
        "2025-06-01",
        wheels="22in_offroad",
    ),
    RegionRule(
        "ca-assist-plus-permit",
        "US-CA",
        "assist_plus needs a CA autonomy permit not yet granted",
        "2025-05-15",
        option="assist_plus",
    ),
    RegionRule(
        "on-lfp-cold-weather",
        "CA-ON",
        "LFP-60 packs fail Ontario cold-weather range disclosure",
        "2025-08-01",
        battery="LFP-60",
    ),
)


def rules_for(region: str) -> list[RegionRule]:
    return [rule for rule in REGION_RULES if rule.region == region]


def blocking_rules(region: str, model: str, wheels: str, battery: str, options: list[str], on_date: str) -> list[str]:
    return [r.rule_id for r in rules_for(region) if r.blocks(model, wheels, battery, options, on_date)]
