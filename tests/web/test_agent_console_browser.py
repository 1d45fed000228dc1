"""The agent console in both languages, in a real browser (Debian's Chromium): switched to 简体中文
the queue, the conversation and its side panel speak Chinese, the choice survives a reload, and the
shopper's words are shown exactly as written in either language, never translated, never as markup;
the server's refusals are said in Chinese from their code. The gateway runs on a thread of this
process (tests/web/threaded_gateway.py), without Rasa."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy import select, update

from bot.chat.conversations import ConversationService, NewMessage
from bot.core.models import Agent, Conversation
from bot.support.escalations import EscalationService
from tests.conftest import signed_shopper
from tests.web.browser import SCREENSHOTS, watch_problems
from tests.web.threaded_gateway import Sessions, ThreadedGateway, add_agent

STORE = "yangteng-auto"
SHOPPER = "alex@example.com"  # a demo shopper with orders at the store
# A console key, a placeholder, markup and a link: to the console, all of it is the shopper's text.
WORDS = "queue.heading {name} 油底壳到货就裂了 <b>not bold</b> photo: https://example.com/pan_(1).jpg?a=1&b=2"
BOT_SAYS = "I'm sorry the pan arrived damaged. I'm passing you to our team."


@dataclass(frozen=True)
class Case:
    agent: tuple[str, str]  # email, password
    conversation_id: str
    reference: str


async def damaged_pan(sessions: Sessions) -> Case:
    """A signed-in shopper reports a damaged part; the bot hands the conversation to the team."""
    conversations = ConversationService(sessions)
    await conversations.ensure_shopper_secrets()
    shopper = signed_shopper(await conversations.shopper_secret(STORE) or "", SHOPPER)
    chat, _ = await conversations.start(STORE, SHOPPER, shopper["signature"], shopper["ts"])
    await conversations.append(chat, [NewMessage("shopper", WORDS), NewMessage("bot", BOT_SAYS)])
    case = await EscalationService(sessions).record(chat.conversation_id, "damaged", WORDS, client_key="203.0.113.7")
    assert case is not None
    return Case(await add_agent(sessions, STORE, "Lin Wei"), chat.conversation_id, case.reference)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedGateway[Case]]:
    with ThreadedGateway(tmp_path_factory.mktemp("agent-console-browser"), damaged_pan) as gateway:
        yield gateway


def _words_in_queue(page: Page, reference: str) -> str:
    """The shopper's words in the case's queue row, exactly as the page holds them."""
    item = page.get_by_test_id("agent-queue-item").filter(has_text=reference)
    return str(item.get_by_test_id("agent-queue-summary").evaluate("node => node.textContent"))


def _shopper_text(page: Page) -> str:
    """The shopper's message exactly as the page holds it (textContent: no whitespace folding)."""
    bubble = page.locator('[data-testid="agent-message"][data-sender="shopper"]').get_by_test_id("agent-message-text")
    expect(bubble).to_have_count(1)
    assert bubble.locator("a, b").count() == 0  # plain text: no link, no markup
    return str(bubble.evaluate("node => node.textContent"))


