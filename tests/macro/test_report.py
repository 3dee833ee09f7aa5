from __future__ import annotations

import json
import re

import pandas as pd
import pytest

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


@pytest.mark.browser
def test_report_fits_1280_px_without_console_warnings_and_draws_every_figure(fast_result: AnalysisResult) -> None:
    from tests.browser import chromium

    messages: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
        page.goto(fast_result.report_path.as_uri())
        page.wait_for_selector("body[data-ready='1']")
        page.eval_on_selector_all("details:not([open])", "boxes => boxes.forEach(b => { b.open = true; })")
        figures = page.locator(".fig[data-figure]")
        for index in range(figures.count()):  # scrolled to, each figure is drawn
            figures.nth(index).scroll_into_view_if_needed()
            page.wait_for_function(
                "el => el.dataset.drawn === '1' && el.querySelector('.main-svg')",
                arg=figures.nth(index).element_handle(),
            )
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        wide = page.evaluate(
            "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > "
            "document.documentElement.clientWidth + 1).map(e => e.tagName + '#' + e.id).slice(0, 5)"
        )
        browser.close()
    assert overflow <= 0 and wide == [], wide
    assert messages == []


def test_report_names_no_pseudo_step_and_no_nan_suspect(fast_result: AnalysisResult) -> None:
    html = fast_result.report_path.read_text(encoding="utf-8")
    visible = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert ">nan<" not in visible.lower() and "suspect nan" not in visible.lower()
    assert "· agent" not in visible and "· status" not in visible
    stories = re.findall(r'<ol class="chain">(.*?)</ol>', visible, flags=re.S)
    assert stories, "a story with a chain for at least one pattern"
    for chain in stories:
        assert chain.count('class="suspect"') == 1 and chain.count('class="anchor"') == 1
        assert 'status change</span> <span class="role">went wrong' not in chain
        assert re.search(r'href="http://127\.0\.0\.1:8765/traces/run_[^"]+\?step=[^"]+"', chain)
