"""Each trace's execution graph (networkx): events as nodes, four kinds of edges.

- temporal: each event to the next one in the trace;
- parent: a span's parent span to the span (and a log entry's span to the entry; a cited span to
  the finding that cites it);
- handoff: the last step of the sending agent to the handoff, and the handoff to the first step of
  the receiving agent;
- tool: a model call that emits a function call to the tool span with the same `call_id`.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

NODE_ATTRS = ("seq", "node_kind", "agent_name", "tool_name", "marker", "text")


def _add(g: nx.DiGraph, u: str, v: str, kind: str) -> None:
    if u == v:
        return
    if g.has_edge(u, v):
        kinds = g.edges[u, v]["kinds"]
        if kind not in kinds:
            kinds.append(kind)
    else:
        g.add_edge(u, v, kinds=[kind])


def build_graph(trace_events: pd.DataFrame, *, temporal: bool = True) -> nx.DiGraph:
    """The execution graph of one trace (events sorted by seq); `temporal=False` keeps content edges only."""
    ev = trace_events.sort_values("seq", kind="stable")
    ids = ev.event_id.to_numpy()
    g = nx.DiGraph()
    records: list[dict[str, Any]] = ev[
        [*NODE_ATTRS, "event_id", "parent_id", "call_id", "source_agent", "target_agent"]
    ].to_dict("records")
    for rec in records:
        g.add_node(rec["event_id"], **{k: rec[k] for k in NODE_ATTRS})
    if temporal:
        for a, b in pairwise(ids):
            _add(g, a, b, "temporal")
    present = set(ids)
    calls: dict[str, str] = {}
    last_of_agent: dict[str, str] = {}
    pending_handoff: dict[str, str] = {}
    for rec in records:
        node, agent, kind = rec["event_id"], rec["agent_name"], rec["node_kind"]
        parent, call_id = rec["parent_id"], rec["call_id"]  # missing: None or NaN
        if isinstance(parent, str) and parent in present:
            _add(g, parent, node, "parent")
        if isinstance(call_id, str) and call_id:
            if kind == "function" and call_id in calls:
                _add(g, calls[call_id], node, "tool")
            elif kind in ("generation", "response"):
                calls[call_id] = node
        if kind == "handoff":
            src, dst = rec["source_agent"] or agent, rec["target_agent"]
            if src in last_of_agent:
                _add(g, last_of_agent[src], node, "handoff")
            if dst:
                pending_handoff[dst] = node
        elif agent in pending_handoff and kind not in ("status", "finding"):
            _add(g, pending_handoff.pop(agent), node, "handoff")
        if kind not in ("handoff", "status", "finding"):
            last_of_agent[agent] = node
    return g


def window(g: nx.DiGraph, anchor: str, before: int = 8, after: int = 4) -> pd.DataFrame:
    """Nodes within `before`/`after` sequence steps of the anchor, for the swimlane."""
    seq0 = g.nodes[anchor]["seq"]
    rows = [{"event_id": n, **d} for n, d in g.nodes(data=True) if seq0 - before <= d["seq"] <= seq0 + after]
    out = pd.DataFrame(rows).sort_values("seq") if rows else pd.DataFrame(columns=["event_id", *NODE_ATTRS])
    out["relative_seq"] = out["seq"].to_numpy(dtype=np.int64) - seq0 if len(out) else []
    return out
