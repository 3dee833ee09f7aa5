"""The review app in real headless Chromium (Playwright, Debian's /usr/bin/chromium)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from .bundles import make_bundle
from .helpers import TOKEN, LiveServer, auth, run_id, write_batch

pytestmark = pytest.mark.browser

XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
XSS_ID = "run_" + "e" * 32


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = write_batch(tmp_path_factory.mktemp("browser") / "batch", count=3)
    long_output = json.dumps({"lines": [f"row {i}" for i in range(60)]})
    hostile = make_bundle(
        XSS_ID,
        quote_output=XSS + "\n" + long_output.replace(",", ",\n"),
        pricing_reasoning="Thinking about " + XSS,
        extra_tool_turns=2,
    )
    (root / "bundles" / f"{XSS_ID}.json").write_text(json.dumps(hostile))
    live = LiveServer(root, extra={"collapse_lines": 10, "pane_labels": ["Thoughts", "", "Decision"]})
    yield live
    live.stop()


TOKEN_KEY = "evswarm-review-token"
# Each test's browser starts signed in with the server token (once: signing out or in again sticks).
SIGNED_IN = (
    "if (!localStorage.getItem('test-seeded')) {"
    f" localStorage.setItem({TOKEN_KEY!r}, {TOKEN!r}); localStorage.setItem('test-seeded', '1'); }}"
)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1500, "height": 950}, accept_downloads=True)
    context.add_init_script(SIGNED_IN)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def open_trace(page: Page, server: LiveServer, trace_id: str) -> None:
    page.goto(f"{server.url}/traces/{trace_id}")
    expect(page.locator("body[data-ready='1']")).to_have_count(1)


def test_three_panes_show_the_right_content_for_a_known_trace(page: Page, server: LiveServer) -> None:
    open_trace(page, server, run_id(1))
    expect(page.locator(".pane-label")).to_have_text(["Thoughts", "Function Calls", "Decision"])
    reasoning = page.locator("#reasoning .card")
    expect(reasoning).to_have_count(4)
    expect(reasoning.nth(1)).to_contain_text("federal incentive")
    expect(reasoning.nth(1).locator(".agent-chip")).to_have_text("PricingAgent")
    quote = page.locator("#calls .card", has=page.locator("code.tool", has_text="compute_quote"))
    expect(quote.locator(".result")).to_contain_text('"total": 48250.0')
    expect(page.locator("#calls .card code.handoff")).to_have_count(2)
    expect(page.locator("#answer .card")).to_contain_text("release")
    expect(page.locator("#answer .decision")).to_contain_text("FAC-AUSTIN")
    # grades beside the panes, linked to the steps they cite
    failing = page.locator(".grade.fail")
    expect(failing).to_contain_text("final_decision_quality")
    failing.locator("button.cite").click()
    expect(page.locator("#calls .card.cited")).to_contain_text("compute_quote")
    # panes scroll independently
    overflow = page.eval_on_selector_all(".pane-body", "nodes => nodes.map(n => getComputedStyle(n).overflowY)")
    assert overflow == ["auto", "auto", "auto"]


def test_click_and_keyboard_link_steps_across_panes(page: Page, server: LiveServer) -> None:
    open_trace(page, server, run_id(0))
    thought = page.locator("#reasoning .card", has_text="federal incentive")
    thought.click()
    linked = page.locator(".card.linked")
    expect(linked).to_have_count(2)
    expect(page.locator("#calls .card.linked")).to_contain_text("compute_quote")
    expect(thought).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("j")  # next step: PricingAgent hands back
    expect(page.locator("#calls .card.linked code.tool")).to_have_text("transfer_to_orchestrator")
    page.keyboard.press("j")  # the final turn: its reasoning and the answer are linked
    expect(page.locator("#answer .card.linked")).to_have_count(1)
    expect(page.locator("#reasoning .card.linked")).to_contain_text("releasing the order")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("k")
    expect(page.locator("#reasoning .card.linked")).to_contain_text("federal incentive")
    expect(page.locator("#announce")).to_contain_text("Step 2 of 4")
    page.keyboard.press("Escape")
    expect(page.locator(".card.linked")).to_have_count(0)
    page.locator("#calls .card").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#reasoning .card.linked")).to_contain_text("pricing must quote it first")


def test_long_outputs_collapse_and_expand_and_hostile_text_stays_text(page: Page, server: LiveServer) -> None:
    open_trace(page, server, XSS_ID)
    result = page.locator("#calls .card", has=page.locator("code.tool", has_text="compute_quote")).locator(".result")
    collapsible = result.locator(".collapsible")
    expect(collapsible).to_have_class("collapsible collapsed")
    expect(collapsible.locator("pre")).not_to_contain_text("row 59")
    toggle = collapsible.locator("button.expand")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(collapsible.locator("pre")).to_contain_text("row 59")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(collapsible.locator("pre")).not_to_contain_text("row 59")
    # script and HTML in tool output and reasoning are shown as text, never run
    expect(result.locator("pre")).to_contain_text("<script>window.__xss = 1</script>")
    expect(page.locator("#reasoning")).to_contain_text('<img src=x onerror="window.__xss = 2">')
    assert page.locator("#reasoning img, #calls img, #calls script").count() == 0
    assert page.evaluate("window.__xss") is None


def test_annotation_is_saved_and_exported(page: Page, server: LiveServer, tmp_path: Path) -> None:
    token = httpx.post(f"{server.url}/api/annotators", json={"name": "carol"}, headers=auth()).json()["token"]
    open_trace(page, server, run_id(2))
    expect(page.locator("[data-testid=whoami]")).to_contain_text("admin")
    page.locator(".signin-box button", has_text="sign out").click()
    page.fill("#token-input", token)
    page.locator(".signin button[type=submit]").click()
    expect(page.locator("[data-testid=whoami]")).to_contain_text("carol")
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    page.locator("#reasoning .card", has_text="federal incentive").click()
    page.check("#attach-step")
    page.check("input[name='scheme-final_decision_quality'][value='fail']")
    page.check("input[name='scheme-reasoning_quality'][value='4']")
    page.fill("textarea[name='scheme-note']", "price <b>looks</b> off")
    page.locator("#label-form button[type=submit]").click()
    expect(page.locator("#save-status")).to_have_text("saved 3 label(s)")
    with page.expect_download() as download_info:
        page.click("#export-jsonl")
    exported = Path(download_info.value.path()).read_text()
    rows = [json.loads(line) for line in exported.splitlines()]
    mine = {r["scheme"]: r for r in rows if r["annotator"] == "carol"}
    assert mine["final_decision_quality"]["value"] == "fail"
    assert mine["reasoning_quality"]["value"] == 4
    assert mine["note"]["value"] == "price <b>looks</b> off"
    assert mine["note"]["trace_id"] == run_id(2) and len(mine["note"]["content_hash"]) == 64
    assert mine["note"]["step_ids"] == [f"span_{run_id(2)[-8:]}_0004.0", f"span_{run_id(2)[-8:]}_0004.1"]
    # reload: the form shows the saved labels
    page.reload()
    expect(page.locator("input[name='scheme-final_decision_quality'][value='fail']")).to_be_checked()


def test_trace_posted_to_the_webhook_appears_on_an_open_list_page(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/")
    expect(page.locator("body[data-live='1']")).to_have_count(1)
    expect(page.locator("#rows tr").first).to_be_visible()
    payload = {
        "id": "live-hook-1",
        "title": "posted while watching",
        "trace": [
            {"speaker": "Agent (Thought)", "text": "hi"},
            {"speaker": "Agent (Final Answer)", "text": "ok"},
        ],
    }
    response = httpx.post(f"{server.url}/api/traces", json=payload, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 201
    expect(page.locator("#rows tr[data-trace-id='live-hook-1']")).to_be_visible()
    expect(page.locator("#new-traces")).to_contain_text("live-hook-1")
    page.locator("#rows tr[data-trace-id='live-hook-1'] a").click()
    expect(page.locator("#answer .card")).to_contain_text("ok")


@pytest.fixture
def signed_out_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def test_without_a_token_the_pages_show_no_traces_until_signed_in(signed_out_page: Page, server: LiveServer) -> None:
    page = signed_out_page
    page.goto(server.url + "/")
    expect(page.locator("[data-testid=auth-notice]")).to_contain_text("Reads need a token")
    expect(page.locator("body[data-auth='needed']")).to_have_count(1)
    expect(page.locator("#rows tr")).to_have_count(0)
    page.fill("#token-input", TOKEN)
    page.locator(".signin button[type=submit]").click()
    expect(page.locator("#rows tr").first).to_be_visible()
    expect(page.locator("[data-testid=auth-notice]")).to_have_count(0)
    expect(page.locator("body[data-live='1']")).to_have_count(1)  # the stream opened with a ticket
    page.goto(f"{server.url}/traces/{run_id(1)}")
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    page.evaluate("localStorage.clear()")
    page.goto(f"{server.url}/agreement")
    expect(page.locator("body[data-auth='needed']")).to_have_count(1)
    page.goto(f"{server.url}/traces/{run_id(1)}")
    expect(page.locator("body[data-ready='auth']")).to_have_count(1)
    expect(page.locator("#title")).to_have_text("Sign in to see this trace")


@pytest.mark.parametrize("address", ["/traces/%E0%A4%A", "/traces/%", "/traces/%ZZabc"])
def test_a_malformed_escape_in_the_trace_address_says_so_instead_of_hanging(
    page: Page, server: LiveServer, address: str
) -> None:
    page.goto(server.url + address)
    expect(page.locator("body[data-ready='error']")).to_have_count(1)
    expect(page.locator("#title")).to_contain_text("No such trace")
