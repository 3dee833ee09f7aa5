"""The root-cause story of a pattern, in words a person can follow: who its traces blame and with what
share, and, for the top suspect, the causal chain from the suspect's step to the step where the failure
shows, over the trace's real steps (content edges: a call to its result, a handoff to the agent it names, a
span to its parent), with step numbers that open the step in the review app.

A chain is told for the pattern's most common route: member traces that blame the top suspect are grouped
by the sequence of (agent, kind, tool) along their chain, and the largest group's most typical trace is
shown, with how many of the pattern's traces share it.
"""

from __future__ import annotations

import html
import os
from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote

import networkx as nx
import pandas as pd

from evswarm.macro.graph import build_graph

REVIEW_URL = os.environ.get("EVSWARM_REVIEW_URL", "http://127.0.0.1:8765")
"""Where the review app answers (`evswarm serve DIR --analysis OUT`); step links open it there."""
MAX_TRACES = 40
"""Member traces whose chains are traced per pattern (the rest are counted by suspect only)."""
SHOWN_STEPS = 7
"""Steps of a chain shown; a longer chain keeps its two ends and says how many steps lie between."""

KIND_WORDS = {
    "generation": "model turn",
    "response": "model turn",
    "function": "tool result",
    "handoff": "handoff",
    "guardrail": "guardrail",
    "environment": "environment signal",
    "finding": "finding",
    "status": "status change",
    "agent": "agent start",
    "input": "the input",
}


@dataclass(frozen=True)
class ChainStep:
    event_id: str
    seq: int
    agent: str
    kind: str
    tool: str
    text: str

    @property
    def signature(self) -> tuple[str, str, str]:
        return (self.agent, self.kind, self.tool)


@dataclass(frozen=True)
class Chain:
    run_id: str
    steps: list[ChainStep]
    connected: bool
    """True when content edges lead from the suspect to the anchor; else the two stand alone."""

    @property
    def signature(self) -> tuple[tuple[str, str, str], ...]:
        return tuple(step.signature for step in self.steps)


def _clean(value: object) -> str:
    """A display string: None, NaN and 'nan' become the empty string."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value)
    return "" if text.lower() == "nan" else text


def _step(g: nx.DiGraph, node: str) -> ChainStep:
    d = g.nodes[node]
    return ChainStep(
        event_id=str(node),
        seq=int(d.get("seq", -1)),
        agent=_clean(d.get("agent_name")) or "?",
        kind=_clean(d.get("node_kind")) or "?",
        tool=_clean(d.get("tool_name")),
        text=_clean(d.get("text")),
    )


def chain_of(events: pd.DataFrame, suspect: str, anchor: str | None) -> Chain | None:
    """The chain of one trace from its suspect step to its anchor over content edges; None when the suspect
    is the input (no step) or is not a step of the trace."""
    if not anchor:
        return None
    g = build_graph(events, temporal=False)
    if suspect not in g or anchor not in g:
        return None
    run_id = str(events.run_id.iloc[0])
    try:
        path = nx.shortest_path(g, suspect, anchor)
        return Chain(run_id, [_step(g, str(n)) for n in path], connected=True)
    except nx.NetworkXNoPath:
        return Chain(run_id, [_step(g, suspect), _step(g, anchor)], connected=False)


def review_link(run_id: str, event_id: str | None = None) -> str:
    """The review app's address of a trace (and one of its steps)."""
    url = f"{REVIEW_URL}/traces/{quote(run_id, safe='')}"
    return url + (f"?step={quote(event_id, safe='')}" if event_id else "")


def ink(color: str) -> str:
    """Dark text on a light colour, white on a dark one (relative luminance of a #rrggbb colour)."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return "#1d1f24" if 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2] > 0.4 else "#fff"


def _agent_chip(agent: str, colors: dict[str, str]) -> str:
    color = colors.get(agent, "#7f7f7f")
    return f'<span class="chip" style="--c:{color};--i:{ink(color)}">{html.escape(agent)}</span>'


def _describe(step: ChainStep, colors: dict[str, str]) -> str:
    kind = KIND_WORDS.get(step.kind, step.kind)
    tool = f" <code>{html.escape(step.tool)}</code>" if step.tool else ""
    return f"{_agent_chip(step.agent, colors)} {html.escape(kind)}{tool}"


def render_chain(chain: Chain, colors: dict[str, str], anchor_rule: str | None) -> str:
    """An ordered list: the suspect's step, the steps between, the step where the failure shows."""
    steps = chain.steps
    shown: list[ChainStep | int] = list(steps)
    if len(steps) > SHOWN_STEPS:
        hidden = len(steps) - (SHOWN_STEPS - 1)
        shown = [*steps[: SHOWN_STEPS - 2], hidden, steps[-1]]
    items = []
    for index, item in enumerate(shown):
        if isinstance(item, int):
            items.append(f'<li class="gap">… {item} more step(s) …</li>')
            continue
        role = "suspect" if index == 0 else "anchor" if index == len(shown) - 1 else "between"
        label = {"suspect": "went wrong here", "anchor": "failure shows here", "between": ""}[role]
        if role == "anchor" and anchor_rule:
            label += f" ({html.escape(anchor_rule)})"
        link = review_link(chain.run_id, item.event_id)
        title = "open this step in the review app"
        number = f'<a class="step" href="{html.escape(link)}" title="{title}">step {item.seq}</a>'
        note = f' <span class="role">{label}</span>' if label else ""
        items.append(f'<li class="{role}">{number} {_describe(item, colors)}{note}</li>')
    joint = (
        ""
        if chain.connected
        else '<p class="muted small">No content edge leads from this step to the failure: it shows later in '
        "the trace, after other steps.</p>"
    )
    return f'<ol class="chain">{"".join(items)}</ol>{joint}'


