"""Name each pattern from what distinguishes it from the other patterns.

Keywords come from a class-based TF-IDF: each pattern's documents are joined into one class
document; a term scores tf(term, pattern) × log(1 + mean terms per pattern / term frequency over
all patterns), so terms common to every pattern sink and terms peculiar to one rise.
Labels are built from the pattern's most distinctive finding code, failed rubric or outcome
(share in the pattern vs in the rest), falling back to its top keywords, and are made unique.
The likely owner is the agent most over-represented in the pattern's findings and failure windows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

NOISE = -1
# words of our own document templates (not of any dataset), which carry no meaning
TEMPLATE_WORDS = [
    "agent",
    "starts",
    "tools",
    "tool",
    "model",
    "thinks",
    "calls",
    "says",
    "handoff",
    "status",
    "active",
    "near",
    "failure",
    "anchor",
    "outcome",
    "route",
    "agents",
    "finding",
    "findings",
    "run_status",
    "terminal_state",
    "validation_outcome",
    "none",
    "loops",
    "retries",
    "grader",
    "failed rubrics",
    "error",
    "warning",
    "info",
    "running",
    "id",
]


@dataclass
class PatternLabels:
    table: pd.DataFrame  # pattern_id, label, label_basis, keywords, owner, owner_basis


def class_tfidf(docs: list[str], labels: np.ndarray, top_n: int) -> dict[int, list[tuple[str, float]]]:
    """Top distinctive terms per label (noise included as its own class so it does not pollute others)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    classes = sorted(set(labels.tolist()))
    joined = [" ".join(d for d, lab in zip(docs, labels, strict=True) if lab == c) for c in classes]
    stop = sorted(set(ENGLISH_STOP_WORDS) | {w for t in TEMPLATE_WORDS for w in t.split()})
    vec = CountVectorizer(
        ngram_range=(1, 2), stop_words=stop, lowercase=True, token_pattern=r"(?u)\b[A-Za-z][A-Za-z0-9_]+\b"
    )
    try:
        counts = vec.fit_transform(joined).toarray().astype(float)
    except ValueError:  # empty vocabulary
        return {c: [] for c in classes}
    terms = np.asarray(vec.get_feature_names_out())
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    mean_words = counts.sum() / len(classes)
    idf = np.log(1 + mean_words / np.maximum(counts.sum(axis=0), 1))
    score = tf * idf
    out: dict[int, list[tuple[str, float]]] = {}
    for i, c in enumerate(classes):
        order = np.argsort(-score[i], kind="stable")[:top_n]
        out[c] = [(str(terms[j]), float(score[i, j])) for j in order if score[i, j] > 0]
    return out


def humanize(code: str) -> str:
    return code.replace("_", " ").lower()


def _distinctive(values: list[list[str]], labels: np.ndarray) -> dict[int, list[tuple[str, float, float]]]:
    """Per label: (value, share in label, lift vs the other labels) for list-valued columns."""
    df = pd.DataFrame({"label": labels, "value": values}).explode("value").dropna()
    df = df.reset_index().drop_duplicates(["index", "value"])  # one count per trace
    totals = pd.Series(labels).value_counts()
    out: dict[int, list[tuple[str, float, float]]] = {}
    n = len(labels)
    for lab in totals.index:
        here = df[df.label == lab].value.value_counts()
        rest = df[df.label != lab].value.value_counts()
        size, others = totals[lab], max(n - totals[lab], 1)
        rows = []
        for value, count in here.items():
            share = count / size
            rest_share = rest.get(value, 0) / others
            rows.append((str(value), float(share), float(share / max(rest_share, 0.5 / others))))
        out[int(lab)] = sorted(rows, key=lambda r: (-r[1] * min(r[2], 10), r[0]))
    return out


def _unique(cands: dict[int, list[str]]) -> dict[int, str]:
    """Each pattern takes its first candidate; clashing patterns add a candidate the others in the
    clash do not have (up to two rounds), and any clash left is numbered."""
    chosen = {pid: c[0] for pid, c in cands.items()}
    for _ in range(2):
        groups: dict[str, list[int]] = {}
        for pid, lab in chosen.items():
            groups.setdefault(lab, []).append(pid)
        clashes = [pids for pids in groups.values() if len(pids) > 1]
        if not clashes:
            return chosen
        for pids in clashes:
            for pid in pids:
                others = {c for o in pids if o != pid for c in cands[o]}
                extra = next((c for c in cands[pid][1:] if c not in others and c not in chosen[pid]), None)
                if extra:
                    chosen[pid] = f"{chosen[pid]} · {extra}"
    counts = Counter(chosen.values())
    seen: Counter[str] = Counter()
    for pid in sorted(chosen):
        lab = chosen[pid]
        if counts[lab] > 1:
            seen[lab] += 1
            chosen[pid] = f"{lab} ({seen[lab]})"
    return chosen


