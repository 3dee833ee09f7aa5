"""The review app shows a pattern's history over the chain of analyses (`OUT/lineage.json`) where it shows the
pattern: in the trace view's API and, in real headless Chromium, on the trace page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from evswarm.core.lineage import Lineage, LineageStep, PatternLineage, PatternState, write_lineage

from .helpers import TOKEN, LiveServer, auth, import_errors, run_id, write_analysis, write_batch

PREVALENCES = (0.1, 0.25, 0.5)


def write_chain(analysis: Path, label: str = "pricing drift") -> Lineage:
    """A three-step chain in which pattern 1 continues throughout and pattern 2 went at the second step."""
    steps = [
        LineageStep(step=k, batch=f"release-{k}", previous=None if k == 1 else f"out-{k - 1}", traces=100,
                    analyzed=40, fitted=0 if k == 1 else 30)
        for k in (1, 2, 3)
    ]  # fmt: skip
    one = PatternLineage(
        pattern_id=1, label=label, centroid=[1.0, 0.0], radius=0.1,
        history=[
            PatternState(step=k, status="new" if k == 1 else "continuing", label=label, trace_count=int(p * 100),
                         prevalence=p, fitted=0 if k == 1 else int(p * 100), related=[],
                         basis="clustering" if k == 1 else "assignment")
            for k, p in zip((1, 2, 3), PREVALENCES, strict=True)
        ],
    )  # fmt: skip
    two = PatternLineage(
        pattern_id=2, label="stale tariff", centroid=[0.0, 1.0], radius=0.1,
        history=[
            PatternState(step=1, status="new", label="stale tariff", trace_count=8, prevalence=0.08, fitted=0,
                         related=[]),
            PatternState(step=2, status="gone", label="stale tariff", trace_count=0, prevalence=0.0, fitted=1,
                         related=[]),
        ],
    )  # fmt: skip
    chain = Lineage(embedder="test/v1", dimensions=2, fit_quantile=0.95, steps=steps, next_id=3, patterns=[one, two])
    write_lineage(analysis, chain)
    return chain


def test_the_trace_view_carries_its_patterns_status_and_history(make_client, batch: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    analysis = write_analysis(tmp_path / "analysis", [run_id(1), run_id(3)])
    write_chain(analysis)
    client = make_client(batch, analysis=analysis)
    info = client.get(f"/api/traces/{run_id(1)}", headers=auth()).json()["pattern_info"]
    assert info["status"] == "continuing" and info["steps"] == 3 and info["basis"] == "assignment"
    assert [h["basis"] for h in info["history"]] == ["clustering", "assignment", "assignment"]
    assert [(h["step"], h["batch"], h["status"], h["prevalence"]) for h in info["history"]] == [
        (1, "release-1", "new", 0.1),
        (2, "release-2", "continuing", 0.25),
        (3, "release-3", "continuing", 0.5),
    ]


def test_an_analysis_without_lineage_shows_no_history_and_a_bad_lineage_is_an_import_error(
    make_client,  # type: ignore[no-untyped-def]
    batch: Path,
    tmp_path: Path,
) -> None:
    analysis = write_analysis(tmp_path / "analysis", [run_id(1)])
    client = make_client(batch, analysis=analysis)
    info = client.get(f"/api/traces/{run_id(1)}", headers=auth()).json()["pattern_info"]
    assert info["status"] is None and info["history"] == []
    (analysis / "lineage.json").write_text('{"format": "evswarm.lineage.v1", "embedder": 3}')
    client.app.state.review.analysis.reload(client.app.state.review.store)
    errors = {e["source"]: e["message"] for e in import_errors(client)}
    assert "field `embedder`" in errors[str(analysis / "lineage.json")]
    assert client.get(f"/api/traces/{run_id(1)}", headers=auth()).json()["pattern_info"]["history"] == []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("lineage-browser")
    batch = write_batch(root / "batch", count=4)
    analysis = write_analysis(root / "analysis", [run_id(1), run_id(3)])
    write_chain(analysis)
    live = LiveServer(batch, extra={"analysis": str(analysis)})
    yield live
    live.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    context.add_init_script(f"localStorage.setItem('evswarm-review-token', {TOKEN!r});")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


@pytest.mark.browser
def test_the_trace_page_draws_the_patterns_history_beside_it(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/traces/{run_id(1)}")
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    history = page.locator("#pattern-history")
    expect(history.locator("#pattern-status")).to_have_text("continuing")
    expect(history.locator("h4")).to_have_text("History over 3 analyses")
    expect(history.locator("svg.spark circle")).to_have_count(3)
    expect(history.locator("ol.history li")).to_have_count(3)
    expect(history.locator("#pattern-basis")).to_have_text("carried over by assignment")
    expect(history.locator("ol.history li").nth(0)).to_contain_text("release-1: new · 10% of runs")
    expect(history.locator("ol.history li").nth(2)).to_contain_text(
        "release-3: continuing (by assignment) · 50% of runs"
    )
    label = history.locator("svg.spark").get_attribute("aria-label") or ""
    assert label.endswith("10%, 25%, 50%")
    # the line rises: the last point is the highest (smallest y)
    ys = [float(c.get_attribute("cy") or "nan") for c in history.locator("svg.spark circle").all()]
    assert ys[0] > ys[1] > ys[2]
    page.goto(f"{server.url}/traces/{run_id(0)}")  # not in a pattern: no history
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    expect(page.locator("#pattern-history")).to_have_count(0)