def _blamed(suspects: pd.DataFrame, attribution: pd.DataFrame) -> pd.DataFrame:
    """The attribution rows of the traces that blame the pattern's top suspect."""
    return attribution[attribution.suspect_component == suspects.iloc[0].component]


def _traced(blamed: pd.DataFrame) -> pd.DataFrame:
    return blamed.head(MAX_TRACES)


def traced_runs(suspects: pd.DataFrame, attribution: pd.DataFrame) -> list[str]:
    """The traces whose chains `pattern_story` follows (their events must be at hand)."""
    if suspects.empty or attribution.empty or str(suspects.iloc[0].side) == "input":
        return []
    return _traced(_blamed(suspects, attribution)).run_id.astype(str).tolist()


def pattern_story(
    pattern: object,
    suspects: pd.DataFrame,
    attribution: pd.DataFrame,
    members: list[str],
    events_by_run: dict[str, pd.DataFrame],
    colors: dict[str, str],
) -> tuple[str, str | None]:
    """The story of one pattern (a row of the patterns table) as HTML, and the trace it tells it with."""
    pid = int(getattr(pattern, "pattern_id"))  # noqa: B009 - a namedtuple row
    total = len(members)
    if suspects.empty or attribution.empty:
        return '<p class="muted">No trace of this pattern could be attributed.</p>', None
    blame = ", ".join(
        f"<b>{html.escape(str(s.component))}</b> ({html.escape(str(s.side))}) in {s.share:.0%}"
        for s in suspects.head(3).itertuples()
    )
    out = [f"<p>Its {total} traces blame {blame} of them.</p>"]
    top = suspects.iloc[0]
    blamed = _blamed(suspects, attribution)
    if str(top.side) == "input":
        out.append(
            f"<p>In {len(blamed)} of its traces ({len(blamed) / max(total, 1):.0%}) no step before the failure "
            "differs from what passing peers do, and the input (the order or request itself) is unlike theirs "
            "(or no agent acted before the failure): the input is the suspect. Open one: "
            + ", ".join(
                f'<a href="{html.escape(review_link(rid))}"><code>{html.escape(rid)}</code></a>'
                for rid in blamed.run_id.head(3)
            )
            + ".</p>"
        )
        return "".join(out), None
    chains: list[tuple[Chain, pd.Series]] = []
    for row in _traced(blamed).itertuples(index=False):
        events = events_by_run.get(row.run_id)
        if events is None:
            continue
        chain = chain_of(events, str(row.suspect_event_id), _clean(row.anchor_event_id) or None)
        if chain is not None:
            chains.append((chain, pd.Series(row._asdict())))
    if not chains:
        return "".join(out), None
    groups = Counter(chain.signature for chain, _ in chains)
    signature, count = groups.most_common(1)[0]
    chain, row = max(((c, r) for c, r in chains if c.signature == signature), key=lambda cr: float(cr[1]["score"]))
    studied = len(chains)
    out.append(
        f'<div class="story" data-pattern="{pid}"><p><b>How it goes wrong</b> in trace '
        f'<a href="{html.escape(review_link(chain.run_id))}"><code>{html.escape(chain.run_id)}</code></a> '
        f"(the most common route: {count} of the {studied} traces that blame {html.escape(str(top.component))} "
        f"and were traced, {count / total:.0%} of the pattern):</p>"
    )
    out.append(render_chain(chain, colors, _clean(row["anchor_rule"]) or None))
    out.append(
        f'<p class="small">Why this step: deviation {float(row["deviation"]):.2f} (how much more often failing '
        f"traces take it than passing peers), earliness {float(row['earliness']):.2f}, proximity "
        f"{float(row['proximity']):.2f}; score {float(row['score']):.2f}. Baselines in this trace: last agent "
        f"before the failure {html.escape(_clean(row['baseline_last_agent']) or '–')}, agent with most steps "
        f"{html.escape(_clean(row['baseline_most_frequent_agent']) or '–')}.</p>"
    )
    out.append("</div>")
    return "".join(out), chain.run_id
