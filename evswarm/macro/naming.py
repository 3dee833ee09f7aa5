"""Name each pattern from what distinguishes it from the other patterns.

Keywords come from a class-based TF-IDF: each pattern's documents are joined into one class
document; a term scores tf(term, pattern) × log(1 + mean terms per pattern / term frequency over
all patterns), so terms common to every pattern sink and terms peculiar to one rise.
Labels are built from the pattern's most distinctive symptom or unusual step (share in the pattern vs in
the rest), falling back to its top keywords, and are made unique.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

NOISE = -1
# words of our own document templates (not of any dataset), which carry no meaning
TEMPLATE_WORDS = [
    "symptom",
    "unusual",
    "ended",
    "tool",
    "error",
    "generation",
    "response",
    "function",
    "handoff",
    "call",
    "say",
    "text",
    "null",
    "true",
    "false",
    "start",
    "agent",
]


@dataclass
class PatternLabels:
    table: pd.DataFrame  # cluster_id, label, label_basis, keywords


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


def _behavior(doc: str) -> list[str]:
    """A document's behavior lines, as '<agent> <tool> <feature>' (what the trace did differently)."""
    out = []
    for line in doc.splitlines():
        if line.startswith(("symptom ", "ended ")):
            continue
        words = line.split()
        if len(words) >= 3:
            agent, tool, rest = words[0], words[2], words[-1]
            out.append(" ".join(dict.fromkeys(w for w in (agent, tool, rest) if "=" in w or w in (agent, tool))))
    return sorted(set(out))


def label_patterns(traces: pd.DataFrame, docs: list[str], labels: np.ndarray, top_n: int) -> PatternLabels:
    """Name each pattern; `traces` rows align with `docs` and `labels` (the clustered population).

    A name is the pattern's most distinctive symptom (from the grades), then its most distinctive
    behavior, with the outcome when most of its traces did not complete; then its top keywords.
    Names are made unique."""
    keywords = class_tfidf(docs, labels, max(top_n, 25))
    symptoms = (
        _distinctive([list(v) if isinstance(v, list) else [] for v in traces.get("symptoms", [])], labels)
        if "symptoms" in traces.columns
        else {}
    )
    steps = _distinctive([_behavior(d) for d in docs], labels)
    outcomes = _distinctive([[o] for o in traces.run_outcome], labels)
    cands: dict[int, list[str]] = {}
    basis: dict[int, str] = {}
    for pid in sorted(set(labels.tolist())):
        if pid == NOISE:
            cands[pid] = ["unclustered traces"]
            basis[pid] = "noise"
            continue
        options: list[str] = []
        outcome = next((o for o in outcomes.get(pid, []) if o[1] >= 0.6), None)
        ending = f" → {humanize(outcome[0])}" if outcome and outcome[0] != "completed" else ""
        symptom = next((r for r in symptoms.get(pid, []) if r[1] >= 0.5 and r[2] > 1.0), None)
        if symptom:
            options.append(humanize(symptom[0]) + ending)
            basis[pid] = f"symptom in {symptom[1]:.0%} of its traces"
        step = next((r for r in steps.get(pid, []) if r[1] >= 0.5 and r[2] > 1.0), None)
        if step:
            options.append(step[0] + ("" if symptom else ending))
            basis.setdefault(pid, f"behavior in {step[1]:.0%} of its traces")
        terms = [t for t, _ in keywords.get(pid, [])]
        if not options and ending:
            options.append(f"ends{ending}")
            basis.setdefault(pid, f"outcome {outcome[0]} in {outcome[1]:.0%} of its traces" if outcome else "")
        used = " ".join(options)
        options.extend(t for t in terms if t not in used)
        basis.setdefault(pid, "top distinctive terms")
        cands[pid] = options or [f"pattern {pid}"]
    unique = _unique(cands)
    rows = [
        {
            "cluster_id": pid,
            "label": unique[pid],
            "label_basis": basis.get(pid, ""),
            "keywords": [t for t, _ in keywords.get(pid, [])][:top_n],
        }
        for pid in sorted(unique)
    ]
    return PatternLabels(pd.DataFrame(rows))
