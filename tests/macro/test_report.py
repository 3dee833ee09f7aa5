from __future__ import annotations

import json
import re

import pandas as pd

from evswarm.macro import AnalysisResult
from evswarm.macro.naming import _unique, label_patterns

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
        assert f'id="story-p{pid}"' in html and f'data-figure="fig-suspects-p{pid}"' in html, pid
    # plotly.js inlined exactly once, after the content, and no script is fetched from the network
    assert html.count("plotly.js v") <= 2 and len(re.findall(r"<script[^>]*src=", html)) == 0
    assert html.count('<script type="text/javascript">/**') == 1
    assert html.index('<script type="text/javascript">/**') > html.index('id="table-lift"')
    assert 'id="summary"' in html and html.index('id="summary"') < html.index("fig-impact-leaderboard")
    assert 'id="table-lift"' in html and 'id="table-version-compare"' in html


def test_tables_are_written_beside_the_report(fast_result: AnalysisResult) -> None:
    out = fast_result.out_dir
    for name in ("patterns", "trace_patterns", "lift", "version_compare", "suspects", "suspect_steps", "attribution"):
        assert (out / f"{name}.csv").is_file()
        rows = json.loads((out / f"{name}.json").read_text())
        assert isinstance(rows, list) and rows, name
    patterns = pd.read_csv(out / "patterns.csv")
    assert patterns.label.is_unique
    assignments = json.loads((out / "trace_patterns.json").read_text())
    assert {r["run_id"] for r in assignments} == set(fast_result.assignments.run_id)
    manifest = json.loads((out / "analysis.json").read_text())
    assert manifest["embedding_method"] == "tfidf+svd" and "embed" in manifest["timings_seconds"]


def test_tables_read_back_through_their_core_models(fast_result: AnalysisResult) -> None:
    from evswarm.core.analysis import ALL_TABLES, read_table

    for model in ALL_TABLES:
        rows = read_table(fast_result.out_dir, model)
        assert rows, model.TABLE
    steps = read_table(fast_result.out_dir, ALL_TABLES[5])
    assert {s.run_id for s in steps} == set(fast_result.assignments.run_id)  # every analyzed trace is attributed


def test_patterns_found_in_planted_batch(fast_result: AnalysisResult) -> None:
    # the planted faults live only in version set v2: the version comparison must say so
    appears = fast_result.version_compare[fast_result.version_compare.change == "appears"]
    assert len(appears) >= 2
    assert set(appears.version_set) == {"v2"}


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


def test_label_patterns_names_a_pattern_by_its_distinctive_symptom_then_behavior() -> None:
    import numpy as np

    traces = pd.DataFrame(
        {
            "symptoms": [["price_mismatch quote below"]] * 6 + [["signal_ignored stockout"]] * 6 + [[]] * 6,
            "run_outcome": ["completed"] * 6 + ["blocked"] * 6 + ["failed"] * 6,
        }
    )
    docs = (
        ["symptom price_mismatch quote below\nPricingAgent generation compute_quote call tariff_ids=[0]"] * 6
        + ["symptom signal_ignored stockout\nSupplyAgent generation transfer call transfer short=[0]"] * 6
        + ["RiskAgent handoff to SupplyAgent\nended failed"] * 6
    )
    labels = np.array([0] * 6 + [1] * 6 + [2] * 6)
    table = label_patterns(traces, docs, labels, top_n=5).table.set_index("cluster_id")
    assert table.loc[0, "label"] == "price mismatch quote below"
    assert table.loc[1, "label"] == "signal ignored stockout → blocked"
    assert table.loc[2, "label"].startswith("RiskAgent") and table.loc[2, "label"].endswith("→ failed")
