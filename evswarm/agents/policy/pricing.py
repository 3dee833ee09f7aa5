"""Policies of the pricing desk: quote, promotions, incentives, price exceptions, market intelligence."""

from __future__ import annotations

from typing import Any

from evswarm.agents.policy.actions import Action, CallTools, HandOff, PolicyContext, call, finding, report, signal
from evswarm.agents.policy.intake import ORCHESTRATOR, region_of, vehicle_args
from evswarm.agents.policy.view import ConversationView
from evswarm.world.market import TARIFF_NOTICE_DAYS, days_between
from evswarm.world.rules import PRICE_TOLERANCE

GATHER = ("get_base_price", "get_tariffs", "list_promotions", "list_incentives")


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [str(item["event_id"]) for item in items]


def _tariffs_to_charge(view: ConversationView, ctx: PolicyContext) -> list[str]:
    order_date = str(view.order.get("order_date", ""))
    tariffs = view.latest("get_tariffs")["tariffs"]
    exempt = set((view.report("ComplianceValidationAgent") or {}).get("exempt_tariffs", []))
    tariffs = [t for t in tariffs if t["event_id"] not in exempt]
    recent = [t for t in tariffs if days_between(t["effective_from"], order_date) <= TARIFF_NOTICE_DAYS]
    if recent and ctx.deviates("tariff_omitted"):
        return [t["event_id"] for t in tariffs if t not in recent]
    return _ids(tariffs)


def pricing(view: ConversationView, ctx: PolicyContext) -> Action:
    v, region = vehicle_args(view), region_of(view)
    gathers = {
        "get_base_price": call("get_base_price", **v),
        "get_tariffs": call("get_tariffs", region=region, battery=v["battery"]),
        "list_promotions": call("list_promotions", region=region, model=v["model"]),
        "list_incentives": call("list_incentives", region=region, model=v["model"]),
    }
    if missing := [g for g in GATHER if view.latest(g) is None]:
        return CallTools([gathers[m] for m in missing], f"Gathering list price, tariffs and programs for {region}.")
    promotions = _ids(view.latest("list_promotions")["promotions"])
    incentives = _ids(view.latest("list_incentives")["incentives"])
    base = view.latest("get_base_price")["list_price"]
    draft = report(
        "PricingAgent",
        "ok",
        "Programs listed; checking eligibility before quoting.",
        list_price=base,
        quote_total=None,
        applied_promotions=[],
        applied_incentives=[],
        applied_tariffs=[],
        quoted_price=view.order.get("quoted_price"),
    )
    if promotions and view.report("PromotionStrategyAgent") is None:
        return HandOff(
            "PromotionStrategyAgent", draft, f"{len(promotions)} promotion(s) listed; strategy must vet them."
        )
    if incentives and view.report("IncentivePolicyAgent") is None:
        return HandOff(
            "IncentivePolicyAgent", draft, f"{len(incentives)} incentive(s) listed; incentive desk must vet them."
        )

    promo_report = view.report("PromotionStrategyAgent") or {}
    incentive_report = view.report("IncentivePolicyAgent") or {}
    compliance = view.report("ComplianceValidationAgent") or {}
    struck = set(compliance.get("restricted_promotions", []))
    apply_promos = [p for p in promo_report.get("eligible_promotions", []) if p not in struck]
    apply_incentives = list(incentive_report.get("eligible_incentives", []))
    tariffs = _tariffs_to_charge(view, ctx)
    quote = view.in_visit("compute_quote")
    if quote is None or quote.failed:
        note = " without the promotions compliance struck" if struck else ""
        return CallTools(
            [call("compute_quote", tariff_ids=tariffs, promotion_ids=apply_promos, incentive_ids=apply_incentives)],
            f"Quoting with {len(tariffs)} tariff(s), {len(apply_promos)} promotion(s) and "
            f"{len(apply_incentives)} incentive(s){note}.",
        )
    total = quote.output["total"]
    if ctx.slips("rounded_quote"):
        total = float(round(total / 500.0) * 500)
    quoted = view.order.get("quoted_price")
    drift = round(total - quoted, 2) if quoted is not None else 0.0
    findings = []
    if abs(drift) > PRICE_TOLERANCE:
        findings.append(
            finding(
                "ESTIMATED_TOTAL_MISMATCH",
                "warning",
                f"Recomputed total {total:.2f} differs from the quoted {quoted:.2f} by {drift:+.2f}",
            )
        )
    changes = view.latest("get_base_price").get("price_changes", [])
    findings += [
        finding("BASE_MSRP_DRIFT", "info", f"{c['event_id']}: list price moved {c['delta']:+.0f}") for c in changes
    ]
    signals = [signal(t, "applied") for t in tariffs] + [signal(str(c["event_id"]), "applied") for c in changes]
    out = report(
        "PricingAgent",
        "issue" if findings else "ok",
        f"Quote total {total:.2f} (drift {drift:+.2f}).",
        findings=findings,
        signals=signals,
        list_price=base,
        quote_total=total,
        applied_promotions=apply_promos,
        applied_incentives=apply_incentives,
        applied_tariffs=tariffs,
        quoted_price=quoted,
    )
    if abs(drift) > PRICE_TOLERANCE:
        return HandOff(
            "PricingExceptionAgent", out, f"The quote moved by {drift:+.2f}; the exception desk must approve."
        )
    return HandOff(ORCHESTRATOR, out, f"Quote {total:.2f} matches the customer's price.")


