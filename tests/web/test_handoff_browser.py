"""Handoff end to end in a real browser: a shopper's widget and an agent's
console side by side (two pages of Debian's Chromium), against the gateway,
Rasa and the action server as real processes, with the demo agent whose
password was generated at setup."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.core.config import Settings
from bot.runtime.demo import read_demo_agents
from tests.engine import running_engine
from tests.web.browser import SCREENSHOTS, bot_messages, send, shoot

pytestmark = pytest.mark.engine

DEMO_AGENT = "lin.wei@yangteng-auto.example"
HOSTILE = '<img src=x onerror="window.__xss=1;alert(1)"><b>bold?</b>'
REPLY = "Hi Alex, this is Lin from Yangteng. I'm sorry about that; could you send a photo of the pan?"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with running_engine(tmp_path_factory.mktemp("handoff-browser"), with_gateway=True) as (_, settings):
        yield settings


def _page(browser: Browser, width: int = 1280, height: int = 860) -> Page:
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    return page


def _sign_in(page: Page, settings: Settings) -> None:
    password = read_demo_agents(settings.var_dir)[DEMO_AGENT]
    page.goto(f"{settings.gateway_url}/agent")
    page.get_by_test_id("agent-login-email").fill(DEMO_AGENT)
    page.get_by_test_id("agent-login-password").fill(password)
    page.get_by_test_id("agent-login-submit").click()
    expect(page.get_by_test_id("agent-name")).to_have_text("Lin Wei")
    expect(page.get_by_test_id("agent-connection")).to_have_attribute("data-state", "live", timeout=15_000)


def test_an_agent_takes_over_answers_live_and_hands_back(gateway: Settings, browser: Browser) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shopper, console = _page(browser), _page(browser, 1440, 900)
    try:
        # 1. The shopper (Alex, signed in on the store's site) asks for a person.
        shopper.goto(f"{gateway.gateway_url}/")
        shopper.get_by_test_id("asw-launcher").click()
        send(shopper, "I want to talk to a person")
        expect(bot_messages(shopper).last).to_contain_text(re.compile(r"E-\d+"), timeout=30_000)
        asked = bot_messages(shopper).last.inner_text()
        # Nobody has the console open yet: the bot says when the team answers, not "connecting".
        assert "connecting you" not in asked and "the answer will appear here" in asked

        # 2. The agent signs in and finds the conversation in the queue.
        _sign_in(console, gateway)
        item = console.get_by_test_id("agent-queue-item").first
        expect(item).to_be_visible(timeout=15_000)
        expect(item).to_contain_text("Shopper asked for a person")
        item.click()
        transcript = console.get_by_test_id("agent-transcript")
        expect(transcript).to_contain_text("I want to talk to a person")
        expect(console.get_by_test_id("agent-order")).to_contain_text("FZ-")

        # A new shopper message shows up in the console without a reload, as text, never as markup.
        send(shopper, HOSTILE)
        hostile = console.locator('[data-testid="agent-message"][data-sender="shopper"]').filter(has_text="onerror")
        expect(hostile).to_have_count(1, timeout=15_000)
        expect(hostile.get_by_test_id("agent-message-text")).to_have_text(HOSTILE)
        assert console.locator('[data-testid="agent-transcript"] img, [data-testid="agent-transcript"] b').count() == 0
        assert console.evaluate("window.__xss") is None and console.dialogs == []  # type: ignore[attr-defined]

        # 3. The agent claims it and replies; the shopper's widget shows the reply live.
        console.get_by_test_id("agent-claim").click()
        expect(console.get_by_test_id("agent-conversation-status")).to_have_attribute("data-state", "mine")
        expect(shopper.locator('[data-testid="asw-message"][data-sender="store"]').last).to_contain_text(
            "Lin Wei from Yangteng Auto Parts has joined the chat", timeout=15_000
        )
        console.get_by_test_id("agent-reply-text").fill(REPLY)
        console.get_by_test_id("agent-reply-send").click()
        agent_reply = shopper.locator('[data-testid="asw-message"][data-sender="agent"]').last
        expect(agent_reply).to_contain_text(REPLY, timeout=15_000)
        expect(agent_reply.get_by_test_id("asw-sender")).to_contain_text("Lin Wei")

        # While the agent has the chat, the bot stays silent.
        bots_before = bot_messages(shopper).count()
        send(shopper, "ok, sending the photo now")
        expect(console.locator('[data-testid="agent-message"][data-sender="shopper"]').last).to_have_text(
            re.compile("sending the photo now"), timeout=15_000
        )
        shopper.wait_for_timeout(1500)
        assert bot_messages(shopper).count() == bots_before

        # 4. Internal note, then hand back.
        console.get_by_test_id("agent-note-text").fill("Replacement approved; ship Monday")
        console.get_by_test_id("agent-note-save").click()
        expect(console.get_by_test_id("agent-notes")).to_contain_text("Replacement approved")
        console.get_by_test_id("agent-handback").click()
        expect(console.get_by_test_id("agent-conversation-status")).not_to_have_attribute("data-state", "mine")
        expect(shopper.locator('[data-testid="asw-message"][data-sender="store"]').last).to_contain_text(
            "handed you back to the assistant", timeout=15_000
        )
        assert "Replacement approved" not in shopper.get_by_test_id("asw-panel").inner_text()

        # 5. The bot answers the shopper's next question.
        send(shopper, "where is my order?")
        expect(shopper.get_by_test_id("asw-quick-reply").filter(has_text="FZ-20931")).to_be_visible(timeout=30_000)
        assert bot_messages(shopper).count() > bots_before

        # 6. Both pages, as they look now.
        shoot(shopper, "handoff-shopper.png")
        console.screenshot(path=str(SCREENSHOTS / "handoff-agent-console.png"))
    finally:
        shopper.context.close()
        console.context.close()


def test_a_new_escalation_reaches_an_open_console_without_a_reload(gateway: Settings, browser: Browser) -> None:
    console, shopper = _page(browser, 1440, 900), _page(browser)
    try:
        _sign_in(console, gateway)
        before = console.get_by_test_id("agent-queue-item").count()
        shopper.goto(f"{gateway.gateway_url}/?shopper=anonymous")
        shopper.get_by_test_id("asw-launcher").click()
        send(shopper, "can I speak to a human please")
        # The console is open now: the bot says a person is coming right away.
        expect(bot_messages(shopper).last).to_contain_text("connecting you with a person", timeout=30_000)
        expect(console.get_by_test_id("agent-queue-item")).to_have_count(before + 1, timeout=15_000)
        console.screenshot(path=str(SCREENSHOTS / "agent-console-queue.png"))
    finally:
        console.context.close()
        shopper.context.close()
