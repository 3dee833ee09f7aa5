from __future__ import annotations

import json
import re

import pandas as pd

from evswarm.macro import AnalysisResult
from evswarm.macro.label import _unique, label_patterns

FIGURES = [
    "fig-impact-leaderboard",
    "fig-trace-map",
    "fig-heatmap",
    "fig-sankey-findings",
    "fig-sankey-patterns",
    "fig-version-comparison",
]


def test_report_has_every_figure_and_plotly_once(fast_result: AnalysisResult) -> None:
    html = fast_result.report_path.read_text(encoding="utf-8")
    for fig in FIGURES:
        assert f'data-figure="{fig}"' in html, fig
    top = [int(p) for p in fast_result.patterns.pattern_id if p > 0][: fast_result.config.top_patterns]
    for pid in top:
        for kind in ("suspects", "story", "swimlane"):
            assert f'data-figure="fig-{kind}-p{pid}"' in html, (kind, pid)
    # plotly.js inlined exactly once, and no script is fetched from the network
    assert html.count("plotly.js v") <= 2 and len(re.findall(r"<script[^>]*src=", html)) == 0
    assert html.count('<script type="text/javascript">/**') == 1
    assert 'id="summary"' in html and html.index('id="summary"') < html.index("fig-impact-leaderboard")
    assert 'id="table-lift"' in html and 'id="table-version-compare"' in html


def test_tables_are_written_beside_the_report(fast_result: AnalysisResult) -> None:
    out = fast_result.out_dir
    for name in ("patterns", "trace_patterns", "lift", "version_compare", "suspects"):
        assert (out / f"{name}.csv").is_file()
        rows = json.loads((out / f"{name}.json").read_text())
        assert isinstance(rows, list) and rows, name
    patterns = pd.read_csv(out / "patterns.csv")
    assert patterns.label.is_unique
    assignments = json.loads((out / "trace_patterns.json").read_text())
    assert {r["run_id"] for r in assignments} == set(fast_result.assignments.run_id)
    manifest = json.loads((out / "analysis.json").read_text())
    assert manifest["embedding_method"] == "tfidf+svd" and "embed" in manifest["timings_seconds"]


def test_patterns_found_in_planted_batch(fast_result: AnalysisResult) -> None:
    labels = " | ".join(fast_result.patterns.label)
    for code in ("routing loop", "stockout missed", "wheel trim conflict"):
        assert code in labels
    # the planted faults live only in version set v2: the version comparison must say so
    appears = fast_result.version_compare[fast_result.version_compare.change == "appears"]
    assert len(appears) >= 2


def test_labels_are_unique_even_when_candidates_clash() -> None:
    out = _unique(
        {
            1: ["pricing drift", "quote", "incentive"],
            2: ["pricing drift", "quote", "tariff"],
            3: ["pricing drift", "quote", "tariff"],
            4: ["stockout"],
        }
    )
    assert len(set(out.values())) == 4
    assert out[1] == "pricing drift · incentive"
    assert out[4] == "stockout"


def test_label_patterns_uses_distinctive_finding_codes() -> None:
    traces = pd.DataFrame(
        {
            "finding_codes": [["PRICE_DRIFT"]] * 6 + [["STOCKOUT"]] * 6,
            "failed_rubrics": [[]] * 12,
            "run_outcome": ["awaiting_review"] * 6 + ["blocked"] * 6,
            "finding_agents": [["PricingAgent"]] * 6 + [["SupplyAgent"]] * 6,
        }
    )
    docs = ["PricingAgent quote drift total"] * 6 + ["SupplyAgent stockout pack"] * 6
    import numpy as np

    table = label_patterns(traces, docs, np.array([0] * 6 + [1] * 6), top_n=5).table.set_index("cluster_id")
    assert table.loc[0, "label"] == "price drift → awaiting review"
    assert table.loc[1, "label"] == "stockout → blocked"
    assert table.loc[1, "owner"] == "SupplyAgent"
