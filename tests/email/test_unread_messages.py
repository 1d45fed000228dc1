"""Unread store and agent messages, emailed once per burst to a shopper who is not on the page:
through the real job queue, a real SMTP server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ChatSession, ConversationService, NewMessage
from bot.core.clock import frozen_at
from bot.core.config import Settings, load_settings
from bot.core.jobs import FAILURE_ERROR, LEASE, MAX_ATTEMPTS, FailedJobs, JobQueue, retry_delay
from bot.core.models import Conversation, EmailNotification, JobStatus, ReviewOptOut, ScheduledJob, Store
from bot.email import smtp_client
from bot.email.signed_links import CONTINUE_CHAT, UNSUBSCRIBE, BadSignedLink, SignedLinks
from bot.email.smtp_client import SmtpMailer, SmtpServer
from bot.email.suppressions import suppress
from bot.email.unread_messages import (
    EMAIL_ANSWER,
    SKIPPED_EMAIL_OFF,
    SKIPPED_KIND_OFF,
    SKIPPED_REVIEW_OPT_OUT,
    SKIPPED_SUPPRESSED,
    UNREAD_EMAIL,
    EmailFollowUps,
    EmailsOff,
    UnreadEmails,
)
from bot.guides.manuals import Manuals
from bot.reviews.invitations import REVIEW_INVITATION, ReviewInvitations
from bot.runtime.worker import Worker
from bot.seller.store_settings import StoreSettingsService
from bot.shipping.deliveries import DeliveryNotices
from bot.shipping.tracking_updates import DELIVERY_CONFIRMATION, Checkpoint, TrackingUpdate, TrackingUpdates
from bot.support.accounts import AgentAccounts
from bot.support.console_sessions import ConsoleSessions
from bot.support.conversation_view import ConversationView
from bot.support.handoff import HandoffService
from bot.web.app import create_app
from tests.conftest import signed_shopper
from tests.email.conftest import SmtpSink
from tests.reviews.test_invitations import DELIVERED_ORDER, DUE, FakeRasa, order_by_number, schedule

NOW = dt.datetime(2026, 11, 27, 22, 0, tzinfo=dt.UTC)
DELAY = dt.timedelta(seconds=300)
STORE = "yangteng-auto"
ALEX = "alex@example.com"
TRACKING_ALEX = "9400111899223100000000"
SENDER = "notifications@mail.yangteng-auto.example"
TRACKING_URL = "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223100000000"
MANUAL_URL = "https://yangteng-auto.example/manuals/op-1001.pdf"
VIDEO_URL = "https://yangteng-auto.example/videos/op-1001-install.mp4"


@pytest.fixture(autouse=True)
def application_clock_at_now() -> Iterator[None]:
    with frozen_at(NOW):
        yield


class ConfirmingRasa:
    """Rasa as the delivery action answers ``EXTERNAL_package_delivered``: the confirmation, the
    manual as a PDF and the install video."""

    async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"text": f"Your order {entities['order_id']} was delivered. Tracking: {TRACKING_URL}"},
            {
                "text": "Here is the installation manual.",
                "custom": {"attachment": {"type": "pdf", "url": MANUAL_URL, "title": "Oil pan manual (PDF)"}},
            },
            {
                "text": "And the install video.",
                "custom": {"attachment": {"type": "video", "url": VIDEO_URL, "title": "Installing the oil pan"}},
            },
        ]


PUBLIC = "https://chat.yangteng-auto.example"
LINK_SECRET = "email-link-secret-test-5b2c"


def email_settings(**env: str) -> Settings:
    """The deployment's email settings the tests send with (through the sink, without TLS)."""
    return load_settings(
        {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_TLS": "none",
            "EMAIL_SENDER": SENDER,
            "EMAIL_AFTER_UNREAD_SECONDS": str(int(DELAY.total_seconds())),
            "EMAIL_LINK_SECRET": LINK_SECRET,
            "EMAIL_INBOUND_SECRET": "email-inbound-secret-test-0f3a",
            "PUBLIC_URL": PUBLIC,
            **env,
        }
    )


def unread_emails(sessions: async_sessionmaker[AsyncSession], sink: SmtpSink, **env: str) -> UnreadEmails:
    mailer = SmtpMailer(SmtpServer("127.0.0.1", sink.port, tls="none", timeout=5))
    return UnreadEmails(sessions, email_settings(**env), mailer)


def worker_at(sessions: async_sessionmaker[AsyncSession], sink: SmtpSink, at: dt.datetime, name: str = "w") -> Worker:
    queue = JobQueue(sessions, name, clock=lambda: at)
    return Worker(
        queue, DeliveryNotices(sessions, ConfirmingRasa(), EmailFollowUps(DELAY)), emails=unread_emails(sessions, sink)
    )  # type: ignore[arg-type]


async def deliver(sessions: async_sessionmaker[AsyncSession], event_id: str = "evt-1") -> bool:
    update_ = TrackingUpdate(event_id, TRACKING_ALEX, "Delivered", [Checkpoint(NOW, "Delivered", "Delivered", None)])
    return (await TrackingUpdates(sessions).apply(STORE, "json", update_)).delivered_now


async def email_jobs(sessions: async_sessionmaker[AsyncSession]) -> list[ScheduledJob]:
    async with sessions() as session:
        return list((await session.scalars(select(ScheduledJob).where(ScheduledJob.kind == UNREAD_EMAIL))).all())


async def conversation_reply_token(sessions: async_sessionmaker[AsyncSession], email_address: str = ALEX) -> str:
    async with sessions() as session:
        token = await session.scalar(
            select(Conversation.email_reply_token).where(
                Conversation.store_id == STORE, Conversation.shopper_email == email_address
            )
        )
    assert token is not None
    return token


