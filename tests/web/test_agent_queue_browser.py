"""The agent console's queue in a real browser (Debian's Chromium): pages of 50 with Show more,
the urgent case on top after a flood, and waiting cases ticked and closed as spam in bulk.

The gateway runs in this process on a thread of its own, over a SQLite store database holding the
demo stores; the queue needs no assistant, so no Rasa is started.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Route, expect
from sqlalchemy import insert

from bot.core.clock import utc_now
from bot.core.models import Conversation
from bot.support.escalations import EscalationService
from tests.web.browser import SCREENSHOTS, watch_problems
from tests.web.threaded_gateway import Sessions, ThreadedGateway, add_agent

STORE = "yangteng-auto"
SPAM = 60


@dataclass(frozen=True)
class Flood:
    agent: tuple[str, str]  # email, password
    urgent_reference: str


async def flood(sessions: Sessions) -> Flood:
    """A flood of spam cases from many addresses, then one real urgent case; and an agent of the store."""
    ids = [secrets.token_urlsafe(18) for _ in range(SPAM + 1)]
    async with sessions() as session, session.begin():
        await session.execute(
            insert(Conversation), [{"id": i, "store_id": STORE, "last_seq": 0, "created_at": utc_now()} for i in ids]
        )
    service = EscalationService(sessions)
    for n, conversation_id in enumerate(ids[:SPAM]):
        await service.record(conversation_id, "shopper_request", f"buy cheap watches {n}", client_key=f"198.51.100.{n}")
    urgent = await service.record(ids[SPAM], "damaged", "the oil pan arrived cracked", client_key="203.0.113.5")
    assert urgent is not None
    return Flood(await add_agent(sessions, STORE), urgent.reference)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedGateway[Flood]]:
    with ThreadedGateway(tmp_path_factory.mktemp("agent-queue-browser"), flood) as gateway:
        yield gateway


def test_the_queue_pages_and_an_agent_closes_spam_in_bulk(gateway: ThreadedGateway[Flood], browser: Browser) -> None:
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    email, password = gateway.seeded.agent
    page.goto(f"{gateway.url}/agent")
    page.get_by_test_id("agent-login-email").fill(email)
    page.get_by_test_id("agent-login-password").fill(password)
    page.get_by_test_id("agent-login-submit").click()

    items = page.get_by_test_id("agent-queue-item")
    count = page.get_by_test_id("agent-queue-count")
    expect(count).to_have_text(str(SPAM + 1), timeout=15_000)
    problems = watch_problems(page)  # from here on (before signing in, GET /me answers 401 by design)
    expect(items).to_have_count(50)
    # The urgent case is on top, whatever came before it.
    expect(items.first).to_have_attribute("data-priority", "high")
    expect(items.first).to_contain_text(gateway.seeded.urgent_reference)
    more = page.get_by_test_id("agent-queue-more")
    expect(more).to_be_visible()
    more.click()
    expect(items).to_have_count(SPAM + 1)
    expect(more).to_be_hidden()

    # Tick two spam cases (not the urgent one) and close them in one go.
    bulk = page.get_by_test_id("agent-queue-bulk")
    expect(bulk).to_be_hidden()
    picks = page.get_by_test_id("agent-queue-pick")
    picks.nth(1).check()
    picks.nth(2).check()
    expect(bulk).to_be_visible()
    expect(bulk).to_contain_text("2 cases selected")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "agent-console-close-spam.png"))
    page.get_by_test_id("agent-queue-spam").click()
    expect(count).to_have_text(str(SPAM - 1), timeout=15_000)
    expect(items).to_have_count(SPAM - 1)
    expect(bulk).to_be_hidden()
    assert dialogs and "Close these 2 cases as spam?" in dialogs[0]
    expect(items.first).to_contain_text(gateway.seeded.urgent_reference)

    # The other order: still most urgent first.
    page.get_by_test_id("agent-queue-order").select_option("oldest")
    expect(items).to_have_count(50)
    expect(items.first).to_contain_text(gateway.seeded.urgent_reference)
    expect(items.nth(1)).to_contain_text("buy cheap watches 0")
    assert problems == [], problems


def test_a_page_of_the_order_the_agent_left_is_never_shown(gateway: ThreadedGateway[Flood], browser: Browser) -> None:
    """The agent picks the other order while the first page is on its way: that page is dropped, and
    the queue shows only the order asked for."""
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    held: list[Route] = []
    page.route("**/agent/api/queue?*", lambda route: held.append(route))
    email, password = gateway.seeded.agent
    page.goto(f"{gateway.url}/agent")
    page.get_by_test_id("agent-login-email").fill(email)
    page.get_by_test_id("agent-login-password").fill(password)
    page.get_by_test_id("agent-login-submit").click()
    expect(page.get_by_test_id("agent-name")).to_be_visible()

    def wait_for_requests(n: int) -> None:
        for _ in range(200):
            if len(held) >= n:
                return
            page.wait_for_timeout(50)
        raise AssertionError(f"{len(held)} queue requests, not {n}")

    wait_for_requests(1)
    assert "order=newest" in held[0].request.url
    page.get_by_test_id("agent-queue-order").select_option("oldest")
    held[0].continue_()
    wait_for_requests(2)  # the newest page landed, and the console asked for the oldest instead
    assert "order=oldest" in held[1].request.url
    items = page.get_by_test_id("agent-queue-item")
    expect(items).to_have_count(0)  # not the newest page, not even for a moment
    expect(page.get_by_test_id("agent-queue")).to_have_attribute("aria-busy", "true")
    held[1].continue_()
    expect(items).to_have_count(50)
    expect(items.nth(1)).to_contain_text("buy cheap watches 0")
    page.context.close()