def test_the_console_in_chinese_shows_the_shoppers_words_as_written(
    gateway: ThreadedGateway[Case], browser: Browser
) -> None:
    case = gateway.seeded
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        # The sign-in page switches at once, before anyone has signed in.
        page.goto(f"{gateway.url}/agent")
        expect(page.get_by_test_id("agent-login-title")).to_have_text("Support console")
        page.get_by_test_id("agent-lang-zh").click()
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        expect(page.get_by_test_id("agent-login-title")).to_have_text("客服控制台")
        expect(page.get_by_test_id("agent-login-submit")).to_have_text("登录")
        expect(page.get_by_test_id("agent-lang-zh")).to_have_attribute("aria-pressed", "true")
        # Styled by console.css: over the corner, not in the page's flow.
        assert page.get_by_test_id("agent-lang").evaluate("node => getComputedStyle(node).position") == "absolute"
        assert page.title() == "客服控制台"

        email, password = case.agent
        page.get_by_test_id("agent-login-email").fill(email)
        page.get_by_test_id("agent-login-password").fill(password)
        page.get_by_test_id("agent-login-submit").click()
        expect(page.get_by_test_id("agent-name")).to_have_text("Lin Wei")
        problems = watch_problems(page)  # from here on (before signing in, GET /me answers 401 by design)

        # The queue, in Chinese.
        expect(page.get_by_test_id("agent-queue-heading")).to_have_text("待处理队列")
        expect(page.get_by_test_id("agent-logout")).to_have_text("退出登录")
        expect(page.get_by_test_id("agent-connection")).to_have_attribute("data-state", "live", timeout=15_000)
        expect(page.get_by_test_id("agent-connection")).to_have_text("已连接")
        item = page.get_by_test_id("agent-queue-item").filter(has_text=case.reference)
        expect(item).to_have_count(1)
        expect(item.get_by_test_id("agent-queue-priority")).to_have_text("高")
        expect(item.get_by_test_id("agent-queue-reason")).to_have_text("到货时已损坏")
        expect(item.get_by_test_id("agent-queue-claimed")).to_have_text("等待人工客服")
        expect(item.get_by_test_id("agent-queue-waiting")).to_contain_text("分钟")
        # The shopper's words, as written: not after the reason's English title (the server's summary
        # starts with it), which the row shows in Chinese by its code just above.
        assert _words_in_queue(page, case.reference) == WORDS
        expect(item.get_by_test_id("agent-queue-summary")).to_have_attribute("translate", "no")

        # The conversation, in Chinese; the shopper's message exactly as written.
        item.click()
        expect(page.get_by_test_id("agent-conversation-title")).to_have_text(
            "Alex Miller"
        )  # from their order: data, as given
        expect(page.get_by_test_id("agent-conversation-status")).to_have_text("等待人工客服")
        expect(page.get_by_test_id("agent-claim")).to_have_text("接手")
        expect(page.get_by_test_id("agent-handback")).to_have_text("交还给智能助手")
        expect(page.get_by_test_id("agent-notes-heading")).to_have_text("内部备注")
        expect(page.get_by_test_id("agent-reply-text")).to_have_attribute("placeholder", "接手此对话后才能回复。")
        bot = page.locator('[data-testid="agent-message"][data-sender="bot"]')
        expect(bot.get_by_test_id("agent-message-author")).to_have_text("智能助手")
        expect(bot.get_by_test_id("agent-message-text")).to_have_text(BOT_SAYS)  # the bot's words are not translated either
        assert _shopper_text(page) == WORDS
        escalation = page.get_by_test_id("agent-escalation")
        expect(escalation).to_contain_text("等待中")
        expect(escalation).to_contain_text("到货时已损坏")
        words = escalation.get_by_test_id("agent-escalation-words")
        assert words.evaluate("node => node.textContent") == WORDS
        expect(escalation).not_to_contain_text("Arrived damaged")
        expect(page.get_by_test_id("agent-order-number")).to_have_text(re.compile(r"^FZ-\d+$"))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "agent-console-zh.png"))

        # The choice survives a reload, and the open conversation comes back with it.
        page.reload()
        expect(page.get_by_test_id("agent-conversation-status")).to_have_text("等待人工客服")
        expect(page.get_by_test_id("agent-queue-heading")).to_have_text("待处理队列")
        assert _shopper_text(page) == WORDS

        # Back to English: the console's words change, the shopper's do not.
        page.get_by_test_id("agent-lang-en").click()
        assert page.evaluate("document.documentElement.lang") == "en"
        expect(page.get_by_test_id("agent-queue-heading")).to_have_text("Queue")
        expect(page.get_by_test_id("agent-conversation-status")).to_have_text("Waiting for a person")
        expect(page.get_by_test_id("agent-claim")).to_have_text("Claim")
        expect(item.get_by_test_id("agent-queue-reason")).to_have_text("Arrived damaged")
        assert _words_in_queue(page, case.reference) == WORDS  # the reason is said once, above, not in the words
        assert words.evaluate("node => node.textContent") == WORDS
        expect(bot.get_by_test_id("agent-message-author")).to_have_text("Assistant")
        assert _shopper_text(page) == WORDS
        assert problems == [], problems
    finally:
        page.context.close()


async def _taken_by(sessions: Sessions, conversation_id: str, email: str) -> None:
    """Another agent took the conversation a moment ago (straight in the database: no live event, so
    the console still offers to claim it)."""
    async with sessions() as session, session.begin():
        holder = await session.scalar(select(Agent.id).where(Agent.email == email))
        await session.execute(update(Conversation).where(Conversation.id == conversation_id).values(handled_by=holder))