async def alex_chat(sessions: async_sessionmaker[AsyncSession]) -> ChatSession:
    return await ConversationService(sessions).for_shopper(STORE, ALEX)


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_type() == f"text/{subtype}"
    return str(part.get_content())


async def test_a_delivery_to_an_offline_shopper_is_emailed_once_after_the_delay_with_its_links(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    assert await deliver(demo_sessions)
    assert await worker_at(demo_sessions, smtp_sink, NOW).run_due() == 1  # the confirmation reaches the transcript
    (job,) = await email_jobs(demo_sessions)
    assert job.store_id == STORE and job.due_at == NOW + DELAY and job.payload["kind"] == DELIVERY_CONFIRMATION

    # Not before the delay...
    await worker_at(demo_sessions, smtp_sink, NOW + DELAY - dt.timedelta(seconds=1)).run_due()
    assert smtp_sink.mail.received == []
    # ...then exactly one email, to Alex, from the store's name.
    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    ((mail_from, rcpt_tos, message),) = smtp_sink.mail.received
    reply_token = await conversation_reply_token(demo_sessions)
    # Bounces come back to the conversation's own address; replies too.
    assert mail_from == f"bounce+{reply_token}@mail.yangteng-auto.example" and rcpt_tos == [ALEX]
    assert message["Reply-To"] == f"reply+{reply_token}@mail.yangteng-auto.example"
    assert message["From"] == f"Yangteng Auto Parts <{SENDER}>" and message["To"] == ALEX
    # A delivery confirmation is transactional: nothing to unsubscribe from.
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    assert message.is_multipart() and message.get_content_type() == "multipart/alternative"
    text, html = body(message, "plain"), body(message, "html")
    assert "Your order FZ-20931 was delivered." in text
    for url in (TRACKING_URL, MANUAL_URL, VIDEO_URL):
        assert url in text
    assert f'<a href="{MANUAL_URL}">Oil pan manual (PDF)</a>' in html
    assert f'<a href="{VIDEO_URL}">Installing the oil pan</a>' in html
    assert f'<a href="{TRACKING_URL.replace("&", "&amp;")}">' in html

    # The same burst again: the repeated webhook queues nothing, the storing side finds it
    # emailed, and the job run again (a worker whose lease ran out) finds it recorded.
    assert not await deliver(demo_sessions, "evt-1") and not await deliver(demo_sessions, "evt-2")
    chat = await alex_chat(demo_sessions)
    emailed = await ConversationService(demo_sessions).messages_after(chat, 0)
    async with demo_sessions() as session, session.begin():
        assert not await EmailFollowUps(DELAY).after_stored(session, chat, emailed, DELIVERY_CONFIRMATION)
    async with demo_sessions() as session, session.begin():
        await session.execute(
            update(ScheduledJob)
            .where(ScheduledJob.id == job.id)
            .values(status=JobStatus.running.value, claimed_by="w-died", claimed_at=NOW)
        )
    later = NOW + DELAY + LEASE + dt.timedelta(seconds=1)
    assert await worker_at(demo_sessions, smtp_sink, later, "w2").run_due() == 1
    await worker_at(demo_sessions, smtp_sink, later + dt.timedelta(days=1), "w3").run_due()
    assert len(smtp_sink.mail.received) == 1
    async with demo_sessions() as session:
        (sent,) = (await session.scalars(select(EmailNotification))).all()
    assert (sent.store_id, sent.to_address, sent.kind, sent.message_id) == (
        STORE,
        ALEX,
        DELIVERY_CONFIRMATION,
        message["Message-ID"],
    )
    assert sent.first_seq == 1 and sent.last_seq == 3 and sent.sent_at == NOW + DELAY


async def test_a_shopper_who_reads_the_message_within_the_delay_gets_no_email(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    assert await deliver(demo_sessions)
    await worker_at(demo_sessions, smtp_sink, NOW).run_due()
    # Alex opens the widget: the gateway hands out the transcript and marks it read.
    conversations = ConversationService(demo_sessions)
    chat = await alex_chat(demo_sessions)
    shown = await conversations.messages_after(chat, 0)
    await conversations.mark_read(chat, shown[-1].seq)

    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    assert smtp_sink.mail.received == []
    (job,) = await email_jobs(demo_sessions)
    assert job.status == JobStatus.done.value
    async with demo_sessions() as session:
        assert (await session.scalars(select(EmailNotification))).all() == []


async def test_the_smtp_server_down_then_up_delivers_the_email_exactly_once(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink_down: SmtpSink
) -> None:
    assert await deliver(demo_sessions)
    await worker_at(demo_sessions, smtp_sink_down, NOW).run_due()
    due = NOW + DELAY
    await worker_at(demo_sessions, smtp_sink_down, due).run_due()  # connection refused
    (job,) = await email_jobs(demo_sessions)
    assert job.status == JobStatus.pending.value and job.attempts == 1
    assert job.due_at == due + retry_delay(1) and job.failure_reason == FAILURE_ERROR

    smtp_sink_down.start()
    await worker_at(demo_sessions, smtp_sink_down, due + retry_delay(1) - dt.timedelta(seconds=1)).run_due()
    assert smtp_sink_down.mail.received == []  # backing off
    await worker_at(demo_sessions, smtp_sink_down, due + retry_delay(1)).run_due()
    await worker_at(demo_sessions, smtp_sink_down, due + dt.timedelta(days=1)).run_due()
    assert len(smtp_sink_down.mail.received) == 1
    (job,) = await email_jobs(demo_sessions)
    assert job.status == JobStatus.done.value and job.attempts == 2


async def test_an_email_that_never_gets_through_is_a_failed_job_the_seller_sees(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink_down: SmtpSink
) -> None:
    # The attempts go on into Alex's evening in New York (his order's timezone): no quiet hours here.
    await save_store_settings(demo_sessions, {"email": {"quiet_hours": None}})
    assert await deliver(demo_sessions)
    await worker_at(demo_sessions, smtp_sink_down, NOW).run_due()
    at = NOW + DELAY
    for _ in range(MAX_ATTEMPTS):
        assert await worker_at(demo_sessions, smtp_sink_down, at).run_due() == 1
        at += dt.timedelta(hours=1)
    (job,) = await email_jobs(demo_sessions)
    assert job.status == JobStatus.failed.value
    (failed,) = await FailedJobs(demo_sessions).list(STORE)
    assert (failed.id, failed.kind, failed.reason, failed.attempts) == (job.id, UNREAD_EMAIL, FAILURE_ERROR, MAX_ATTEMPTS)
    assert await FailedJobs(demo_sessions).list("bloomkids-baby") == []


async def store_writes(
    sessions: async_sessionmaker[AsyncSession], chat: ChatSession, messages: list[NewMessage], kind: str
) -> bool:
    """What the worker and the agent console do: store the messages and follow them up, in one transaction."""
    async with sessions() as session, session.begin():
        stored = await ConversationService.append_in(session, chat, messages)
        return await EmailFollowUps(DELAY).after_stored(session, chat, stored, kind)


async def test_two_messages_of_one_burst_make_one_email_with_both(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    chat = await alex_chat(demo_sessions)
    assert await store_writes(
        demo_sessions, chat, [NewMessage("store", "Your parcel is held at customs.")], "exception_notice"
    )
    with frozen_at(NOW + dt.timedelta(minutes=2)):
        # Still unread: it joins the burst, whose email is still due at the first one's time.
        assert not await store_writes(
            demo_sessions, chat, [NewMessage("agent", "I called the carrier <b>for you</b>.", author="Mei")], "agent_reply"
        )
    (job,) = await email_jobs(demo_sessions)
    assert job.due_at == NOW + DELAY

    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    (message,) = smtp_sink.mail.messages
    text, html = body(message, "plain"), body(message, "html")
    assert "Your parcel is held at customs." in text and "I called the carrier <b>for you</b>." in text
    assert "Mei (Yangteng Auto Parts)" in text
    # The agent's words are text in the HTML part, never markup.
    assert "I called the carrier &lt;b&gt;for you&lt;/b&gt;." in html and "<b>for you</b>" not in html

    # A message after the email starts a new burst.
    with frozen_at(NOW + DELAY + dt.timedelta(minutes=1)):
        assert await store_writes(demo_sessions, chat, [NewMessage("store", "It cleared customs.")], "exception_notice")
    assert len(await email_jobs(demo_sessions)) == 2


async def test_the_emails_of_a_conversation_are_one_thread(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    # Hours apart, into Alex's evening in New York (his order's timezone): no quiet hours here.
    await save_store_settings(demo_sessions, {"email": {"quiet_hours": None}})
    chat = await alex_chat(demo_sessions)
    await store_writes(demo_sessions, chat, [NewMessage("store", "Your parcel is held at customs.")], "exception_notice")
    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    later = NOW + dt.timedelta(hours=2)
    with frozen_at(later):
        await store_writes(demo_sessions, chat, [NewMessage("store", "It was delivered.")], DELIVERY_CONFIRMATION)
    await worker_at(demo_sessions, smtp_sink, later + DELAY).run_due()
    with frozen_at(later + dt.timedelta(hours=2)):
        await store_writes(demo_sessions, chat, [NewMessage("agent", "Anything else?", author="Mei")], "agent_reply")
    await worker_at(demo_sessions, smtp_sink, later + dt.timedelta(hours=2) + DELAY).run_due()

    first, second, third = smtp_sink.mail.messages
    ids = [m["Message-ID"] for m in (first, second, third)]
    assert len(set(ids)) == 3 and all(i.startswith("<") and i.endswith("@mail.yangteng-auto.example>") for i in ids)
    root = first["References"]
    assert first["In-Reply-To"] == root and root not in ids
    assert second["In-Reply-To"] == ids[0] and second["References"].split() == [root, ids[0]]
    assert third["In-Reply-To"] == ids[1] and third["References"].split() == [root, ids[0], ids[1]]
    assert first["Subject"] == second["Subject"] == third["Subject"] == "Your messages from Yangteng Auto Parts"
    assert "It was delivered." in body(second, "plain") and "held at customs" not in body(second, "plain")

    # Another shopper's conversation is another thread.
    bob = await ConversationService(demo_sessions).for_shopper(STORE, "bob@example.com")
    await store_writes(demo_sessions, bob, [NewMessage("store", "Hello Bob.")], "exception_notice")
    await worker_at(demo_sessions, smtp_sink, NOW + dt.timedelta(days=1)).run_due()
    bobs = smtp_sink.mail.messages[3]
    assert bobs["To"] == "bob@example.com" and bobs["References"] != root


async def test_a_conversation_without_a_known_address_queues_no_email(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    anonymous, _token = await ConversationService(demo_sessions).start(STORE)
    assert not await store_writes(demo_sessions, anonymous, [NewMessage("agent", "Hello?", author="Mei")], "agent_reply")
    # The shopper's own turn and the bot's answers are not what the email is for.
    chat = await alex_chat(demo_sessions)
    assert not await store_writes(demo_sessions, chat, [NewMessage("shopper", "hi"), NewMessage("bot", "Hello!")], "x")
    assert await email_jobs(demo_sessions) == []


# --- through the gateway: what the shopper's widget was given is read ---

SHOPPER_SECRET = "shopper-secret-test-7d1e"


@pytest.fixture
async def widget(demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> AsyncIterator[TestClient]:
    """The gateway the widget talks to (no assistant needed to read a transcript)."""
    async with demo_sessions() as session, session.begin():
        await session.execute(update(Store).where(Store.id == STORE).values(shopper_secret=SHOPPER_SECRET))
    client = TestClient(TestServer(create_app(load_settings({"VAR_DIR": str(tmp_path)}), demo_sessions)))
    await client.start_server()
    yield client
    await client.close()


async def open_widget(widget: TestClient) -> tuple[str, dict[str, str]]:
    """Alex, signed in on the store's page, opens the widget: he lands in his conversation."""
    return await open_widget_as(widget, ALEX)


async def read_up_to(sessions: async_sessionmaker[AsyncSession], conversation_id: str) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(Conversation.shopper_read_seq).where(
                    Conversation.id == conversation_id, Conversation.store_id == STORE
                )
            )
            or 0
        )


async def test_a_shopper_who_opens_the_widget_within_the_delay_gets_no_email(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink, widget: TestClient
) -> None:
    assert await deliver(demo_sessions)
    await worker_at(demo_sessions, smtp_sink, NOW).run_due()
    conversation_id, auth = await open_widget(widget)
    assert await read_up_to(demo_sessions, conversation_id) == 0
    # Another conversation's token reads nothing, and marks nothing read.
    _, bobs = await open_widget_as(widget, "bob@example.com")
    assert (await widget.get(f"/api/v1/conversations/{conversation_id}/messages", headers=bobs)).status == 401
    assert await read_up_to(demo_sessions, conversation_id) == 0

    response = await widget.get(f"/api/v1/conversations/{conversation_id}/messages", headers=auth)
    assert [m["seq"] for m in (await response.json())["messages"]] == [1, 2, 3]
    assert await read_up_to(demo_sessions, conversation_id) == 3

    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    assert smtp_sink.mail.received == []


async def test_a_shopper_with_the_widget_open_gets_the_messages_pushed_and_no_email(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink, widget: TestClient
) -> None:
    conversation_id, auth = await open_widget(widget)
    token = auth["Authorization"].removeprefix("Bearer ")
    async with widget.ws_connect(f"/api/v1/conversations/{conversation_id}/ws?token={token}") as ws:
        assert await deliver(demo_sessions)
        await worker_at(demo_sessions, smtp_sink, NOW).run_due()  # stored by the worker, pushed by the gateway
        pushed = [await ws.receive_json(timeout=10) for _ in range(3)]
        assert [event["message"]["seq"] for event in pushed] == [1, 2, 3]
        for _ in range(100):  # the gateway marks them read right after pushing them
            if await read_up_to(demo_sessions, conversation_id) == 3:
                break
            await asyncio.sleep(0.05)
        assert await read_up_to(demo_sessions, conversation_id) == 3
    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    assert smtp_sink.mail.received == []


async def open_widget_as(widget: TestClient, email_address: str) -> tuple[str, dict[str, str]]:
    response = await widget.post(
        f"/api/v1/stores/{STORE}/conversations", json={"shopper": signed_shopper(SHOPPER_SECRET, email_address)}
    )
    assert response.status == 201
    body_ = await response.json()
    return body_["conversation_id"], {"Authorization": f"Bearer {body_['token']}"}


async def test_an_unread_review_invitation_is_emailed_as_its_own_kind(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    await schedule(demo_sessions, DELIVERED_ORDER)
    order = await order_by_number(demo_sessions, DELIVERED_ORDER)
    with frozen_at(DUE):
        queue = JobQueue(demo_sessions, "w1", clock=lambda: DUE)
        (job,) = await queue.claim()
        invitations = ReviewInvitations(demo_sessions, FakeRasa(), EmailFollowUps(DELAY))  # type: ignore[arg-type]
        assert await invitations.send_invitation(job, queue) == 2
    (email_job,) = await email_jobs(demo_sessions)
    assert email_job.payload["kind"] == REVIEW_INVITATION and email_job.due_at == DUE + DELAY

    await worker_at(demo_sessions, smtp_sink, DUE + DELAY).run_due()
    ((_, rcpt_tos, message),) = smtp_sink.mail.received
    assert rcpt_tos == [order.shopper_email]
    assert f"How is everything with order {DELIVERED_ORDER}?" in body(message, "plain")
    async with demo_sessions() as session:
        assert (await session.scalars(select(EmailNotification.kind))).all() == [REVIEW_INVITATION]


async def test_a_message_stored_while_the_email_is_being_sent_gets_the_next_email(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    chat = await alex_chat(demo_sessions)
    await store_writes(demo_sessions, chat, [NewMessage("store", "Your parcel is held at customs.")], "exception_notice")

    class AgentAnswersMeanwhile(SmtpMailer):
        async def send(self, message: EmailMessage, mail_from: str | None = None) -> None:
            # Joins the burst's job key, which is already running: the email being sent lacks it.
            assert not await store_writes(
                demo_sessions, chat, [NewMessage("agent", "I called the carrier.", author="Mei")], "agent_reply"
            )
            await super().send(message, mail_from)

    due = NOW + DELAY
    queue = JobQueue(demo_sessions, "w", clock=lambda: due)
    mailer = AgentAnswersMeanwhile(SmtpServer("127.0.0.1", smtp_sink.port, tls="none", timeout=5))
    (job,) = await queue.claim()
    assert await UnreadEmails(demo_sessions, email_settings(), mailer).send(job, queue) == 1
    # The agent's answer is a burst of its own, due its own delay after it was stored.
    first, later = sorted(await email_jobs(demo_sessions), key=lambda j: j.id)
    assert later.status == JobStatus.pending.value and later.due_at == NOW + DELAY
    assert later.payload["first_seq"] == 2

    await worker_at(demo_sessions, smtp_sink, due + dt.timedelta(minutes=1)).run_due()
    one, two = smtp_sink.mail.messages
    assert "held at customs" in body(one, "plain") and "I called the carrier." not in body(one, "plain")
    assert "I called the carrier." in body(two, "plain") and "held at customs" not in body(two, "plain")


async def test_messages_nobody_queued_an_email_for_are_not_emailed_with_a_later_burst(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    chat = await alex_chat(demo_sessions)
    # Stored while email was off (or before it existed): no follow-up.
    await ConversationService(demo_sessions).append(chat, [NewMessage("store", "An old notice from last month.")])
    with frozen_at(NOW + dt.timedelta(days=30)):
        assert await store_writes(demo_sessions, chat, [NewMessage("store", "Your parcel was delivered.")], "x")
    await worker_at(demo_sessions, smtp_sink, NOW + dt.timedelta(days=30) + DELAY).run_due()
    (message,) = smtp_sink.mail.messages
    assert "Your parcel was delivered." in body(message, "plain") and "old notice" not in body(message, "plain")


class HandoffRasa:
    """Rasa's side of a handoff: it takes the pause and the agent's words into its tracker."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def pause(self, conversation_id: str) -> None:
        self.calls.append("pause")

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        self.calls.append("events")


async def test_an_agents_reply_to_an_offline_shopper_is_emailed(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    """Wired as the gateway wires it (Services): the reply and its email job are stored together,
    and the worker emails the reply, in the agent's words, after the delay."""
    accounts = AgentAccounts(demo_sessions)
    await accounts.add("mei@yangteng-auto.example", "Mei", "a long enough password", [STORE])
    signed_in = await ConsoleSessions(demo_sessions).login("mei@yangteng-auto.example", "a long enough password", "ip")
    assert signed_in is not None
    agent, _ = signed_in
    chat = await alex_chat(demo_sessions)
    await ConversationService(demo_sessions).append(chat, [NewMessage("shopper", "Is anyone there?")])
    settings = load_settings({"SMTP_HOST": "127.0.0.1", "EMAIL_SENDER": SENDER, "EMAIL_AFTER_UNREAD_SECONDS": "300"})
    rasa = HandoffRasa()
    handoff = HandoffService(
        demo_sessions,
        ConversationService(demo_sessions),
        rasa,  # type: ignore[arg-type]
        ConversationView(demo_sessions),
        EmailFollowUps.when_enabled(settings),
    )
    await handoff.claim(agent, chat.conversation_id)
    await handoff.reply(agent, chat.conversation_id, "Hi Alex, Mei here: your oil pan left Fuzhou today.")
    assert rasa.calls == ["pause", "events"]
    (job,) = await email_jobs(demo_sessions)
    assert job.payload["kind"] == "agent_reply" and job.due_at == NOW + DELAY

    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    ((_, rcpt_tos, message),) = smtp_sink.mail.received
    assert rcpt_tos == [ALEX]
    assert "Hi Alex, Mei here: your oil pan left Fuzhou today." in body(message, "plain")


# --- the store's words, the reply address, the continue link ---


async def save_store_settings(sessions: async_sessionmaker[AsyncSession], patch: dict[str, Any]) -> None:
    await StoreSettingsService(sessions).update(STORE, patch, "test")


def continue_token(text: str) -> str:
    found = re.search(re.escape(PUBLIC) + r"/continue/(\S+)", text)
    assert found is not None, text
    return found.group(1)


def run_with(
    sessions: async_sessionmaker[AsyncSession], emails: UnreadEmails | EmailsOff, at: dt.datetime, name: str = "w"
) -> Worker:
    queue = JobQueue(sessions, name, clock=lambda: at)
    return Worker(queue, DeliveryNotices(sessions, ConfirmingRasa(), EmailFollowUps(DELAY)), emails=emails)  # type: ignore[arg-type]


async def test_the_email_is_in_the_stores_words_with_its_reply_address_and_a_continue_link(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    await save_store_settings(
        demo_sessions,
        {
            "templates": {
                "email_subject": "News from {store_name}",
                "email_intro": "Hello {shopper_first_name} <3, from {store_name}:",
                "email_footer": "Thanks, the {store_name} team",
            },
            "email": {"sender_name": "Mei at Yangteng", "reply_domain": "reply.yangteng-auto.example"},
        },
    )
    chat = await alex_chat(demo_sessions)
    await store_writes(demo_sessions, chat, [NewMessage("store", "Your parcel is held at customs.")], "exception_notice")
    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()

    ((mail_from, _, message),) = smtp_sink.mail.received
    token = await conversation_reply_token(demo_sessions)
    assert re.fullmatch(r"[a-z2-7]{24}", token)  # 15 random bytes, lowercase base32
    assert mail_from == f"bounce+{token}@reply.yangteng-auto.example"
    assert message["Reply-To"] == f"reply+{token}@reply.yangteng-auto.example"
    assert message["From"] == f"Mei at Yangteng <{SENDER}>" and message["Subject"] == "News from Yangteng Auto Parts"
    text, html = body(message, "plain"), body(message, "html")
    assert text.startswith("Hello Alex <3, from Yangteng Auto Parts:") and "Thanks, the Yangteng Auto Parts team" in text
    assert "Hello Alex &lt;3, from Yangteng Auto Parts:" in html and "<3" not in html

    # The continue link opens this conversation of this store, until it expires.
    link_token = continue_token(text)
    assert f'href="{PUBLIC}/continue/{link_token}"' in html
    links = SignedLinks(LINK_SECRET)
    assert links.verify(CONTINUE_CHAT, link_token, NOW + DELAY) == [STORE, chat.conversation_id]
    with pytest.raises(BadSignedLink, match="expired"):
        links.verify(CONTINUE_CHAT, link_token, NOW + DELAY + dt.timedelta(days=14))
    with pytest.raises(BadSignedLink):
        links.verify(UNSUBSCRIBE, link_token, NOW + DELAY)

    # The next email of the conversation keeps its reply address.
    later = NOW + dt.timedelta(hours=1)
    with frozen_at(later):
        await store_writes(demo_sessions, chat, [NewMessage("store", "It cleared customs.")], "exception_notice")
    await worker_at(demo_sessions, smtp_sink, later + DELAY).run_due()
    assert smtp_sink.mail.messages[1]["Reply-To"] == message["Reply-To"]
    assert await conversation_reply_token(demo_sessions) == token


async def test_a_kind_the_seller_turned_off_is_not_emailed_and_its_job_says_why(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    chat = await alex_chat(demo_sessions)
    # Queued while the kind was on, turned off before it is due: the job finishes, saying why.
    await store_writes(demo_sessions, chat, [NewMessage("store", "Your parcel is held at customs.")], "exception_notice")
    await save_store_settings(demo_sessions, {"email": {"kinds": {"exception_notice": False}}})
    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    assert smtp_sink.mail.received == []
    (job,) = await email_jobs(demo_sessions)
    assert job.status == JobStatus.done.value and job.payload["skipped"] == SKIPPED_KIND_OFF
    assert await FailedJobs(demo_sessions).list(STORE) == []
    # While it is off, no email job is queued for it at all.
    with frozen_at(NOW + dt.timedelta(minutes=30)):
        assert not await store_writes(demo_sessions, chat, [NewMessage("store", "Still at customs.")], "exception_notice")
    assert len(await email_jobs(demo_sessions)) == 1

    # A kind still on goes, without the messages of the skipped one.
    later = NOW + dt.timedelta(hours=1)
    with frozen_at(later):
        await store_writes(demo_sessions, chat, [NewMessage("agent", "I called the carrier.", author="Mei")], "agent_reply")
    await worker_at(demo_sessions, smtp_sink, later + DELAY).run_due()
    (message,) = smtp_sink.mail.messages
    assert "I called the carrier." in body(message, "plain") and "customs" not in body(message, "plain")


async def test_a_suppressed_address_gets_no_email_at_all(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    async with demo_sessions() as session, session.begin():
        assert await suppress(session, STORE, "Alex@Example.com", "bounced", "5.1.1")
    chat = await alex_chat(demo_sessions)
    await store_writes(demo_sessions, chat, [NewMessage("agent", "Hello Alex?", author="Mei")], "agent_reply")
    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    assert smtp_sink.mail.received == []
    (job,) = await email_jobs(demo_sessions)
    assert job.status == JobStatus.done.value and job.payload["skipped"] == SKIPPED_SUPPRESSED


async def test_a_review_invitation_carries_one_click_unsubscribe_and_a_transactional_email_does_not(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    chat = await alex_chat(demo_sessions)
    await store_writes(demo_sessions, chat, [NewMessage("store", "How was your order?")], REVIEW_INVITATION)
    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    (review,) = smtp_sink.mail.messages
    found = re.fullmatch(re.escape(f"<{PUBLIC}/email/unsubscribe/") + r"([^>]+)>", review["List-Unsubscribe"])
    assert found is not None and review["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert SignedLinks(LINK_SECRET).verify(UNSUBSCRIBE, found.group(1), NOW + dt.timedelta(days=300)) == [STORE, ALEX]
    assert f"{PUBLIC}/email/unsubscribe/{found.group(1)}" in body(review, "plain")

    later = NOW + dt.timedelta(hours=1)
    with frozen_at(later):
        await store_writes(demo_sessions, chat, [NewMessage("agent", "Anything else?", author="Mei")], "agent_reply")
    await worker_at(demo_sessions, smtp_sink, later + DELAY).run_due()
    agent = smtp_sink.mail.messages[1]
    assert agent["List-Unsubscribe"] is None and agent["List-Unsubscribe-Post"] is None
    assert "/email/unsubscribe/" not in body(agent, "plain")


async def test_a_review_email_to_an_address_that_opted_out_of_reviews_is_not_sent(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    # Opted out in the chat: the same table.
    async with demo_sessions() as session, session.begin():
        session.add(ReviewOptOut(store_id=STORE, shopper_email=ALEX, created_at=NOW))
    chat = await alex_chat(demo_sessions)
    await store_writes(demo_sessions, chat, [NewMessage("store", "How was your order?")], "review_reminder")
    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    assert smtp_sink.mail.received == []
    (job,) = await email_jobs(demo_sessions)
    assert job.payload["skipped"] == SKIPPED_REVIEW_OPT_OUT
    # Transactional emails still go.
    later = NOW + dt.timedelta(hours=1)
    with frozen_at(later):
        await store_writes(demo_sessions, chat, [NewMessage("store", "Delivered.")], DELIVERY_CONFIRMATION)
    await worker_at(demo_sessions, smtp_sink, later + DELAY).run_due()
    assert len(smtp_sink.mail.received) == 1


# --- quiet hours ---


async def set_timezone(sessions: async_sessionmaker[AsyncSession], timezone: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Conversation)
            .where(Conversation.store_id == STORE, Conversation.shopper_email == ALEX)
            .values(shopper_timezone=timezone)
        )


async def test_an_email_due_in_the_shoppers_quiet_hours_waits_until_they_end(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    chat = await alex_chat(demo_sessions)
    await set_timezone(demo_sessions, "Europe/Berlin")  # 22:05 UTC is 23:05 there, in 21:00-08:00
    await store_writes(demo_sessions, chat, [NewMessage("store", "Your parcel is held at customs.")], "exception_notice")
    assert await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due() == 1
    assert smtp_sink.mail.received == []
    (job,) = await email_jobs(demo_sessions)
    morning = dt.datetime(2026, 11, 28, 7, 0, tzinfo=dt.UTC)  # 08:00 in Berlin
    # Put back for the morning: not a failure, and not an attempt.
    assert job.status == JobStatus.pending.value and job.due_at == morning and job.attempts == 0
    assert job.failure_reason is None

    await worker_at(demo_sessions, smtp_sink, morning - dt.timedelta(seconds=1)).run_due()
    assert smtp_sink.mail.received == []
    await worker_at(demo_sessions, smtp_sink, morning).run_due()
    assert len(smtp_sink.mail.received) == 1


async def test_an_unknown_timezone_does_not_hold_the_email(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    chat = await alex_chat(demo_sessions)
    await set_timezone(demo_sessions, "Mars/Olympus_Mons")
    await store_writes(demo_sessions, chat, [NewMessage("store", "Your parcel is held at customs.")], "exception_notice")
    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    assert len(smtp_sink.mail.received) == 1


async def test_the_stores_own_quiet_hours_are_the_ones_kept(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    # 23:05 in Berlin is outside these.
    await save_store_settings(demo_sessions, {"email": {"quiet_hours": {"start": "01:00", "end": "05:00"}}})
    chat = await alex_chat(demo_sessions)
    await set_timezone(demo_sessions, "Europe/Berlin")
    await store_writes(demo_sessions, chat, [NewMessage("store", "Your parcel is held at customs.")], "exception_notice")
    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    assert len(smtp_sink.mail.received) == 1


async def test_without_the_browsers_timezone_the_orders_one_keeps_the_quiet_hours(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    # Alex's widget never said; his order says America/New_York. 02:00 UTC is 21:00 there.
    chat = await alex_chat(demo_sessions)
    evening = NOW + dt.timedelta(hours=4)
    with frozen_at(evening):
        await store_writes(demo_sessions, chat, [NewMessage("store", "Your parcel is held at customs.")], "exception_notice")
    await worker_at(demo_sessions, smtp_sink, evening + DELAY).run_due()
    assert smtp_sink.mail.received == []
    (job,) = await email_jobs(demo_sessions)
    assert job.due_at == dt.datetime(2026, 11, 28, 13, 0, tzinfo=dt.UTC)  # 08:00 in New York
    await worker_at(demo_sessions, smtp_sink, job.due_at).run_due()
    assert len(smtp_sink.mail.received) == 1


async def test_an_anonymous_chat_that_proved_its_order_is_emailed_at_the_orders_address(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    chat, _ = await ConversationService(demo_sessions).start(STORE)
    assert not await store_writes(demo_sessions, chat, [NewMessage("agent", "Hello?", author="Mei")], "agent_reply")
    async with demo_sessions() as session, session.begin():
        await session.execute(update(Conversation).where(Conversation.id == chat.conversation_id).values(contact_email=ALEX))
    later = NOW + dt.timedelta(minutes=10)
    with frozen_at(later):
        assert await store_writes(
            demo_sessions, chat, [NewMessage("agent", "Your replacement ships today.", author="Mei")], "agent_reply"
        )
    await worker_at(demo_sessions, smtp_sink, later + DELAY).run_due()
    ((_, recipients, message),) = smtp_sink.mail.received
    assert recipients == [ALEX] and "Your replacement ships today." in body(message, "plain")


# --- the uploaded manual, attached ---

PDF = b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF\n"


async def manual_message(sessions: async_sessionmaker[AsyncSession], store_id: str = STORE, sku: str = "OP-1001") -> str:
    stored = await Manuals(sessions).upload(store_id, sku, PDF, PUBLIC, "test")
    return PUBLIC + stored.path()


async def test_an_uploaded_manual_is_attached_within_the_limit_and_linked_beyond_it(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    url = await manual_message(demo_sessions)
    chat = await alex_chat(demo_sessions)
    manual = NewMessage("store", "Here is the manual.", attachment={"type": "pdf", "url": url, "title": "Manual (PDF)"})
    await store_writes(demo_sessions, chat, [manual], DELIVERY_CONFIRMATION)
    await run_with(demo_sessions, unread_emails(demo_sessions, smtp_sink), NOW + DELAY).run_due()
    (message,) = smtp_sink.mail.messages
    assert message.get_content_type() == "multipart/mixed"
    (attached,) = list(message.iter_attachments())
    assert attached.get_content_type() == "application/pdf" and attached.get_content() == PDF
    assert attached.get_filename() == url.rpartition("/")[2]
    assert url in body(message, "plain")  # the link stays too

    # Over the limit: the link only.
    later = NOW + dt.timedelta(hours=1)
    with frozen_at(later):
        await store_writes(demo_sessions, chat, [manual], DELIVERY_CONFIRMATION)
    small = unread_emails(demo_sessions, smtp_sink, EMAIL_ATTACHMENT_MAX_BYTES=str(len(PDF) - 1))
    await run_with(demo_sessions, small, later + DELAY).run_due()
    linked = smtp_sink.mail.messages[1]
    assert list(linked.iter_attachments()) == [] and url in body(linked, "plain")


async def test_another_stores_manual_is_never_attached(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    url = await manual_message(demo_sessions, "bloomkids-baby", "BK-CR100")
    chat = await alex_chat(demo_sessions)
    await store_writes(
        demo_sessions, chat, [NewMessage("store", "Manual", attachment={"type": "pdf", "url": url})], "x_kind"
    )
    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    (message,) = smtp_sink.mail.messages
    assert list(message.iter_attachments()) == []


# --- a store's own SMTP server ---


async def test_a_store_with_its_own_smtp_server_sends_through_it(
    demo_sessions: async_sessionmaker[AsyncSession],
    smtp_sink: SmtpSink,
    smtp_sink_down: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The test's "store server" is on this machine, which a real store's never may be
    # (tests/email/test_smtp_client.py): here only, the public-address check stands aside.
    async def public(server: SmtpServer) -> None:
        return None

    monkeypatch.setattr(smtp_client, "_refuse_private", public)
    async with demo_sessions() as session, session.begin():
        await session.execute(
            update(Store).where(Store.id == STORE).values(smtp_host="127.0.0.1", smtp_port=smtp_sink.port, smtp_tls="none")
        )
    chat = await alex_chat(demo_sessions)
    await store_writes(demo_sessions, chat, [NewMessage("agent", "Hello Alex", author="Mei")], "agent_reply")
    # The deployment's server is down; the store's is up.
    await run_with(demo_sessions, unread_emails(demo_sessions, smtp_sink_down), NOW + DELAY).run_due()
    ((_, rcpt_tos, _),) = smtp_sink.mail.received
    assert rcpt_tos == [ALEX]
    (job,) = await email_jobs(demo_sessions)
    assert job.status == JobStatus.done.value

    # Another store still goes through the deployment's.
    bob = await ConversationService(demo_sessions).for_shopper("bloomkids-baby", "bob@example.com")
    await store_writes(demo_sessions, bob, [NewMessage("agent", "Hello Bob", author="Ann")], "agent_reply")
    smtp_sink_down.start()
    await run_with(demo_sessions, unread_emails(demo_sessions, smtp_sink_down), NOW + DELAY).run_due()
    assert len(smtp_sink_down.mail.received) == 1 and len(smtp_sink.mail.received) == 1


# --- the bot's answers to an emailed turn ---


async def test_the_bots_answer_to_an_emailed_turn_is_emailed_at_once(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    chat = await alex_chat(demo_sessions)
    turn = [NewMessage("shopper", "Where is my parcel?"), NewMessage("bot", "It is in Newark today.")]
    assert await store_writes(demo_sessions, chat, turn, EMAIL_ANSWER)
    (job,) = await email_jobs(demo_sessions)
    assert job.due_at == NOW and job.payload["kind"] == EMAIL_ANSWER
    await set_timezone(demo_sessions, "Europe/Berlin")  # late there, but the shopper is waiting for it
    await worker_at(demo_sessions, smtp_sink, NOW).run_due()
    (message,) = smtp_sink.mail.messages
    assert "It is in Newark today." in body(message, "plain") and "Where is my parcel?" not in body(message, "plain")
    async with demo_sessions() as session:
        assert (await session.scalars(select(EmailNotification.kind))).all() == [EMAIL_ANSWER]


async def test_an_answer_that_joins_a_waiting_burst_makes_it_go_now(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    chat = await alex_chat(demo_sessions)
    await store_writes(demo_sessions, chat, [NewMessage("store", "Your parcel is held at customs.")], "exception_notice")
    soon = NOW + dt.timedelta(minutes=1)
    with frozen_at(soon):
        assert not await store_writes(
            demo_sessions, chat, [NewMessage("shopper", "Why?"), NewMessage("bot", "Papers are missing.")], EMAIL_ANSWER
        )
    (job,) = await email_jobs(demo_sessions)
    assert job.due_at == soon
    await worker_at(demo_sessions, smtp_sink, soon).run_due()
    (message,) = smtp_sink.mail.messages
    assert "held at customs" in body(message, "plain") and "Papers are missing." in body(message, "plain")


async def test_bot_answers_the_widget_showed_are_not_emailed(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    conversations = ConversationService(demo_sessions)
    chat = await alex_chat(demo_sessions)
    await conversations.append(chat, [NewMessage("shopper", "hi"), NewMessage("bot", "Hello!")])
    await conversations.mark_read(chat, 2)
    # An ordinary burst does not make the bot's answers emailable...
    assert not await store_writes(demo_sessions, chat, [NewMessage("bot", "Anything else?")], "agent_reply")
    # ...and an answer already shown is read.
    async with demo_sessions() as session, session.begin():
        shown = await conversations.messages_after(chat, 1)
        assert not await EmailFollowUps(DELAY).after_stored(session, chat, shown[:1], EMAIL_ANSWER)
    assert await email_jobs(demo_sessions) == []


# --- a worker with email off ---


async def test_a_job_queued_while_email_was_on_finishes_as_skipped_on_a_worker_with_email_off(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink
) -> None:
    chat = await alex_chat(demo_sessions)
    await store_writes(demo_sessions, chat, [NewMessage("store", "Your parcel is held at customs.")], "exception_notice")
    await run_with(demo_sessions, EmailsOff(demo_sessions), NOW + DELAY).run_due()
    (job,) = await email_jobs(demo_sessions)
    assert job.status == JobStatus.done.value and job.payload["skipped"] == SKIPPED_EMAIL_OFF and job.attempts == 1
    assert await FailedJobs(demo_sessions).list(STORE) == [] and smtp_sink.mail.received == []
