"""Policies of the intake specialists: buildability, compliance, clarification and customer comms."""

from __future__ import annotations

from typing import Any

from evswarm.agents.policy.actions import Action, CallTools, HandOff, PolicyContext, call, finding, report
from evswarm.agents.policy.view import ConversationView
from evswarm.world.market import TARIFF_NOTICE_DAYS, days_between

ORCHESTRATOR = "Orchestrator"


def vehicle_args(view: ConversationView) -> dict[str, Any]:
    vehicle = view.order.get("vehicle", {})
    return {k: vehicle.get(k, "" if k != "options" else []) for k in ("model", "trim", "wheels", "battery", "options")}


def region_of(view: ConversationView) -> str:
    return str(view.order.get("customer", {}).get("region", ""))


def buildability(view: ConversationView, ctx: PolicyContext) -> Action:
    v = vehicle_args(view)
    if missing := view.missing("check_buildability", "lookup_trim_rules"):
        calls = {
            "check_buildability": call("check_buildability", **v),
            "lookup_trim_rules": call("lookup_trim_rules", model=v["model"], trim=v["trim"]),
        }
        return CallTools(
            [calls[m] for m in missing],
            f"Checking {v['model']} {v['trim']} with {v['wheels']} wheels and {v['battery']} against the catalog.",
        )
    violations = view.latest("check_buildability")["violations"]
    if violations:
        out = report(
            "BuildabilityValidationAgent",
            "blocked",
            f"Not buildable: {', '.join(violations)}.",
            findings=[
                finding(code, "error", f"{v['model']} {v['trim']}: {code.lower().replace('_', ' ')}")
                for code in violations
            ],
            violations=violations,
        )
        return HandOff(ORCHESTRATOR, out, f"The configuration breaks {', '.join(violations)}; it cannot be built.")
    out = report("BuildabilityValidationAgent", "ok", "Configuration is buildable.", violations=[])
    return HandOff(ORCHESTRATOR, out, "All catalog rules pass; reporting back.")


def compliance(view: ConversationView, ctx: PolicyContext) -> Action:
    v, region = vehicle_args(view), region_of(view)
    pricing = view.report("PricingAgent") or {}
    promos = pricing.get("applied_promotions", [])
    if missing := view.missing("check_regional_rules", "check_promotion_restrictions"):
        calls = {
            "check_regional_rules": call(
                "check_regional_rules",
                region=region,
                model=v["model"],
                wheels=v["wheels"],
                battery=v["battery"],
                options=v["options"],
            ),
            "check_promotion_restrictions": call("check_promotion_restrictions", region=region, promotion_ids=promos),
        }
        return CallTools([calls[m] for m in missing], f"Checking {region} rules and the quote's promotions.")
    rules = view.latest("check_regional_rules")
    restricted = sorted(view.latest("check_promotion_restrictions")["restricted"])
    violations = rules["violations"]
    exempt = _exempt_tariffs(view, ctx)
    findings = [finding("REGIONAL_RULE_VIOLATION", "error", rules["descriptions"][r]) for r in violations]
    findings += [finding("PROMOTION_RESTRICTED", "warning", f"{p} is not lawful in {region}") for p in restricted]
    findings += [finding("TARIFF_EXEMPTION", "warning", f"{t} does not apply in {region}") for t in exempt]
    signals = [{"event_id": p, "action": "excluded"} for p in [*restricted, *exempt]]
    status = "blocked" if violations else "issue" if restricted else "ok"
    out = report(
        "ComplianceValidationAgent",
        status,
        f"{len(violations)} rule violation(s), {len(restricted)} restricted promotion(s) in {region}.",
        findings=findings,
        signals=signals,
        violations=violations,
        restricted_promotions=restricted,
        exempt_tariffs=exempt,
    )
    if rules["rules_checked"] and not violations:
        return HandOff("RegionalComplianceAgent", out, f"{region} has its own regime; asking the regional desk.")
    return HandOff(
        ORCHESTRATOR, out, "Compliance review done." if not violations else f"Blocking: {', '.join(violations)}."
    )


