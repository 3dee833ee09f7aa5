"""Dated pricing programs (promotions, incentives, tariffs) and background market signals.

Everything here is an `EnvironmentEvent`: a signal with a window. Which signals matter to an order is
decided by `relevant_signals`, and the regimes of a date by `regimes_on`.
"""

from __future__ import annotations

from datetime import date, timedelta

from evswarm.core.bundle import EnvironmentEvent

US = ["US-CA", "US-TX", "US-NY", "US-WA"]
ALL_REGIONS = [*US, "CA-ON", "EU-DE"]
ALL_MODELS = ["Lumen", "Atlas", "Ridge", "Nova"]


def _event(
    event_id: str,
    event_type: str,
    title: str,
    start: str,
    end: str | None,
    regions: list[str],
    affects: list[str],
    **details: object,
) -> EnvironmentEvent:
    return EnvironmentEvent(
        event_id=event_id,
        event_type=event_type,
        title=title,
        effective_from=start,
        effective_to=end,
        regions=regions,
        affects=affects,
        details=dict(details),
    )


PROMOTIONS: tuple[EnvironmentEvent, ...] = (
    _event(
        "promotion-lease-cash-spring-2025",
        "promotion",
        "Spring lease cash",
        "2025-03-01",
        "2025-05-31",
        US,
        ["Lumen", "Atlas"],
        amount=1000.0,
    ),
    _event(
        "promotion-apr-buydown-summer-2025",
        "promotion",
        "Summer APR buydown",
        "2025-06-01",
        "2025-08-31",
        [*US, "CA-ON"],
        ALL_MODELS,
        amount=1500.0,
    ),
    _event(
        "promotion-conquest-pickup-2025",
        "promotion",
        "Pickup conquest cash",
        "2025-08-01",
        "2025-10-31",
        US,
        ["Ridge"],
        amount=2000.0,
    ),
    _event(
        "promotion-inventory-move-q4-2025",
        "promotion",
        "Inventory move bonus",
        "2025-10-01",
        "2025-12-31",
        ALL_REGIONS,
        ["Lumen", "Atlas"],
        amount=1200.0,
    ),
    _event(
        "promotion-nova-launch-2025",
        "promotion",
        "Nova launch offer",
        "2025-07-01",
        "2025-09-30",
        US,
        ["Nova"],
        amount=750.0,
    ),
)

PROMOTION_RESTRICTIONS: dict[tuple[str, str], str] = {
    ("promotion-apr-buydown-summer-2025", "CA-ON"): "financing promotions need an Ontario dealer licence",
    ("promotion-conquest-pickup-2025", "US-NY"): "conquest cash is barred by New York franchise law",
    ("promotion-inventory-move-q4-2025", "EU-DE"): "German price-indication rules forbid inventory cash",
}
"""Promotions that the pricing catalog lists for a region but that compliance must strike."""

INCENTIVES: tuple[EnvironmentEvent, ...] = (
    _event(
        "incentive-federal-clean-vehicle-pos",
        "incentive",
        "Federal clean vehicle credit at point of sale",
        "2023-01-01",
        "2025-09-30",
        US,
        ALL_MODELS,
        amount=7500.0,
        price_cap=80000.0,
    ),
    _event(
        "incentive-ca-clean-cars-rebate",
        "incentive",
        "California clean cars rebate",
        "2025-01-01",
        "2025-07-31",
        ["US-CA"],
        ALL_MODELS,
        amount=2000.0,
        price_cap=60000.0,
    ),
    _event(
        "incentive-ny-drive-clean",
        "incentive",
        "New York Drive Clean rebate",
        "2025-04-01",
        "2025-12-31",
        ["US-NY"],
        ALL_MODELS,
        amount=2000.0,
        price_cap=50000.0,
    ),
    _event(
        "incentive-on-ev-rebate",
        "incentive",
        "Ontario EV rebate",
        "2025-06-01",
        "2025-08-15",
        ["CA-ON"],
        ALL_MODELS,
        amount=5000.0,
        price_cap=70000.0,
    ),
    _event(
        "incentive-de-umweltbonus",
        "incentive",
        "German environmental bonus",
        "2024-01-01",
        "2025-06-30",
        ["EU-DE"],
        ALL_MODELS,
        amount=4500.0,
        price_cap=65000.0,
    ),
    _event(
        "incentive-federal-charging-bundle",
        "incentive",
        "Federal home charging bundle",
        "2025-05-01",
        "2025-10-31",
        US,
        ALL_MODELS,
        amount=500.0,
        price_cap=1000000.0,
    ),
)

