"""Counts in both consoles, in a real browser (Debian's Chromium): every count or amount is written
with the console language's thousands separator by the one formatter (shared/i18n.js count(),
shared/format.js builds on it), and a throttled request's Retry-After is read the same way in both
consoles, in seconds or as an HTTP date. The gateway runs on a thread of this process
(tests/web/threaded_gateway.py), without Rasa; the numbers too large for a test to make for real are
put into the server's answers on their way to the page."""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from bot.chat.conversations import ConversationService, NewMessage
from bot.support.accounts import AgentAccounts
from bot.support.escalations import EscalationService
from tests.conftest import signed_shopper
from tests.web.browser import watch_problems
from tests.web.threaded_gateway import Sessions, ThreadedGateway, add_agent

STORE = "yangteng-auto"
SHOPPER = "alex@example.com"  # a demo shopper with orders at the store
SELLER = ("numbers.seller@yangteng-auto.example", "a long enough password")


@dataclass(frozen=True)
class Seeded:
    agent: tuple[str, str]  # email, password
    reference: str


async def one_case(sessions: Sessions) -> Seeded:
    """A shopper's conversation waiting for a person, an agent and a seller admin of the store."""
    conversations = ConversationService(sessions)
    await conversations.ensure_shopper_secrets()
    shopper = signed_shopper(await conversations.shopper_secret(STORE) or "", SHOPPER)
    chat, _ = await conversations.start(STORE, SHOPPER, shopper["signature"], shopper["ts"])
    await conversations.append(chat, [NewMessage("shopper", "the pan arrived cracked")])
    case = await EscalationService(sessions).record(chat.conversation_id, "damaged", "the pan arrived cracked")
    assert case is not None
    seller_email, seller_password = SELLER
    await AgentAccounts(sessions).add(seller_email, "Wang Numbers", seller_password, [STORE], role="seller_admin")
    return Seeded(await add_agent(sessions, STORE, "Lin Wei"), case.reference)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedGateway[Seeded]]:
    with ThreadedGateway(tmp_path_factory.mktemp("console-numbers"), one_case) as gateway:
        yield gateway


def _new_page(browser: Browser) -> Page:
    return browser.new_context(viewport={"width": 1440, "height": 900}).new_page()


def _sign_in_agent(page: Page, gateway: ThreadedGateway[Seeded]) -> None:
    email, password = gateway.seeded.agent
    page.get_by_test_id("agent-login-email").fill(email)
    page.get_by_test_id("agent-login-password").fill(password)
    page.get_by_test_id("agent-login-submit").click()
    expect(page.get_by_test_id("agent-name")).to_have_text("Lin Wei")


def _answer_changed(route: Route, change: Any) -> None:
    """The server's real answer, with `change(data)` applied to its JSON."""
    response = route.fetch()
    data = response.json()
    change(data)
    route.fulfill(response=response, body=json.dumps(data), headers={**response.headers, "content-type": "application/json"})


def _a_big_queue(data: dict[str, Any]) -> None:
    data.update(total=12_345, waiting=12_000, next_cursor="more")


def _a_big_order(data: dict[str, Any]) -> None:
    if data.get("order") and data["order"].get("items"):
        data["order"]["items"][0]["quantity"] = 1_200


def test_the_agent_console_writes_its_counts_with_thousands_separators_in_both_languages(
    gateway: ThreadedGateway[Seeded], browser: Browser
) -> None:
    page = _new_page(browser)
    try:
        page.route(re.compile(r".*/agent/api/queue\?.*"), lambda route: _answer_changed(route, _a_big_queue))
        page.route(re.compile(r".*/agent/api/conversations/[^/]+$"), lambda route: _answer_changed(route, _a_big_order))
        page.goto(f"{gateway.url}/agent")
        _sign_in_agent(page, gateway)
        problems = watch_problems(page)
        count = page.get_by_test_id("agent-queue-count")
        expect(count).to_have_text("12,345")
        shown = page.get_by_test_id("agent-queue-item").count()
        expect(page.get_by_test_id("agent-queue-more")).to_have_text(f"Show more ({12_345 - shown:,} not shown)")
        expect(count).to_have_attribute("title", "12,000 waiting, 345 claimed")
        expect(page.get_by_test_id("agent-reply-counter")).to_have_text("0 / 2,000")

        page.get_by_test_id("agent-queue-item").filter(has_text=gateway.seeded.reference).click()
        expect(page.get_by_test_id("agent-order-item").first).to_contain_text("1,200 ×")

        # In Chinese: the same numbers, in the Chinese sentences.
        page.get_by_test_id("agent-lang-zh").click()
        expect(count).to_have_text("12,345")
        expect(page.get_by_test_id("agent-queue-more")).to_have_text(f"显示更多（还有 {12_345 - shown:,} 个未显示）")
        expect(count).to_have_attribute("title", "12,000 个等待中，345 个已接手")
        expect(page.get_by_test_id("agent-order-item").first).to_contain_text("1,200 ×")
        assert problems == [], problems
    finally:
        page.context.close()