def test_a_refusal_is_shown_in_chinese_from_its_code_with_its_params(
    gateway: ThreadedGateway[Case], browser: Browser
) -> None:
    """The server refuses in English with a code and params; the console in 简体中文 says it in Chinese,
    the params filled in (the other agent's name, as given)."""
    case = gateway.run(damaged_pan(gateway.sessions))  # the shopper's conversation, waiting for a person; a new agent
    other_email, _ = gateway.run(add_agent(gateway.sessions, STORE, "Kim Ho"))
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        page.goto(f"{gateway.url}/agent")
        page.get_by_test_id("agent-lang-zh").click()
        email, password = case.agent
        page.get_by_test_id("agent-login-email").fill(email)
        page.get_by_test_id("agent-login-password").fill(password)
        page.get_by_test_id("agent-login-submit").click()
        expect(page.get_by_test_id("agent-name")).to_have_text("Lin Wei")
        problems = watch_problems(page)
        page.get_by_test_id("agent-queue-item").filter(has_text=case.reference).click()
        expect(page.get_by_test_id("agent-conversation-status")).to_have_text("等待人工客服")
        expect(page.get_by_test_id("agent-claim")).to_be_enabled()

        gateway.run(_taken_by(gateway.sessions, case.conversation_id, other_email))
        page.get_by_test_id("agent-claim").click()
        # 409 {"error": "already claimed by Kim Ho", "code": "conversation_claimed_by", "params": {"holder": "Kim Ho"}}
        expect(page.get_by_test_id("agent-error")).to_have_text("已被 Kim Ho 接手")
        # …and the console shows the conversation as it now is.
        expect(page.get_by_test_id("agent-conversation-status")).to_have_text("Kim Ho 正在处理此对话")
        expect(page.get_by_test_id("agent-claim")).to_be_disabled()
        # The browser logs the refused request itself, and nothing else went wrong.
        assert [p for p in problems if "status of 409 (Conflict)" not in p or "/claim]" not in p] == [], problems
    finally:
        page.context.close()


def test_a_change_refused_for_a_stale_csrf_token_fetches_the_token_again_and_goes_through(
    gateway: ThreadedGateway[Case], browser: Browser
) -> None:
    """The console knows a stale token by the refusal's code (csrf_token_wrong), not by its English."""
    case = gateway.run(damaged_pan(gateway.sessions))
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        page.goto(f"{gateway.url}/agent")
        email, password = case.agent
        page.get_by_test_id("agent-login-email").fill(email)
        page.get_by_test_id("agent-login-password").fill(password)
        page.get_by_test_id("agent-login-submit").click()
        expect(page.get_by_test_id("agent-name")).to_have_text("Lin Wei")
        page.get_by_test_id("agent-queue-item").filter(has_text=case.reference).click()
        expect(page.get_by_test_id("agent-note-text")).to_be_enabled()  # loaded: any agent of the store can note

        sent_tokens: list[str] = []

        def stale_token_first(route: Route) -> None:
            sent_tokens.append(route.request.headers.get("x-csrf-token", ""))
            if len(sent_tokens) == 1:
                route.continue_(headers={**route.request.headers, "x-csrf-token": "stale"})
            else:
                route.continue_()

        page.route("**/agent/api/conversations/*/notes", stale_token_first)
        page.get_by_test_id("agent-note-text").fill("Asked for a photo of the crack.")
        page.get_by_test_id("agent-note-save").click()
        expect(page.get_by_test_id("agent-note")).to_contain_text(["Asked for a photo of the crack."])
        assert len(sent_tokens) == 2  # refused once (403 csrf_token_wrong), sent again with the current token
        expect(page.get_by_test_id("agent-error")).to_be_empty()
    finally:
        page.context.close()


