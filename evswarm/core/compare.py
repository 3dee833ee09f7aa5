"""Where two bundles of the same run first differ (replay verification). Times are ignored; so is the
content of generation spans, which each model implementation writes its own way (model calls are compared
instead)."""

from __future__ import annotations

from typing import Any

from evswarm.core.bundle import Bundle

IGNORED_KEYS = frozenset(
    {"started_at", "ended_at", "created_at", "updated_at", "timestamp", "decided_at", "requested_at"}
)


WINDOW = 60
"""Characters shown on each side of the first difference between two long values."""


def _around(left: Any, right: Any) -> tuple[str, str]:
    """Both values' reprs, cut to a window around the first character where they differ (with `...`
    where text was left out), so two long values that share a prefix still show what differs."""
    a, b = repr(left), repr(right)
    if len(a) <= 2 * WINDOW and len(b) <= 2 * WINDOW:
        return a, b
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    start = max(0, at - WINDOW)

    def cut(text: str) -> str:
        end = min(len(text), at + WINDOW)
        return ("..." if start else "") + text[start:end] + ("..." if end < len(text) else "")

    return cut(a), cut(b)


def first_difference(saved: Any, replayed: Any, path: str = "") -> str | None:
    """The path of the first differing value (dict keys in sorted order, lists by position), or None."""
    if isinstance(saved, dict) and isinstance(replayed, dict):
        for key in sorted(set(saved) | set(replayed)):
            if key in IGNORED_KEYS:
                continue
            if key not in saved or key not in replayed:
                return f"{path}.{key}: present only in the {'replayed' if key not in saved else 'saved'} run"
            found = first_difference(saved[key], replayed[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(saved, list) and isinstance(replayed, list):
        for index, (left, right) in enumerate(zip(saved, replayed, strict=False)):
            found = first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        if len(saved) != len(replayed):
            return f"{path}: saved run has {len(saved)} entries, replayed run has {len(replayed)}"
        return None
    if saved != replayed:
        left, right = _around(saved, replayed)
        return f"{path}: saved {left} vs replayed {right}"
    return None


def _span_view(bundle: Bundle) -> list[dict[str, Any]]:
    position = {span.span_id: n for n, span in enumerate(bundle.spans)}
    view = []
    for span in bundle.spans:
        data = {} if span.span_type == "generation" else span.span_data
        inner = data.get("data")
        if span.span_type == "custom" and isinstance(inner, dict) and "usage" in inner:
            # task/turn token usage is what the model server billed (live servers add cached and total counts
            # the recording does not keep); a replay only echoes the recording's counts, so it proves nothing
            data = {**data, "data": {k: v for k, v in inner.items() if k != "usage"}}
        error = span.error
        if span.span_type == "generation" and error:  # a failed model call: its details are the client library's
            error = {"message": error.get("message")}
        parent = position.get(span.parent_span_id or "")
        view.append({"type": span.span_type, "agent": span.agent_name, "parent": parent, "data": data, "error": error})
    return view


def _label(bundle: Bundle, index: int) -> str:
    span = bundle.spans[index]
    name = span.span_data.get("name") or span.span_data.get("to_agent") or ""
    return f"span {index} ({span.span_type} {name} by {span.agent_name})".replace("  ", " ")


def diff_bundles(saved: Bundle, replayed: Bundle) -> str | None:
    """A sentence naming where a replayed run first departs from the saved one, or None if they match."""
    sections: list[tuple[str, Any, Any]] = [
        ("spans", _span_view(saved), _span_view(replayed)),
        (
            "events",
            [e.model_dump(exclude={"event_id"}) for e in saved.events],
            [e.model_dump(exclude={"event_id"}) for e in replayed.events],
        ),
        ("run", saved.run.model_dump(mode="json"), replayed.run.model_dump(mode="json")),
        (
            "review_packet",
            saved.review_packet and saved.review_packet.model_dump(mode="json"),
            replayed.review_packet and replayed.review_packet.model_dump(mode="json"),
        ),
        ("snapshots", saved.snapshots.model_dump(mode="json"), replayed.snapshots.model_dump(mode="json")),
    ]
    for name, left, right in sections:
        found = first_difference(left, right, name)
        if found:
            if name == "spans" and found.startswith("spans["):
                index = int(found[len("spans[") : found.index("]")])
                if index < len(saved.spans):
                    return f"{_label(saved, index)}: {found}"
            return found
    return None
