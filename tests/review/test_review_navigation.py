"""The review app in real headless Chromium: sign-in links, search, previous / next within a filtered list,
the annotation queue, the attribution panel and a zipped batch served while it imports."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from .helpers import TOKEN, LiveServer, auth, run_id, write_analysis, write_batch

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("nav")
    batch = write_batch(root / "batch", count=6)
    analysis = write_analysis(root / "analysis", [run_id(1), run_id(3), run_id(5)])
    live = LiveServer(batch, extra={"analysis": str(analysis), "annotators": ["alice"]})
    yield live
    live.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context: not signed in."""
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield page
    context.close()
    assert [e for e in errors if "401" not in e] == []


def sign_in(page: Page, server: LiveServer, token: str = TOKEN) -> None:
    page.goto(server.url + "/")
    page.evaluate("token => localStorage.setItem('evswarm-review-token', token)", token)


def test_a_sign_in_link_signs_in_once(page: Page, server: LiveServer) -> None:
    links = server.signin_links()
    assert set(links) == {"server (admin)", "annotator alice"}, links
    page.goto(links["annotator alice"])
    expect(page.get_by_test_id("whoami")).to_have_text("signed in as alice (annotator)")
    assert "signin" not in page.url  # the code leaves the address at once
    expect(page.locator("#rows tr")).to_have_count(6)
    page.evaluate("localStorage.clear()")
    page.goto(links["annotator alice"])  # the same link again: refused, and the page says so
    expect(page.get_by_test_id("auth-notice")).to_contain_text("used already")
    expect(page.locator("#token-input")).to_be_visible()


def test_search_finds_tool_names_pattern_names_and_text(page: Page, server: LiveServer) -> None:
    sign_in(page, server)
    page.goto(server.url + "/?q=compute_quote")  # a tool every trace calls
    expect(page.locator("#count")).to_have_text("6 traces")
    page.goto(server.url + "/?q=pricing%20drift")  # a pattern name (from the analysis tables)
    expect(page.locator("#count")).to_have_text("3 traces")
    page.locator("#q").fill("federal incentive")  # words of the reasoning text
    page.locator("#q").press("Enter")
    expect(page.locator("#count")).to_have_text("6 traces")
    page.locator("#q").fill("no-such-words-anywhere")
    page.locator("#q").press("Enter")
    expect(page.locator("#count")).to_have_text("0 traces")


def test_previous_and_next_follow_the_filtered_list(page: Page, server: LiveServer) -> None:
    sign_in(page, server)
    page.goto(server.url + "/?case_type=pricing_exception_compound")
    expect(page.locator("#rows tr")).to_have_count(3)
    listed = page.locator("#rows tr").evaluate_all("rows => rows.map(r => r.dataset.traceId)")
    page.locator("#rows tr a.trace-link").first.click()
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    expect(page.locator("#trace-position")).to_have_text("1 of 3")
    expect(page.locator("#prev-trace")).to_have_attribute("aria-disabled", "true")
    page.locator("#next-trace").click()
    expect(page).to_have_url(f"{server.url}/traces/{listed[1]}?case_type=pricing_exception_compound")
    expect(page.locator("#trace-position")).to_have_text("2 of 3")
    page.keyboard.press("n")
    expect(page.locator("#trace-position")).to_have_text("3 of 3")
    expect(page.locator("#next-trace")).to_have_attribute("aria-disabled", "true")
    page.keyboard.press("p")
    expect(page).to_have_url(f"{server.url}/traces/{listed[1]}?case_type=pricing_exception_compound")


def test_the_queue_brings_unlabelled_traces_for_this_annotator(page: Page, server: LiveServer) -> None:
    token = httpx.post(server.url + "/api/annotators", json={"name": "quinn"}, headers=auth()).json()["token"]
    sign_in(page, server, token)
    page.goto(server.url + "/?version_set=v2_pricing")
    expect(page.locator("#queue")).to_contain_text("3 unlabelled by quinn")
    page.locator("#start-queue").click()
    for left in (2, 1, 0):
        expect(page.locator("body[data-ready='1']")).to_have_count(1)
        page.locator("fieldset[data-scheme='final_decision_quality'] input[value='pass']").check()
        page.locator("#label-form button[type=submit]").click()
        expect(page.locator("#save-status")).to_have_text("saved 1 label(s)")
        if left:
            expect(page.locator("#queue-next")).to_contain_text(f"({left} left)")
            page.locator("#queue-next").click()
    expect(page.locator("#queue-next")).to_have_text("queue done: nothing left to label")
    labelled = httpx.get(server.url + "/api/annotations/export", headers=auth(token)).text.splitlines()
    assert len(labelled) == 3


def test_the_attribution_panel_links_its_step_and_a_responsible_step_is_labelled(
    page: Page, server: LiveServer
) -> None:
    token = httpx.post(server.url + "/api/annotators", json={"name": "rae"}, headers=auth()).json()["token"]
    sign_in(page, server, token)
    page.goto(f"{server.url}/traces/{run_id(1)}")
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    panel = page.locator("#attribution")
    expect(panel).to_contain_text("PricingAgent")
    expect(panel.locator("table.parts")).to_contain_text("deviation")
    expect(panel).to_contain_text("cited by a grade")
    expect(panel.locator("#suspect-rule")).to_contain_text("chosen by: contrast with peers")
    expect(panel.locator(".baselines")).to_contain_text("agent with most steps")
    panel.locator("button.step-link").first.click()  # the suspect step: the PricingAgent model turn
    expect(page.locator("#reasoning .card.linked")).to_contain_text("federal incentive")
    expect(page.locator("#reasoning .card.suspect")).to_have_count(1)
    expect(page.locator(".duration").first).to_contain_text("s")  # span times in the panes
    page.locator("fieldset[data-scheme='responsible_step'] button.take-step").click()
    expect(page.locator(".responsible-shown")).to_contain_text("PricingAgent")
    page.locator("#label-form button[type=submit]").click()
    expect(page.locator("#save-status")).to_have_text("saved 1 label(s)")
    rows = [
        json.loads(line)
        for line in httpx.get(server.url + "/api/annotations/export", headers=auth(token)).text.splitlines()
    ]
    assert rows[0]["scheme"] == "responsible_step" and rows[0]["value"]["agent"] == "PricingAgent"
    # a report's step link opens the trace with that step selected
    page.goto(f"{server.url}/traces/{run_id(1)}?step=span_{run_id(1)[-8:]}_0005")
    expect(page.locator("#calls .card.cited")).to_contain_text("compute_quote")


def test_a_zipped_batch_is_served_and_imported_in_the_background(page: Page, tmp_path: Path) -> None:
    source = write_batch(tmp_path / "source", count=5)
    batch = tmp_path / "zipped"
    batch.mkdir()
    with zipfile.ZipFile(batch / "bundles.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for bundle in sorted((source / "bundles").iterdir()):
            archive.write(bundle, bundle.name)
    (batch / "eval_labels.jsonl").write_bytes((source / "eval_labels.jsonl").read_bytes())
    live = LiveServer(batch)
    try:
        status = httpx.get(live.url + "/api/status", headers=auth()).json()
        assert status["traces"] == 5 and status["import_error_count"] == 0
        assert status["loading"]["total"] == 5 and status["loading"]["done"] == 5
        sign_in(page, live)
        page.goto(live.url + "/")
        expect(page.locator("#rows tr")).to_have_count(5)
        expect(page.locator("#import-progress")).to_be_hidden()
        page.goto(f"{live.url}/traces/{run_id(1)}")
        expect(page.locator(".grade.fail")).to_contain_text("final_decision_quality")
    finally:
        live.stop()
