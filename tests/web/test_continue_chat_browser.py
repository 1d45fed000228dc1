"""An email's "continue in chat" link in a real browser (Debian's Chromium): it opens the store's page
with the widget on the link's conversation, the store's message in view and the token gone from the
address bar; an expired one says so, in the widget and on the gateway's own page.

The gateway runs in this process on a thread of its own, over a SQLite store database holding the
demo stores; showing a transcript needs no assistant, so no Rasa is started.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from bot.chat.conversations import ConversationService, NewMessage
from bot.core.clock import utc_now
from bot.core.config import load_settings
from bot.core.models import Conversation
from bot.email.signed_links import CONTINUE_CHAT, SignedLinks
from bot.seller.store_settings import StoreSettingsService
from tests.web.browser import shoot, watch_problems
from tests.web.threaded_gateway import Sessions, ThreadedGateway

STORE = "yangteng-auto"
#: A store with a page of its own (served by :func:`shop_page`, on another origin than the gateway's).
SHOP_STORE = "bloomkids-baby"
DELIVERED = "Your order FZ-20931 was delivered this morning. The installation manual is attached."
SHOP_MESSAGE = "Your cot has shipped: it should arrive on Thursday."


@dataclass(frozen=True)
class Seeded:
    conversation: str
    shop_conversation: str


async def seed(sessions: Sessions) -> Seeded:
    """A conversation of each store with a message from the store in it (as a delivery leaves one)."""
    service = ConversationService(sessions)
    chat, _ = await service.start(STORE)
    await service.append(chat, [NewMessage(sender="store", text=DELIVERED)])
    shop_chat, _ = await service.start(SHOP_STORE)
    await service.append(shop_chat, [NewMessage(sender="store", text=SHOP_MESSAGE)])
    return Seeded(chat.conversation_id, shop_chat.conversation_id)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedGateway[Seeded]]:
    with ThreadedGateway(tmp_path_factory.mktemp("continue-chat-browser"), seed) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def shop_page(gateway: ThreadedGateway[Seeded]) -> Iterator[str]:
    """The store's own product page with its widget, at http://localhost:<port> (the gateway is at
    127.0.0.1: another origin, as a store's site is); the store's settings name it as its page."""
    page = (
        f'<!doctype html><title>Cot</title><h1>Cot</h1><script src="{gateway.url}/widget.js" data-store="{SHOP_STORE}"'
        " async></script>"
    ).encode()

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://localhost:{server.server_address[1]}/products/cot"
    gateway.run(StoreSettingsService(gateway.sessions).update(SHOP_STORE, {"email": {"page_url": url + "#details"}}, "test"))
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=10)


def continue_link(gateway: ThreadedGateway[Seeded], store: str, conversation: str, days: float = 14) -> str:
    """The token of the link an email carries (signed with the gateway's own secret)."""
    secret = load_settings({"VAR_DIR": str(gateway.var_dir)}).email_link_secret
    return SignedLinks(secret).sign(CONTINUE_CHAT, [store, conversation], utc_now() + dt.timedelta(days=days))


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, timezone_id="Asia/Shanghai")
    yield context
    context.close()


def store_messages(page: Page):  # type: ignore[no-untyped-def]
    return page.locator('[data-testid="asw-message"][data-sender="store"] [data-testid="asw-message-text"]')


async def _timezone(sessions: Sessions, conversation: str) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(Conversation.shopper_timezone).where(Conversation.id == conversation))


def test_the_link_opens_the_hosted_chat_on_its_conversation(
    gateway: ThreadedGateway[Seeded], context: BrowserContext
) -> None:
    page = context.new_page()
    problems = watch_problems(page)
    token = continue_link(gateway, STORE, gateway.seeded.conversation)
    page.goto(f"{gateway.url}/continue/{token}")
    expect(page).to_have_title("Yangteng Auto Parts")
    expect(store_messages(page)).to_have_text([DELIVERED])
    # The token left the address bar (and the history entry) at once.
    assert page.evaluate("location.hash") == ""
    assert page.url == f"{gateway.url}/chat/{STORE}"
    assert token not in page.evaluate("location.href")
    assert page.evaluate("AftersalesWidget.conversationId()") == gateway.seeded.conversation
    assert gateway.run(_timezone(gateway.sessions, gateway.seeded.conversation)) == "Asia/Shanghai"
    shoot(page, "continue-chat-hosted.png")
    # Kept as a started conversation: it is there again after a reload, with no link.
    page.reload()
    expect(store_messages(page)).to_have_text([DELIVERED])
    assert page.evaluate("AftersalesWidget.conversationId()") == gateway.seeded.conversation
    assert problems == []


def test_the_link_opens_the_widget_on_the_stores_own_page(
    gateway: ThreadedGateway[Seeded], shop_page: str, context: BrowserContext
) -> None:
    page = context.new_page()
    problems = watch_problems(page)
    token = continue_link(gateway, SHOP_STORE, gateway.seeded.shop_conversation)
    page.goto(f"{gateway.url}/continue/{token}")
    expect(page.get_by_test_id("asw-panel")).to_be_visible()
    expect(store_messages(page)).to_have_text([SHOP_MESSAGE])
    assert page.url == shop_page
    assert page.evaluate("location.hash") == ""
    expect(page.get_by_test_id("asw-input")).to_be_focused()
    assert problems == []


def test_an_expired_link_says_so_and_the_chat_starts_afresh(
    gateway: ThreadedGateway[Seeded], context: BrowserContext
) -> None:
    page = context.new_page()
    problems = watch_problems(page)
    expired = continue_link(gateway, STORE, gateway.seeded.conversation, days=-1)
    # The gateway's answer to the link: a page that says so, and the way to the store's chat.
    page.goto(f"{gateway.url}/continue/{expired}")
    expect(page.get_by_test_id("continue-notice")).to_have_text("This link has expired")
    page.get_by_role("link", name="Chat with Yangteng Auto Parts").click()
    expect(page).to_have_url(f"{gateway.url}/chat/{STORE}")
    expect(page.get_by_test_id("asw-panel")).to_be_visible()
    # A page that still has an expired link in its address (a bookmark): the widget says so.
    page.goto("about:blank")
    page.goto(f"{gateway.url}/chat/{STORE}#chat-continue={expired}")
    expect(page.get_by_test_id("asw-error")).to_contain_text("expired")
    assert page.evaluate("location.hash") == ""
    expect(store_messages(page)).to_have_count(0)
    page.wait_for_function("AftersalesWidget.conversationId() !== null")
    assert page.evaluate("AftersalesWidget.conversationId()") != gateway.seeded.conversation
    expect(page.get_by_test_id("asw-input")).to_be_editable()
    shoot(page, "continue-chat-expired.png")
    # A working link opened in the same tab changes only the fragment: the widget follows it.
    token = continue_link(gateway, STORE, gateway.seeded.conversation)
    page.evaluate("token => { location.hash = 'chat-continue=' + token; }", token)
    expect(store_messages(page)).to_have_text([DELIVERED])
    assert page.evaluate("location.hash") == ""
    assert page.evaluate("AftersalesWidget.conversationId()") == gateway.seeded.conversation
    # The expired link's 410s (the gateway's page and the widget's request) are the answers meant; nothing else.
    assert [p for p in problems if "status of 410 (Gone)" not in p] == [], problems
