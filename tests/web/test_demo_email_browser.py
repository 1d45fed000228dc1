"""The demo's email round trip in a real browser (Debian's Chromium), as a newcomer takes it: the
worker emails Alex's unread delivery message through the demo's own SMTP sink (bot/runtime/mail_sink.py,
on a free port), the demo inbox shows that email, its "continue in chat" link opens the widget on
Alex's conversation, and the inbox's Reply reaches the transcript through the real inbound webhook;
the bot's answer is the thread's next email.

The gateway (DEMO=1) runs in this process on a thread of its own, over a SQLite store database with
the demo stores, with a stand-in Rasa: the turn's answer is not what is tested here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import mailbox
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from bot.chat.conversations import ConversationService, NewMessage
from bot.core.clock import utc_now
from bot.core.config import load_settings, settings_env
from bot.core.jobs import JobQueue
from bot.email.smtp_client import SmtpMailer, SmtpServer
from bot.email.unread_messages import EmailFollowUps, UnreadEmails
from bot.runtime import mail_sink
from bot.runtime.stack import free_port, with_demo_mail_sink
from bot.runtime.worker import Worker
from bot.seller.store_settings import StoreSettingsService
from bot.shipping.deliveries import DeliveryNotices
from bot.shipping.tracking_updates import DELIVERY_CONFIRMATION
from tests.web.browser import shoot, watch_problems
from tests.web.test_email_webhooks import StandInRasa
from tests.web.threaded_gateway import Sessions, ThreadedGateway

STORE = "yangteng-auto"
ALEX = "alex@example.com"
DELIVERED = "Your order FZ-20931 was delivered this morning. The installation manual is attached."
REPLY = "Thanks, it arrived"
DELAY = dt.timedelta(seconds=20)


@dataclass(frozen=True)
class Alex:
    conversation: str


async def alex_left_a_delivery_unread(sessions: Sessions) -> Alex:
    """Alex's conversation with the store's delivery message in it, stored and followed up as the
    worker does (one unread-email job, due after the delay)."""
    # No quiet hours: the test runs at any time of day, and Alex's evening in New York would defer the email.
    await StoreSettingsService(sessions).update(STORE, {"email": {"quiet_hours": None}}, "test")
    chat = await ConversationService(sessions).for_shopper(STORE, ALEX)
    async with sessions() as session, session.begin():
        stored = await ConversationService.append_in(session, chat, [NewMessage(sender="store", text=DELIVERED)])
        assert await EmailFollowUps(DELAY).after_stored(session, chat, stored, DELIVERY_CONFIRMATION)
    return Alex(chat.conversation_id)


class DemoEmail:
    """The gateway with DEMO=1, the demo's mail sink beside it, and the worker's email sending."""

    def __init__(self, gateway: ThreadedGateway[Alex]) -> None:
        self.gateway = gateway
        self.settings = gateway.settings
        assert (self.settings.smtp_host, self.settings.smtp_port) == ("127.0.0.1", self.settings.mail_sink_port)

    async def start_sink(self) -> None:
        ready = asyncio.Event()
        self.sink = asyncio.create_task(
            mail_sink.serve(self.settings.mail_sink_maildir, self.settings.mail_sink_port, ready=ready)
        )
        await ready.wait()

    async def stop_sink(self) -> None:
        self.sink.cancel()

    async def run_worker(self, at: dt.datetime) -> int:
        """One pass of the worker (bot/runtime/worker.py) at ``at``: the due email jobs are sent."""
        sessions = self.gateway.sessions
        mailer = SmtpMailer(SmtpServer(self.settings.smtp_host, self.settings.smtp_port, tls="none", timeout=5))
        worker = Worker(
            JobQueue(sessions, "demo-worker", clock=lambda: at),
            DeliveryNotices(sessions, StandInRasa(), EmailFollowUps(DELAY)),  # type: ignore[arg-type]
            emails=UnreadEmails(sessions, self.settings, mailer),
        )
        return await worker.run_due()

    def kept(self) -> list[str]:
        """The subjects of the emails the sink kept."""
        return [str(message["Subject"]) for message in mailbox.Maildir(self.settings.mail_sink_maildir, create=False)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoEmail]:
    var_dir = tmp_path_factory.mktemp("demo-email-browser")
    # The inbox posts a reply to the gateway's own URL (GATEWAY_PORT), and a continue link names it too.
    demo_env = {"VAR_DIR": str(var_dir), "DEMO": "1", "GATEWAY_PORT": str(free_port()), "MAIL_SINK_PORT": str(free_port())}
    # What `make run` gives every process of the demo (bot/runtime/stack.py): the sink as the SMTP server.
    env = {
        name: value for name, value in settings_env(with_demo_mail_sink(load_settings(demo_env), env={})).items() if value
    }
    env.pop("DATABASE_URL", None)
    with ThreadedGateway(var_dir, alex_left_a_delivery_unread, env=env, rasa=StandInRasa()) as gateway:
        demo = DemoEmail(gateway)
        gateway.run(demo.start_sink())
        try:
            yield demo
        finally:
            gateway.run(demo.stop_sink())


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    yield context
    context.close()


async def transcript(sessions: Sessions, conversation: str) -> list[tuple[str, str]]:
    service = ConversationService(sessions)
    chat = await service.for_shopper(STORE, ALEX)
    assert chat.conversation_id == conversation
    return [(message.sender, message.text) for message in await service.messages_after(chat, 0)]


def test_alexs_email_in_the_inbox_continues_in_the_widget_and_a_reply_reaches_the_transcript(
    demo: DemoEmail, context: BrowserContext
) -> None:
    gateway = demo.gateway
    conversation = gateway.seeded.conversation
    # The worker, once the delay is over, sends the email to the sink.
    assert gateway.run(demo.run_worker(utc_now() + DELAY + dt.timedelta(seconds=1))) == 1
    assert len(demo.kept()) == 1

    inbox = context.new_page()
    problems = watch_problems(inbox)
    inbox.goto(f"{gateway.url}/demo/inbox")
    expect(inbox.get_by_test_id("inbox-message")).to_have_count(1)
    inbox.get_by_test_id("inbox-message").first.click()
    expect(inbox.get_by_test_id("inbox-text")).to_contain_text(DELIVERED)
    shoot(inbox, "demo-email-inbox.png")

    # Its continue link: the store's hosted chat, the widget on Alex's conversation.
    link = inbox.get_by_test_id("inbox-text").locator(f'a[href^="{gateway.url}/continue/"]')
    expect(link).to_have_count(1)
    with context.expect_page() as opened:
        link.click()
    chat = opened.value
    chat_problems = watch_problems(chat)
    stored = chat.locator('[data-testid="asw-message"][data-sender="store"] [data-testid="asw-message-text"]')
    expect(stored).to_have_text([DELIVERED])
    assert chat.url == f"{gateway.url}/chat/{STORE}"
    assert chat.evaluate("AftersalesWidget.conversationId()") == conversation
    shoot(chat, "demo-email-continued.png")
    # Alex leaves the page: the bot's answer to his email then goes by email too.
    chat.close()

    # Reply from the inbox: through the gateway's real inbound webhook, as a provider posts it.
    inbox.get_by_test_id("inbox-reply-text").fill(REPLY)
    inbox.get_by_test_id("inbox-reply-send").click()
    expect(inbox.get_by_test_id("inbox-reply-status")).to_contain_text("Sent (stored).")
    assert gateway.run(transcript(gateway.sessions, conversation)) == [
        ("store", DELIVERED),
        ("shopper", REPLY),
        ("bot", f"Thanks, I noted: {REPLY}"),
    ]

    # The bot's answer to an emailed turn is due at once: the thread's next email, in the inbox.
    assert gateway.run(demo.run_worker(utc_now() + dt.timedelta(seconds=1))) == 1
    inbox.reload()
    expect(inbox.get_by_test_id("inbox-message")).to_have_count(2)
    inbox.get_by_test_id("inbox-message").first.click()
    expect(inbox.get_by_test_id("inbox-text")).to_contain_text(f"Thanks, I noted: {REPLY}")
    assert problems == [] and chat_problems == []