_CLAUSE = re.compile(r"(?:^|[.;]\s+)(?:[a-z_]+:\s*)?")


def grader_reasons(text: object) -> list[str]:
    """The grader's reasons as short generalized clauses ('tariff in effect but not applied')."""
    from evswarm.macro.documents import generalize

    if not isinstance(text, str) or not text:
        return []
    clauses = [c.strip(" .") for c in _CLAUSE.split(generalize(text))]
    out = []
    for clause in clauses:
        clause = re.sub(r"^#\s*of\s*#\s*signal\(s\) mishandled:\s*", "", clause)
        if 8 <= len(clause) <= 90 and "#" not in clause:
            out.append(clause)
    return sorted(set(out))


_CAMEL = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z0-9]+)+\b")


def mentioned_agents(texts: Iterable[str]) -> list[list[str]]:
    return [sorted(set(_CAMEL.findall(t))) for t in texts]


def label_patterns(traces: pd.DataFrame, docs: list[str], labels: np.ndarray, top_n: int) -> PatternLabels:
    """`traces` rows align with `docs` and `labels` (the clustered population)."""
    keywords = class_tfidf(docs, labels, max(top_n, 25))
    texts = traces.get("rationale_text", pd.Series([""] * len(traces))).tolist()
    kinds = traces.get("failure_kinds", pd.Series([[]] * len(traces))).tolist()
    # the grader's failure kinds when it wrote them ('stockout not noticed'), else clauses of its prose
    reasons = _distinctive(
        [list(k) if isinstance(k, list) and k else grader_reasons(t) for k, t in zip(kinds, texts, strict=True)],
        labels,
    )
    codes = _distinctive(traces.finding_codes.tolist(), labels)
    rubrics = _distinctive(traces.failed_rubrics.tolist(), labels)
    outcomes = _distinctive([[o] for o in traces.run_outcome], labels)
    owners = _distinctive(traces.finding_agents.tolist(), labels)
    window_agents = _distinctive(mentioned_agents(docs), labels)
    cands: dict[int, list[str]] = {}
    basis: dict[int, str] = {}
    rows = []
    for pid in sorted(set(labels.tolist())):
        if pid == NOISE:
            cands[pid] = ["unclustered traces"]
            basis[pid] = "noise"
            continue
        options: list[str] = []
        reason = next((r for r in reasons.get(pid, []) if r[1] >= 0.5 and r[2] > 1.0), None)
        if reason:
            options.append(reason[0])
            basis[pid] = f"grader reason in {reason[1]:.0%} of its traces"
        code = next((c for c in codes.get(pid, []) if c[1] >= 0.5 and c[2] > 1.0), None)
        rubric = next((r for r in rubrics.get(pid, []) if r[1] >= 0.5 and r[2] > 1.0), None)
        outcome = next((o for o in outcomes.get(pid, []) if o[1] >= 0.6), None)
        ending = f" → {humanize(outcome[0])}" if outcome and outcome[0] != "completed" else ""
        if code:
            options.append(humanize(code[0]) + ending)
            basis.setdefault(pid, f"finding {code[0]} in {code[1]:.0%} of its traces")
        if rubric:
            options.append(f"fails {humanize(rubric[0])}" + ("" if code else ending))
            basis.setdefault(pid, f"rubric {rubric[0]} failed in {rubric[1]:.0%} of its traces")
        terms = [t for t, _ in keywords.get(pid, [])]
        if not options and ending:
            options.append(f"ends{ending}" + (f" · {terms[0]}" if terms else ""))
            basis.setdefault(pid, f"outcome {outcome[0]} in {outcome[1]:.0%} of its traces" if outcome else "")
            terms = terms[1:]
        used = " ".join(options)
        options.extend(t for t in terms if t not in used)
        basis.setdefault(pid, "top distinctive terms")
        if not options:
            options = [f"pattern {pid}"]
        cands[pid] = options
    unique = _unique(cands)
    for pid in sorted(unique):
        agent_rank = owners.get(pid, []) or window_agents.get(pid, [])
        owner = agent_rank[0][0] if agent_rank else "unknown"
        rows.append(
            {
                "cluster_id": pid,
                "label": unique[pid],
                "label_basis": basis.get(pid, ""),
                "keywords": [t for t, _ in keywords.get(pid, [])][:top_n],
                "owner": owner if pid != NOISE else "",
                "owner_basis": (
                    "agent named by its findings" if owners.get(pid) else "agent most over-represented in its documents"
                )
                if pid != NOISE
                else "",
            }
        )
    return PatternLabels(pd.DataFrame(rows))
