"""A small customer-support desk on the OpenAI Agents SDK: Triage hands tickets to Billing or Refunds.

- Triage reads the request and hands off (invoices and payment methods to Billing, refunds to Refunds).
- Billing looks invoices up (`lookup_invoice`) and updates payment methods (`update_payment_method`).
- Refunds checks eligibility (`check_refund_eligibility`) and issues refunds (`issue_refund`).

The agents run on a scripted model (`ScriptedModel`, the SDK's `Model` interface): each decision is a
deterministic function of the agent, the conversation so far and the ticket's plan, so the app runs
offline with no key. A plan may switch on failure modes of the app's own:
- `misroute` (Triage): a refund request goes to Billing, which cannot help;
- `over_refund` (Refunds): the refund asked for is issued without capping it at the eligible amount, the
  payments tool refuses it, and Refunds retries until it gives up;
- `stale_invoice` (Billing): the previous month's invoice is looked up and quoted;
- `bounce` (Billing): a payment-method change is handed back to Triage, which sends it back, until the
  run hits its turn limit;
- `payments_down` (the `issue_refund` tool, not an agent): the payments service times out.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from agents import Agent, Model, ModelResponse, RunContextWrapper, Usage, function_tool
from agents.tracing import generation_span
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseReasoningItem,
)
from openai.types.responses.response_reasoning_item import Summary

FAULTS = ("misroute", "over_refund", "stale_invoice", "bounce", "payments_down")
RESPONSIBLE = {
    "misroute": "Triage",
    "over_refund": "Refunds",
    "stale_invoice": "Billing",
    "bounce": "Billing",
    "payments_down": "Refunds",  # the tool's failure shows in the turn of the agent that called it
}
MAX_TURNS = 12


@dataclass
class Ticket:
    """One customer request, and the failure mode (if any) its run is planned with."""

    ticket_id: str
    kind: str  # invoice, card, refund
    customer: str
    text: str
    month: str = "2026-05"
    amount: float = 0.0
    eligible: float = 0.0
    card: str = ""
    fault: str | None = None


@dataclass
class Desk:
    """The world the tools read: invoices and orders of the ticket's customer."""

    ticket: Ticket
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: list[float] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)


def make_tickets(n: int, seed: int, fault_rate: float = 0.5) -> list[Ticket]:
    """`n` tickets; about `fault_rate` of them planned with a failure mode that fits their kind."""
    rng = random.Random(seed)
    tickets = []
    for i in range(n):
        kind = rng.choice(("invoice", "card", "refund"))
        customer = f"C{rng.randint(1000, 9999)}"
        ticket = Ticket(ticket_id=f"desk-{seed}-{i:04d}", kind=kind, customer=customer, text="")
        if kind == "invoice":
            ticket.month = rng.choice(("2026-03", "2026-04", "2026-05"))
            ticket.text = f"Hi, I'm customer {customer}. What do I owe on my {ticket.month} invoice?"
        elif kind == "card":
            ticket.card = f"{rng.randint(1000, 9999)}"
            ticket.text = f"Customer {customer} here: please switch my payment card to the one ending {ticket.card}."
        else:
            ticket.eligible = float(rng.randint(20, 90))
            ticket.amount = ticket.eligible + float(rng.choice((0, 0, 15, 40)))
            ticket.text = f"I'm {customer}. I want a refund of ${ticket.amount:.2f} for order O-{i:04d}."
        fits = {
            "invoice": ("stale_invoice",),
            "card": ("bounce",),
            "refund": ("misroute", "over_refund", "payments_down"),
        }
        if rng.random() < fault_rate:
            choice = rng.choice(fits[kind])
            if choice != "over_refund" or ticket.amount > ticket.eligible:
                ticket.fault = choice
        tickets.append(ticket)
    return tickets


def new_desk(ticket: Ticket) -> Desk:
    desk = Desk(ticket)
    for k, month in enumerate(("2026-03", "2026-04", "2026-05")):
        desk.invoices[month] = {"month": month, "amount_due": 40.0 + 7.5 * k + len(ticket.customer), "status": "open"}
    return desk