def test_a_throttled_agent_sign_in_says_the_wait_from_its_code_with_a_thousands_separator(
    gateway: ThreadedGateway[Seeded], browser: Browser
) -> None:
    page = _new_page(browser)
    try:
        refusal = {
            "error": "too many failed logins; try again in 3,600 s",
            "code": "login_throttled",
            "params": {"retry_after": 3600},
        }
        page.route(
            "**/agent/api/login",
            lambda route: route.fulfill(status=429, headers={"Retry-After": "3600"}, json=refusal),
        )
        page.goto(f"{gateway.url}/agent")
        page.get_by_test_id("agent-lang-zh").click()
        page.get_by_test_id("agent-login-email").fill(gateway.seeded.agent[0])
        page.get_by_test_id("agent-login-password").fill("not the password")
        page.get_by_test_id("agent-login-submit").click()
        expect(page.get_by_test_id("agent-error")).to_contain_text("3,600")
        expect(page.get_by_test_id("agent-login-submit")).to_be_disabled()  # locked for the wait

        # Without a refusal (a proxy's 429): the console's own words, and the wait from Retry-After.
        page.unroute("**/agent/api/login")
        page.route("**/agent/api/login", lambda route: route.fulfill(status=429, headers={"Retry-After": "7200"}, body=""))
        page.reload()
        page.get_by_test_id("agent-lang-en").click()
        page.get_by_test_id("agent-login-email").fill(gateway.seeded.agent[0])
        page.get_by_test_id("agent-login-password").fill("not the password")
        page.get_by_test_id("agent-login-submit").click()
        expect(page.get_by_test_id("agent-error")).to_have_text("Too many attempts. Try again in 7,200 seconds.")
    finally:
        page.context.close()


def test_a_throttled_seller_sign_in_reads_retry_after_as_seconds_or_as_a_date(
    gateway: ThreadedGateway[Seeded], browser: Browser
) -> None:
    page = _new_page(browser)
    try:
        retry_after = {"value": "3600"}
        page.route(
            "**/seller/api/login",
            lambda route: route.fulfill(status=429, headers={"Retry-After": retry_after["value"]}, body=""),
        )
        page.goto(f"{gateway.url}/seller")
        expect(page.get_by_test_id("seller-login-title")).to_have_text("Seller console")
        page.get_by_test_id("seller-login-email").fill(SELLER[0])
        page.get_by_test_id("seller-login-password").fill("not the password")
        page.get_by_test_id("seller-login-submit").click()
        expect(page.get_by_test_id("seller-error")).to_have_text("Too many failed sign-ins. Try again in 3,600 seconds.")

        # An HTTP date (RFC 9110 allows either): the seconds until then, never the date in a sentence about seconds.
        # Two hours after the browser's own clock (the wall clock of this process may be moved: make test-future).
        browser_now = page.evaluate("Date.now()") / 1000
        retry_after["value"] = email.utils.formatdate(browser_now + 7200, usegmt=True)
        page.get_by_test_id("seller-lang-zh").click()
        page.get_by_test_id("seller-login-submit").click()
        expect(page.get_by_test_id("seller-error")).to_have_text(
            re.compile(r"^登录失败次数过多，请在 7,[12]\d\d 秒后重试。$")
        )
    finally:
        page.context.close()


def test_the_one_formatter_counts_and_sizes_in_the_consoles_language(
    gateway: ThreadedGateway[Seeded], browser: Browser
) -> None:
    page = browser.new_context().new_page()
    try:
        page.goto(f"{gateway.url}/seller")
        written = page.evaluate(
            """async () => {
                const i18n = await import('/seller/static/shared/i18n.js');
                const { fileSize } = await import('/seller/static/shared/format.js');
                await i18n.loadTexts('seller', ['en', 'zh-CN']);
                const out = {};
                for (const language of ['en', 'zh-CN']) {
                    i18n.chooseLanguage(language);
                    out[language] = [
                        i18n.count(1234567), i18n.count('2000'), i18n.count(999), i18n.count(2.5, 1),
                        i18n.count('n/a'), i18n.count(null), i18n.count(''),
                        fileSize(812), fileSize(35 * 1024), fileSize(2.5 * 1024 * 1024), fileSize(1536 * 1024 * 1024),
                    ];
                }
                return out;
            }"""
        )
        for language in ("en", "zh-CN"):
            assert written[language] == [
                "1,234,567",
                "2,000",
                "999",
                "2.5",
                "n/a",
                "",
                "",
                "812 B",
                "35 KB",
                "2.5 MB",
                "1,536.0 MB",
            ], language
    finally:
        page.context.close()