def test_a_feed_opened_again_while_the_session_was_checked_stays_open(
    gateway: ThreadedGateway[Case], browser: Browser
) -> None:
    """The live feed fails; while the console asks /me why, the browser comes back online and the feed
    opens again. The late /me answer must not schedule yet another reconnect, which would close the
    feed that works (and miss the events in between)."""
    case = gateway.run(damaged_pan(gateway.sessions))
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        feeds: list[str] = []
        held_checks: list[Route] = []
        hold_checks = {"on": False}

        def first_feed_fails(route: Route) -> None:
            feeds.append(route.request.url)
            if len(feeds) == 1:
                route.fulfill(status=500, body="")
            else:
                route.continue_()

        def hold_the_session_check(route: Route) -> None:
            if hold_checks["on"]:
                held_checks.append(route)
            else:
                route.continue_()

        page.route("**/agent/api/events", first_feed_fails)
        page.route("**/agent/api/me", hold_the_session_check)
        page.goto(f"{gateway.url}/agent")
        email, password = case.agent
        page.get_by_test_id("agent-login-email").fill(email)
        page.get_by_test_id("agent-login-password").fill(password)
        hold_checks["on"] = True
        page.get_by_test_id("agent-login-submit").click()
        connection = page.get_by_test_id("agent-connection")
        expect(connection).to_have_attribute("data-state", "offline")
        for _ in range(100):
            if held_checks:
                break
            page.wait_for_timeout(50)
        assert len(held_checks) == 1 and len(feeds) == 1

        page.evaluate("window.dispatchEvent(new Event('online'))")
        expect(connection).to_have_attribute("data-state", "live", timeout=15_000)
        held_checks[0].continue_()
        page.wait_for_timeout(2_500)  # longer than the first reconnect's backoff
        assert len(feeds) == 2, feeds
        expect(connection).to_have_attribute("data-state", "live")
    finally:
        page.context.close()


def test_a_reply_is_counted_in_characters_as_the_server_counts_it(gateway: ThreadedGateway[Case], browser: Browser) -> None:
    """An emoji is one character to the server (Python's len), two to String.length and maxlength: a
    reply of 1,500 emoji is within the 2,000 the server takes, and the console lets it go."""
    case = gateway.run(damaged_pan(gateway.sessions))
    email, password = case.agent
    gateway.run(_taken_by(gateway.sessions, case.conversation_id, email))  # this agent handles it (no Rasa here to claim)
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        page.goto(f"{gateway.url}/agent#conversation={case.conversation_id}")
        page.get_by_test_id("agent-login-email").fill(email)
        page.get_by_test_id("agent-login-password").fill(password)
        page.get_by_test_id("agent-login-submit").click()
        box = page.get_by_test_id("agent-reply-text")
        expect(box).to_be_enabled()
        reply = "🙂" * 1500
        box.fill(reply)
        counter = page.get_by_test_id("agent-reply-counter")
        expect(counter).to_have_text("1,500 / 2,000")
        expect(counter).not_to_have_class(re.compile(r"\bis-full\b"))
        assert box.input_value() == reply  # nothing cut off at 2,000 UTF-16 units
        page.get_by_test_id("agent-reply-send").click()
        sent = page.locator('[data-testid="agent-message"][data-sender="agent"]').get_by_test_id("agent-message-text")
        expect(sent).to_have_count(1)
        assert sent.evaluate("node => node.textContent") == reply
        expect(page.get_by_test_id("agent-error")).to_be_empty()

        # 2,001 characters are one too many, and the console says so before sending.
        box.fill("a" * 2001)
        expect(counter).to_have_text("2,001 / 2,000")
        expect(counter).to_have_class(re.compile(r"\bis-full\b"))
        page.get_by_test_id("agent-reply-send").click()
        expect(page.get_by_test_id("agent-error")).to_have_text("A reply can be at most 2,000 characters.")
        expect(sent).to_have_count(1)
    finally:
        page.context.close()


def test_a_sign_in_with_a_stale_login_token_fetches_a_fresh_one_and_goes_through(
    gateway: ThreadedGateway[Case], browser: Browser
) -> None:
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        page.goto(f"{gateway.url}/agent")
        page.evaluate("document.querySelector('meta[name=\"login-csrf\"]').setAttribute('content', 'stale')")
        email, password = gateway.seeded.agent
        page.get_by_test_id("agent-login-email").fill(email)
        page.get_by_test_id("agent-login-password").fill(password)
        page.get_by_test_id("agent-login-submit").click()
        expect(page.get_by_test_id("agent-name")).to_have_text("Lin Wei")
        expect(page.get_by_test_id("agent-error")).to_be_empty()
    finally:
        page.context.close()