# -- tools ------------------------------------------------------------------------------------------------


@function_tool
def lookup_invoice(ctx: RunContextWrapper[Desk], customer: str, month: str) -> str:
    """Look up a customer's invoice for a month (YYYY-MM)."""
    invoice = ctx.context.invoices.get(month)
    if invoice is None:
        return json.dumps({"error": f"no invoice for {month}"})
    return json.dumps({"customer": customer, **invoice})


@function_tool
def update_payment_method(ctx: RunContextWrapper[Desk], customer: str, card_last4: str) -> str:
    """Set the customer's payment card."""
    ctx.context.cards.append(card_last4)
    return json.dumps({"customer": customer, "card_last4": card_last4, "updated": True})


@function_tool
def check_refund_eligibility(ctx: RunContextWrapper[Desk], customer: str, order_id: str) -> str:
    """How much of an order can be refunded."""
    return json.dumps({"order_id": order_id, "eligible": True, "max_amount": ctx.context.ticket.eligible})


@function_tool
def issue_refund(ctx: RunContextWrapper[Desk], customer: str, order_id: str, amount: float) -> str:
    """Refund an amount to the customer's card."""
    ticket = ctx.context.ticket
    if ticket.fault == "payments_down":
        raise TimeoutError("payments service did not answer within 10 s")
    if amount > ticket.eligible + 1e-9:
        return json.dumps({"error": f"amount {amount:.2f} exceeds the refundable balance {ticket.eligible:.2f}"})
    ctx.context.refunds.append(amount)
    return json.dumps({"order_id": order_id, "refunded": amount, "status": "issued"})


# -- the scripted model -----------------------------------------------------------------------------------


@dataclass
class _Seen:
    """What an agent has seen: tool results by tool name (in order) and handoffs taken."""

    outputs: dict[str, list[str]]
    handoffs: list[str]


def _seen(items: list[Any]) -> _Seen:
    names: dict[str, str] = {}
    outputs: dict[str, list[str]] = {}
    handoffs: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            names[str(item.get("call_id"))] = str(item.get("name"))
            if str(item.get("name")).startswith("transfer_to_"):
                handoffs.append(str(item.get("name")))
        elif item.get("type") == "function_call_output":
            outputs.setdefault(names.get(str(item.get("call_id")), "?"), []).append(str(item.get("output")))
    return _Seen(outputs, handoffs)


