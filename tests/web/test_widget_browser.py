"""The widget in a real browser: Debian's Chromium driven by Playwright,
against the gateway, Rasa and the action server as real processes."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.core.config import Settings
from tests.engine import bot_cli, running_engine
from tests.web.browser import SCREENSHOTS, bot_messages, send, shoot, wait_until_panel_fills, watch_problems

pytestmark = pytest.mark.engine

TRACKING = "9400111899223100000000"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with running_engine(tmp_path_factory.mktemp("browser"), with_gateway=True, with_worker=True) as (_, settings):
        yield settings


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    yield page
    context.close()


def _store_messages(settings: Settings) -> int:
    with sqlite3.connect(settings.var_dir / "store.db") as db:
        return db.execute("SELECT count(*) FROM messages WHERE sender = 'store'").fetchone()[0]


def test_anonymous_shopper_tracks_an_order_and_finds_it_after_a_reload(gateway: Settings, page: Page) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{gateway.gateway_url}/?shopper=anonymous")
    expect(page.get_by_test_id("asw-launcher")).to_be_visible()
    page.get_by_test_id("asw-launcher").click()
    expect(page.get_by_test_id("asw-panel")).to_be_visible()
    expect(page.get_by_test_id("asw-input")).to_be_focused()

    send(page, "where is my order FZ-20931?")
    expect(bot_messages(page).last).to_contain_text("email address or the shipping postcode", timeout=30_000)
    send(page, "alex@example.com")
    expect(page.get_by_test_id("asw-message").filter(has_text=TRACKING).first).to_be_visible(timeout=30_000)
    shoot(page, "widget-order-status.png")

    page.reload()
    page.get_by_test_id("asw-launcher").click()
    expect(page.get_by_test_id("asw-message").filter(has_text="where is my order FZ-20931?")).to_have_count(1)
    expect(page.get_by_test_id("asw-message").filter(has_text=TRACKING).first).to_be_visible()
    shoot(page, "widget-after-reload.png")


def test_signed_shopper_picks_an_order_from_quick_replies(gateway: Settings, page: Page) -> None:
    page.goto(f"{gateway.gateway_url}/")
    page.get_by_test_id("asw-launcher").click()
    send(page, "where is my order")
    choice = page.get_by_test_id("asw-quick-reply").filter(has_text="FZ-20931")
    expect(choice).to_be_visible(timeout=30_000)
    choice.click()
    expect(page.get_by_test_id("asw-message").filter(has_text=TRACKING).first).to_be_visible(timeout=30_000)
    shoot(page, "widget-signed-shopper.png")


def test_hostile_text_is_shown_as_text_and_never_runs(gateway: Settings, page: Page) -> None:
    page.goto(f"{gateway.gateway_url}/?shopper=anonymous")
    page.get_by_test_id("asw-launcher").click()
    hostile = '<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>'
    send(page, hostile)
    shown = page.locator('[data-testid="asw-message"][data-sender="shopper"]').last
    expect(shown).to_have_text(re.compile(re.escape(hostile)))
    expect(bot_messages(page).first).to_be_visible(timeout=30_000)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#aftersales-widget img[src='x']").count() == 0
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_phone_width_fills_the_screen_and_escape_closes(gateway: Settings, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(f"{gateway.gateway_url}/?shopper=anonymous")
        page.get_by_test_id("asw-launcher").click()
        wait_until_panel_fills(page, 390, 844)
        shoot(page, "widget-phone.png")
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("asw-panel")).to_be_hidden()
        expect(page.get_by_test_id("asw-launcher")).to_be_focused()
    finally:
        context.close()


def test_the_delivery_confirmation_waits_unread_for_the_signed_in_shopper(gateway: Settings, browser: Browser) -> None:
    """The story's scene: Alex comes home, opens the store's site, and the
    store's delivery confirmation with the manual is waiting for him."""
    result = bot_cli(
        gateway,
        "tracking-event",
        "--store",
        "yangteng-auto",
        "--tracking-number",
        TRACKING,
        "--tag",
        "Delivered",
        "--message",
        "Delivered, front garden",
        "--location",
        "New York, NY 10027",
        "--event-id",
        "browser-delivered",
    )
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 60
    while _store_messages(gateway) < 3:  # the worker writes them within a second or two
        assert time.monotonic() < deadline, "the delivery confirmation never reached the transcript"
        time.sleep(0.5)
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    try:
        page.goto(f"{gateway.gateway_url}/")
        badge = page.get_by_test_id("asw-unread")
        expect(badge).to_be_visible(timeout=30_000)  # the worker has written by then
        assert int(badge.inner_text()) >= 3
        shoot(page, "widget-unread-delivery.png")
        page.get_by_test_id("asw-launcher").click()
        store_messages = page.locator('[data-testid="asw-message"][data-sender="store"]')
        expect(store_messages.first).to_contain_text("your order FZ-20931 was delivered")
        pdf = page.locator('[data-testid="asw-attachment"][data-type="pdf"]')
        expect(pdf.first).to_be_visible()
        expect(pdf.first).to_contain_text("installation manual")
        expect(badge).to_be_hidden()
        shoot(page, "widget-delivery-confirmation.png")
    finally:
        context.close()


def test_gateway_logs_never_contain_conversation_tokens(gateway: Settings) -> None:
    log = (gateway.var_dir / "logs" / "gateway.log").read_text(errors="replace")
    assert "/ws" in log  # the widget's websocket was logged…
    assert "token=" not in log  # …without its token


#: A store page that embeds the chat (a "contact us" page, or the seller console's test frame).
EMBEDDED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Contact us</title><link rel="icon" href="data:,"></head>
<body><script src="/widget.js" data-store="yangteng-auto" data-title="Yangteng Auto Parts" data-open="always"></script></body>
</html>"""


def test_embedded_widget_is_open_from_the_start_and_cannot_be_closed(gateway: Settings, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 640, "height": 720})
    page = context.new_page()
    problems = watch_problems(page)
    try:
        # The page is made up here, written into a document of the gateway's own origin (a page that
        # Playwright serves itself would count as a public site, and Chromium's local network access
        # checks would refuse its websocket to 127.0.0.1); the widget, its API and the assistant are real.
        page.goto(f"{gateway.gateway_url}/healthz")
        page.set_content(EMBEDDED_PAGE)
        panel = page.get_by_test_id("asw-panel")
        expect(panel).to_be_visible()  # no click
        expect(panel).to_have_attribute("role", "region")
        expect(page.get_by_test_id("asw-launcher")).to_be_hidden()
        expect(page.get_by_test_id("asw-close")).to_be_hidden()
        expect(page.get_by_test_id("asw-input")).not_to_be_focused()  # the page keeps its focus
        wait_until_panel_fills(page, 640, 720)  # wider than a phone, and still the whole page

        send(page, "hi")
        expect(bot_messages(page).last).to_contain_text("after-sales assistant", timeout=30_000)
        # Nothing closes it: neither Escape nor the page's script.
        page.get_by_test_id("asw-input").press("Escape")
        page.evaluate("window.AftersalesWidget.close()")
        expect(panel).to_be_visible()
        shoot(page, "widget-embedded.png")
        # The one 404: the browser asked the JSON page for /favicon.ico before the page was written.
        assert [p for p in problems if not p.endswith("/favicon.ico]")] == []
    finally:
        context.close()