TARIFFS: tuple[EnvironmentEvent, ...] = (
    _event(
        "tariff-section-301-ev-battery-2024",
        "tariff",
        "Section 301 duty on imported EV battery cells",
        "2024-09-27",
        None,
        US,
        ["NMC-82", "NMC-100"],
        surcharge=1200.0,
    ),
    _event(
        "tariff-eu-cell-import-2025",
        "tariff",
        "EU duty on imported LFP cells",
        "2025-06-01",
        None,
        ["EU-DE"],
        ["LFP-60"],
        surcharge=800.0,
    ),
    _event(
        "tariff-battery-escalation-2025-07",
        "tariff",
        "Battery cell duty escalation",
        "2025-07-15",
        None,
        US,
        ["NMC-82", "NMC-100"],
        surcharge=900.0,
    ),
    _event(
        "tariff-ca-steel-surtax-2025",
        "tariff",
        "Canadian surtax on US-built vehicles",
        "2025-08-20",
        None,
        ["CA-ON"],
        ["LFP-60", "NMC-82", "NMC-100"],
        surcharge=600.0,
    ),
    _event(
        "tariff-semiconductor-2025-09",
        "tariff",
        "Duty on imported infotainment chips",
        "2025-09-01",
        None,
        US,
        ["LFP-60", "NMC-82", "NMC-100"],
        surcharge=350.0,
    ),
)

MARKET_SIGNALS: tuple[EnvironmentEvent, ...] = (
    _event(
        "rate-relief-2025-05",
        "rate_change",
        "Central bank rate relief",
        "2025-05-15",
        "2025-07-15",
        ALL_REGIONS,
        ALL_MODELS,
        basis_points=-25,
    ),
    _event(
        "competitor-rival-suv-launch-2025-06",
        "competitor",
        "Rival SUV launch",
        "2025-06-10",
        "2025-08-10",
        ALL_REGIONS,
        ["Atlas"],
        rival="rival suv",
    ),
    _event("launch-nova-2025-07", "launch", "Nova launch", "2025-07-01", "2025-08-31", US, ["Nova"]),
    _event(
        "competitor-rival-pickup-price-cut-2025-08",
        "competitor",
        "Rival pickup price cut",
        "2025-08-10",
        "2025-10-10",
        US,
        ["Ridge"],
        rival="rival pickup",
        cut=3000.0,
    ),
    _event(
        "rate-relief-2025-09",
        "rate_change",
        "Second rate relief",
        "2025-09-17",
        "2025-11-17",
        ALL_REGIONS,
        ALL_MODELS,
        basis_points=-25,
    ),
)

TARIFF_NOTICE_DAYS = 60
"""A tariff that took effect within this many days before an order is a 'recent change' to watch."""


def in_window(event: EnvironmentEvent, on: str) -> bool:
    return event.effective_from <= on and (event.effective_to is None or on <= event.effective_to)


def days_between(start: str, end: str) -> int:
    return (date.fromisoformat(end) - date.fromisoformat(start)).days


def shift(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def _applies(event: EnvironmentEvent, region: str, subject: str) -> bool:
    return region in event.regions and (not event.affects or subject in event.affects)


def listed_promotions(region: str, model: str, order_date: str) -> list[EnvironmentEvent]:
    """Promotions the catalog lists for an order: in window on the order date, for its region and model."""
    return [p for p in PROMOTIONS if _applies(p, region, model) and in_window(p, order_date)]


def listed_incentives(region: str, model: str, order_date: str) -> list[EnvironmentEvent]:
    """Incentives the catalog lists: live on the order date (they may end before delivery)."""
    return [i for i in INCENTIVES if _applies(i, region, model) and in_window(i, order_date)]


def listed_tariffs(region: str, battery: str, order_date: str) -> list[EnvironmentEvent]:
    return [t for t in TARIFFS if _applies(t, region, battery) and in_window(t, order_date)]


def active_market_signals(region: str, model: str, order_date: str) -> list[EnvironmentEvent]:
    return [s for s in MARKET_SIGNALS if _applies(s, region, model) and in_window(s, order_date)]


def regimes_on(day: str) -> tuple[str, str, str]:
    """(market, price, schedule) regimes of a simulated date."""
    month = int(day[5:7])
    market = {
        5: "rate_relief",
        6: "rate_relief",
        7: "launch_excitation",
        8: "truck_competition",
        9: "truck_competition",
        10: "price_pressure",
    }.get(month, "steady")
    price = {
        5: "promo_supported",
        6: "promo_war",
        7: "launch_premium",
        8: "promo_war",
        9: "promo_supported",
        10: "promo_war",
    }.get(month, "list_price")
    schedule = (
        "launch_ramp" if month == 7 else "quarter_end_crunch" if day[5:] >= "09-20" and month == 9 else "baseline_flow"
    )
    return market, price, schedule