class ScriptedModel(Model):
    """One agent's decisions for one ticket: a deterministic function of what it has seen."""

    def __init__(self, agent: str, ticket: Ticket) -> None:
        self.agent = agent
        self.ticket = ticket
        self.turn = 0

    def decide(self, seen: _Seen) -> tuple[str, list[tuple[str, dict[str, Any]]] | str]:
        """(thought, tool calls as (name, args)) or (thought, final answer text)."""
        t = self.ticket
        if self.agent == "Triage":
            if seen.handoffs.count("transfer_to_triage") >= 1 and t.kind == "card":
                return "Billing sent it back; it is a payment question, so Billing again.", [
                    ("transfer_to_billing", {})
                ]
            if t.kind == "refund" and t.fault != "misroute":
                return "A refund request: Refunds handles it.", [("transfer_to_refunds", {})]
            return "An invoice or payment question: Billing handles it.", [("transfer_to_billing", {})]
        if self.agent == "Billing":
            if t.kind == "refund":
                return "This is a refund; I only handle invoices.", "I can only help with invoices and payment methods."
            if t.kind == "card":
                if t.fault == "bounce":
                    return "Card changes are not billing questions; back to triage.", [("transfer_to_triage", {})]
                if "update_payment_method" not in seen.outputs:
                    return "Update the card.", [
                        ("update_payment_method", {"customer": t.customer, "card_last4": t.card})
                    ]
                return "Done.", f"Your payment card is now the one ending {t.card}."
            month = t.month
            if t.fault == "stale_invoice":
                year, mon = month.split("-")
                month = f"{year}-{int(mon) - 1:02d}" if int(mon) > 1 else month
            if "lookup_invoice" not in seen.outputs:
                return f"Look up the {month} invoice.", [("lookup_invoice", {"customer": t.customer, "month": month})]
            invoice = json.loads(seen.outputs["lookup_invoice"][-1])
            if "error" in invoice:
                return "No such invoice.", "I could not find that invoice."
            return "Quote the invoice.", f"Your {invoice['month']} invoice is ${invoice['amount_due']:.2f}, still open."
        # Refunds
        order = f"O-{t.ticket_id[-4:]}"
        if "check_refund_eligibility" not in seen.outputs:
            return "Check eligibility first.", [
                ("check_refund_eligibility", {"customer": t.customer, "order_id": order})
            ]
        eligible = json.loads(seen.outputs["check_refund_eligibility"][-1])["max_amount"]
        attempts = seen.outputs.get("issue_refund", [])
        if attempts and '"issued"' in attempts[-1]:
            return "Refund went through.", f"Refund of ${json.loads(attempts[-1])['refunded']:.2f} issued."
        if len(attempts) >= 3:
            return "Three failures; give up.", "Sorry, I could not process your refund right now."
        amount = t.amount if t.fault == "over_refund" else min(t.amount, eligible)
        why = "Retry the refund." if attempts else "Issue the refund."
        return why, [("issue_refund", {"customer": t.customer, "order_id": order, "amount": amount})]

    async def get_response(
        self,
        system_instructions,
        input,
        model_settings,
        tools,
        output_schema,
        handoffs,
        tracing,
        *,
        previous_response_id=None,
        conversation_id=None,
        prompt=None,
    ):  # type: ignore[no-untyped-def]
        items = input if isinstance(input, list) else [{"role": "user", "content": input}]
        thought, action = self.decide(_seen(items))
        key = f"{self.agent.lower()}_{self.turn}"
        self.turn += 1
        output: list[Any] = [
            ResponseReasoningItem(
                id=f"rs_{key}", type="reasoning", summary=[Summary(text=thought, type="summary_text")]
            )
        ]
        if isinstance(action, str):
            output.append(
                ResponseOutputMessage(
                    id=f"msg_{key}",
                    type="message",
                    role="assistant",
                    status="completed",
                    content=[ResponseOutputText(type="output_text", text=action, annotations=[])],
                )
            )
        else:
            output += [
                ResponseFunctionToolCall(
                    type="function_call",
                    id=f"fc_{key}_{n}",
                    call_id=f"call_{key}_{n}",
                    name=name,
                    arguments=json.dumps(args, sort_keys=True),
                    status="completed",
                )
                for n, (name, args) in enumerate(action)
            ]
        with generation_span(input=items, model=f"scripted/{self.agent}") as span:
            span.span_data.output = [o.model_dump(exclude_none=True) for o in output]
            span.span_data.usage = {"input_tokens": len(items), "output_tokens": len(output)}
        return ModelResponse(output=output, usage=Usage(requests=1), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the scripted model does not stream")


def build_agents(ticket: Ticket) -> Agent[Desk]:
    """The desk's agents for one ticket (each on a scripted model bound to the ticket); returns Triage."""
    triage: Agent[Desk] = Agent(name="Triage", instructions="Route the ticket.", model=ScriptedModel("Triage", ticket))
    billing: Agent[Desk] = Agent(
        name="Billing",
        instructions="Answer invoice and payment questions.",
        model=ScriptedModel("Billing", ticket),
        tools=[lookup_invoice, update_payment_method],
    )
    refunds: Agent[Desk] = Agent(
        name="Refunds",
        instructions="Handle refunds.",
        model=ScriptedModel("Refunds", ticket),
        tools=[check_refund_eligibility, issue_refund],
    )
    triage.handoffs = [billing, refunds]
    billing.handoffs = [triage]
    return triage


def resolved(ticket: Ticket, desk: Desk, answer: str | None) -> bool:
    """Whether the customer got what they asked for (the app's own check of a finished run)."""
    if answer is None:
        return False
    if ticket.kind == "invoice":
        return f"{ticket.month} invoice" in answer
    if ticket.kind == "card":
        return desk.cards[-1:] == [ticket.card] and ticket.card in answer
    return bool(desk.refunds) and "issued" in answer