def _exempt_tariffs(view: ConversationView, ctx: PolicyContext) -> list[str]:
    """Tariffs the region exempts the order from: none under the rules in force."""
    order_date = str(view.order.get("order_date", ""))
    tariffs = (view.latest("get_tariffs") or {}).get("tariffs", [])
    recent = [t for t in tariffs if days_between(t["effective_from"], order_date) <= TARIFF_NOTICE_DAYS]
    if recent and ctx.deviates("compliance_tariff_exemption"):
        return [max(recent, key=lambda t: (t["effective_from"], t["event_id"]))["event_id"]]
    return []


def regional_compliance(view: ConversationView, ctx: PolicyContext) -> Action:
    v, region = vehicle_args(view), region_of(view)
    if missing := view.missing("check_homologation", "check_registration_requirements"):
        calls = {
            "check_homologation": call("check_homologation", model=v["model"], region=region),
            "check_registration_requirements": call("check_registration_requirements", region=region),
        }
        return CallTools([calls[m] for m in missing], f"Confirming type approval and paperwork for {region}.")
    homologated = view.latest("check_homologation")["homologated"]
    notes = view.latest("check_registration_requirements")["requirements"]
    out = report(
        "RegionalComplianceAgent",
        "ok" if homologated else "blocked",
        "Type approval confirmed." if homologated else f"{v['model']} lacks type approval in {region}.",
        findings=[]
        if homologated
        else [finding("HOMOLOGATION_MISSING", "error", f"{v['model']} is not homologated for {region}")],
        homologated=homologated,
        registration_notes=notes,
    )
    return HandOff(ORCHESTRATOR, out, "Regional checks complete.")


def clarification(view: ConversationView, ctx: PolicyContext) -> Action:
    if view.missing("analyze_customer_intent"):
        return CallTools(
            [call("analyze_customer_intent", notes=str(view.order.get("notes", "")))],
            "Comparing the customer's notes with the configuration.",
        )
    issues = view.latest("analyze_customer_intent")["issues"]
    if view.missing("draft_clarifying_questions"):
        return CallTools([call("draft_clarifying_questions", issues=issues)], "Drafting questions for the customer.")
    questions = view.latest("draft_clarifying_questions")["questions"]
    out = report(
        "ClarificationAgent",
        "issue",
        f"{len(issues)} open question(s) for the customer.",
        findings=[finding("CUSTOMER_INTENT_AMBIGUOUS", "warning", i) for i in issues],
        issues=issues,
        questions=questions,
    )
    return HandOff("CustomerCommsAgent", out, "The customer must answer before we build; asking comms to send.")


def _message_kind(view: ConversationView) -> str:
    if view.reports and view.reports[-1]["agent"] == "ClarificationAgent":
        return "clarification_request"
    brief = next((b for b in reversed(view.briefs) if b.get("agent") == "CustomerCommsAgent"), None)
    return str(brief["focus"][0]) if brief and brief.get("focus") else "confirmation"


def customer_comms(view: ConversationView, ctx: PolicyContext) -> Action:
    kind = _message_kind(view)
    if view.missing("draft_customer_message"):
        return CallTools([call("draft_customer_message", kind=kind)], f"Drafting a {kind.replace('_', ' ')}.")
    if view.missing("send_customer_message"):
        return CallTools([call("send_customer_message", kind=kind)], "Sending the message.")
    sent = sum(1 for r in view.results if r.position >= view.visit_start and r.name == "send_customer_message")
    if kind == "confirmation" and sent < 2 and ctx.deviates("redundant_confirmation"):
        return CallTools(
            [call("draft_customer_message", kind=kind), call("send_customer_message", kind=kind)],
            "Double-checking: drafting and sending the confirmation again.",
        )
    out = report("CustomerCommsAgent", "ok", f"Sent {kind}.", message_kind=kind, sent=True)
    return HandOff(ORCHESTRATOR, out, "Customer informed.")
