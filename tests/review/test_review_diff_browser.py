"""The side-by-side diff in real headless Chromium: a run and its twin aligned row by row, the first
divergence highlighted and in view, changed outputs marked word by word, an inserted step on its own row,
the final answers compared; the trace page linking to its twins and comparing with any trace."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from evswarm.core.analysis import read_table, write_table
from evswarm.core.causes import CounterfactualRunRow
from tests.browser import chromium

from .helpers import TOKEN, LiveServer, run_id, write_batch
from .twins import REAL_AGENT, REVERT, RealPair, simulate_real_pair, twin_dir, write_twins

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def real_pair(tmp_path_factory: pytest.TempPathFactory) -> RealPair:
    return simulate_real_pair(tmp_path_factory.mktemp("real-pair"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, real_pair: RealPair) -> Iterator[LiveServer]:
    """The hand-made batch with its twins, plus the real simulated run and its reverted twin."""
    root = tmp_path_factory.mktemp("diff")
    batch = write_batch(root / "batch", count=3)
    analysis = write_twins(batch, root / "analysis")
    real = f"{real_pair.run_id}.json"
    shutil.copyfile(real_pair.batch / "bundles" / real, batch / "bundles" / real)
    twin_dir(analysis, real_pair.slug).mkdir(parents=True)
    shutil.copyfile(twin_dir(real_pair.analysis, real_pair.slug) / real, twin_dir(analysis, real_pair.slug) / real)
    rows = read_table(analysis, CounterfactualRunRow)
    rows.append(rows[0].model_copy(update={"run_id": real_pair.run_id, "intervention": real_pair.slug}))
    write_table(analysis, CounterfactualRunRow, rows)
    live = LiveServer(batch, extra={"analysis": str(analysis)})
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Browser]:
    """Started after the server, whose pair is simulated first (see `simulate_real_pair`)."""
    with chromium() as instance:
        yield instance


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 800})
    context.add_init_script(f"localStorage.setItem('evswarm-review-token', {TOKEN!r})")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield page
    context.close()
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []  # a 404 a test asks for


def open_diff(page: Page, server: LiveServer, query: str) -> None:
    page.goto(f"{server.url}/diff?{query}")
    expect(page.locator("body[data-ready='1']")).to_have_count(1)


def row_with(page: Page, side: str, tool: str) -> Locator:
    return page.locator(".diff-row", has=page.locator(f".diff-cell.{side} code.tool", has_text=tool))


def in_view(page: Page, node: Locator) -> bool:
    box = node.bounding_box()
    assert box is not None
    return bool(0 <= box["y"] + box["height"] / 2 <= page.viewport_size["height"])  # type: ignore[index]


def test_a_run_and_its_twin_side_by_side(page: Page, server: LiveServer) -> None:
    open_diff(page, server, f"left={run_id(0)}&twin={REVERT}")
    first = page.locator(".diff-row.first-diff")
    expect(first).to_have_count(1)
    expect(first).to_have_attribute("data-op", "changed")
    expect(first.locator(".diff-cell.left code.tool")).to_have_text("compute_quote")
    expect(first.locator(".diff-cell.left del.word")).to_have_text(["48250.0"])  # the output, word by word
    expect(first.locator(".diff-cell.right ins.word")).to_have_text(["47900.0"])
    expect(first.locator(".diff-field")).to_have_count(2)  # the output, on each side
    expect(first.locator(".diff-field[data-field=result]")).to_have_count(2)
    # the inserted stock check is a row of its own, only on the right; the handback after it is aligned
    inserted = row_with(page, "right", "check_stock")
    expect(inserted).to_have_attribute("data-op", "added")
    expect(inserted.locator(".diff-cell.left.gap")).to_contain_text("not in the left trace")
    handback = row_with(page, "left", "transfer_to_orchestrator")
    expect(handback).to_have_attribute("data-op", "same")
    expect(handback.locator(".diff-cell.right code.tool")).to_have_text("transfer_to_orchestrator")
    left, right = (handback.locator(f".diff-cell.{s} .dstep").bounding_box() for s in ("left", "right"))
    assert left and right and abs(left["y"] - right["y"]) < 1 and right["x"] > left["x"] + left["width"]
    expect(handback.locator(".step-no")).to_have_text(["#6", "#8"])
    # every row puts its two sides on one line
    tops = page.eval_on_selector_all(
        ".diff-rows .diff-row",
        "rows => rows.map(r => [...r.querySelectorAll(':scope > .diff-cell')]"
        ".map(c => Math.round(c.getBoundingClientRect().top)))",
    )
    assert tops and all(len(pair) == 2 and pair[0] == pair[1] for pair in tops), tops
    expect(page.locator("#left-link")).to_have_attribute("href", f"/traces/{run_id(0)}")
    expect(page.locator("#right-head")).to_contain_text("PricingAgent runs the reference version's policy")
    expect(page.locator("#answers-title")).to_have_text("Final answers are the same")
    expect(page.locator("[data-count='added']")).to_contain_text("2 only right")


def test_the_first_divergence_of_a_real_pair_is_scrolled_into_view(
    page: Page, server: LiveServer, real_pair: RealPair
) -> None:
    open_diff(page, server, f"left={real_pair.run_id}&twin={real_pair.slug}")
    first = page.locator(".diff-row.first-diff")
    expect(first.locator(".diff-cell.left .agent-chip")).to_have_text(REAL_AGENT)
    expect(first).to_be_focused()
    assert in_view(page, first)
    assert page.evaluate("window.scrollY") > 0  # the page moved down to it
    expect(page.locator(".diff-row[data-op='removed']").first).to_contain_text("PricingExceptionAgent")
    expect(page.locator("#answers")).to_have_class("diff-answers changed")
    expect(page.locator("#answer-left del.word").first).to_be_visible()
    # j steps to the next difference; only-differences hides the unchanged rows far from them
    page.keyboard.press("j")
    expect(page.locator(".diff-row.current")).to_have_count(1)
    expect(page.locator(".diff-row.current.first-diff")).to_have_count(0)
    same = page.locator(".diff-row[data-op='same']:visible")
    before = same.count()
    page.locator("#only-diffs").check()
    expect(same).not_to_have_count(before)
    expect(page.locator(".diff-row.first-diff")).to_be_visible()


def test_the_trace_page_links_to_its_twins_and_compares_with_any_trace(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/traces/{run_id(0)}")
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    twins = page.locator("#twins li")
    expect(twins).to_have_count(2)
    expect(twins.first).to_contain_text("symptoms gone")
    expect(twins.first).to_contain_text("price_mismatch → none")
    twins.first.locator("a.twin-link").click()
    expect(page).to_have_url(f"{server.url}/diff?left={run_id(0)}&twin={REVERT}")
    expect(page.locator(".diff-row.first-diff")).to_have_count(1)
    page.goto(f"{server.url}/traces/{run_id(1)}")
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    expect(page.locator("#twins li")).to_have_count(0)
    page.locator("#compare-input").fill(run_id(0))
    page.locator("#compare-form button").click()
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    expect(page.locator("#verdict")).to_have_text("The traces are the same.")
    expect(page.locator("#right-link")).to_have_attribute("href", f"/traces/{run_id(0)}")


def test_a_missing_twin_says_so(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/diff?left={run_id(1)}&twin={REVERT}")
    expect(page.locator("body[data-ready='error']")).to_have_count(1)
    expect(page.locator("#title")).to_contain_text("has no twin under agent-PricingAgent")