def promotion_strategy(view: ConversationView, ctx: PolicyContext) -> Action:
    listed = _ids(view.latest("list_promotions")["promotions"])
    if view.missing("check_promotion_eligibility"):
        return CallTools(
            [call("check_promotion_eligibility", promotion_ids=listed)], "Checking promotion windows and model scope."
        )
    checked = view.latest("check_promotion_eligibility")["promotions"]
    eligible = [p["event_id"] for p in checked if p.get("in_window") and p.get("model_in_scope")]
    if eligible and ctx.slips("dropped_promotion"):
        eligible = eligible[1:]
    rejected = [p for p in listed if p not in eligible]
    out = report(
        "PromotionStrategyAgent",
        "ok",
        f"{len(eligible)} promotion(s) eligible.",
        signals=[signal(p, "applied") for p in eligible] + [signal(p, "excluded") for p in rejected],
        eligible_promotions=eligible,
        rejected_promotions=rejected,
    )
    if view.latest("list_incentives")["incentives"] and view.report("IncentivePolicyAgent") is None:
        return HandOff("IncentivePolicyAgent", out, "Promotions vetted; incentives next.")
    return HandOff("PricingAgent", out, "Promotions vetted; back to pricing for the quote.")


def incentive_policy(view: ConversationView, ctx: PolicyContext) -> Action:
    listed = _ids(view.latest("list_incentives")["incentives"])
    if view.missing("check_incentive_windows"):
        return CallTools(
            [call("check_incentive_windows", incentive_ids=listed)],
            "Checking each incentive's window against the delivery date and its price cap.",
        )
    windows = view.latest("check_incentive_windows")
    delivery, price = windows["requested_delivery"], windows["list_price"]
    eligible, rejected, findings = [], [], []
    order_date = str(view.order.get("order_date", ""))
    for incentive in windows["incentives"]:
        under_cap = price <= incentive["price_cap"]
        covers = incentive["effective_to"] is None or incentive["effective_to"] >= delivery
        if under_cap and not covers and ctx.deviates("stale_incentive"):
            covers = True
        ends = incentive["effective_to"]
        if under_cap and not covers and ends is not None and ends >= order_date and ctx.slips("misread_window"):
            covers = True
        if under_cap and covers:
            eligible.append(incentive["event_id"])
        else:
            rejected.append(incentive["event_id"])
            reason = "ends before delivery" if under_cap else "price above cap"
            findings.append(finding("INCENTIVE_EXCLUDED", "info", f"{incentive['event_id']}: {reason}"))
    out = report(
        "IncentivePolicyAgent",
        "ok",
        f"{len(eligible)} incentive(s) apply at delivery on {delivery}.",
        findings=findings,
        signals=[signal(i, "applied") for i in eligible] + [signal(i, "excluded") for i in rejected],
        eligible_incentives=eligible,
        rejected_incentives=rejected,
    )
    return HandOff("PricingAgent", out, "Incentives vetted; back to pricing for the quote.")


def pricing_exception(view: ConversationView, ctx: PolicyContext) -> Action:
    pricing_report = view.report("PricingAgent") or {}
    total, quoted = pricing_report.get("quote_total"), pricing_report.get("quoted_price")
    if view.missing("review_price_drift"):
        return CallTools(
            [call("review_price_drift", quoted_price=quoted, new_total=total)],
            "Reviewing the size of the price correction.",
        )
    review = view.latest("review_price_drift")
    if review["within_authority"] and view.missing("approve_price_adjustment"):
        return CallTools(
            [call("approve_price_adjustment", new_total=total, reason="catalog, program or tariff change")],
            "The correction is within authority; approving it.",
        )
    approved = total if review["within_authority"] else None
    out = report(
        "PricingExceptionAgent",
        "issue",
        f"Price corrected by {review['drift']:+.2f}.",
        findings=[finding("PRICE_ADJUSTED", "warning", f"Price moves from {quoted} to {total}")],
        approved_total=approved,
        drift=review["drift"],
    )
    return HandOff(ORCHESTRATOR, out, "Price exception handled.")


def market_intelligence(view: ConversationView, ctx: PolicyContext) -> Action:
    v, region = vehicle_args(view), region_of(view)
    if missing := view.missing("read_competitor_moves", "assess_demand_signal"):
        calls = {
            "read_competitor_moves": call("read_competitor_moves", model=v["model"], region=region),
            "assess_demand_signal": call("assess_demand_signal", model=v["model"], region=region),
        }
        return CallTools([calls[m] for m in missing], "Reading competitor, launch and rate signals.")
    noticed = _ids(view.latest("read_competitor_moves")["signals"])
    if len(noticed) > 1 and ctx.slips("forgot_signal"):
        noticed = noticed[:-1]
    outlook = view.latest("assess_demand_signal")["outlook"]
    out = report(
        "MarketIntelligenceAgent",
        "ok",
        f"Demand {outlook}; {len(noticed)} market signal(s) noted.",
        findings=[finding("MARKET_SIGNAL", "info", s) for s in noticed],
        signals=[signal(s, "noticed") for s in noticed],
        noticed=noticed,
        demand_outlook=outlook,
    )
    return HandOff(ORCHESTRATOR, out, "Market context noted.")
