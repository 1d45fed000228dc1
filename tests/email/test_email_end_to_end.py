"""Issue 16 end to end: the real gateway, worker, Rasa server and action server, a real SMTP
server (aiosmtpd on a free port), and shoppers away from the page.

A "Delivered" webhook while Alex is offline is emailed once (the same webhook again adds
nothing), with the manual and video links and a continue link that opens the conversation; his
reply by email (with Gmail's quoted history) lands in the transcript as its new text only, the
assistant answers it, and the answer is emailed back in the same thread. Inbound posts with a
wrong secret or an unknown reply address are refused and change nothing. With the SMTP server
down, another shopper's email waits in the job queue and arrives once when it is back.

One stack for the module: starting Rasa is most of the runtime.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from bot.chat.conversations import ConversationService
from bot.core.clock import utc_now
from bot.core.config import Settings
from bot.core.db import create_engine, create_sessionmaker
from bot.core.models import Conversation, JobStatus, Order, ReviewOptOut, ScheduledJob, Shipment, Store
from bot.email.unread_messages import UNREAD_EMAIL
from bot.runtime.stack import Stack
from bot.seller.store_settings import StoreSettingsService
from bot.shipping.tracking_updates import aftership_signature
from tests.email.conftest import SmtpSink
from tests.email.test_composition import part
from tests.engine import running_engine
from tests.security.test_no_lost_replies import delivered_body

pytestmark = pytest.mark.engine

SECRET = "whsec-email-end-to-end"
STORE = "yangteng-auto"
ALEX = "alex@example.com"
TRACKING = "9400111899223100000000"
SENDER = "assistant@mail.yangteng.test"
REPLY_DOMAIN = "mail.yangteng.test"
DELAY_SECONDS = 2
#: OP-1001's links in demo/demo_stores.jsonl: the delivery confirmation carries both.
MANUAL_URL = "https://yangteng-auto.example/manuals/op-1001.pdf"
VIDEO_URL = "https://yangteng-auto.example/videos/op-1001-install.mp4"
QUESTION = "How do I install it?"
#: Not delivered yet, and a delivery can follow (as tests/security/test_no_lost_replies.py).
UNDELIVERED = {"InTransit", "OutForDelivery", "InfoReceived", "Exception", "AttemptFail", "AvailableForPickup"}


@pytest.fixture(scope="module")
def email_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Settings, SmtpSink]]:
    """The whole stack once for the module, sending through a real SMTP server started before it."""
    sink = SmtpSink()
    sink.start()
    env = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(sink.port),
        "SMTP_TLS": "none",
        "EMAIL_SENDER": SENDER,
        "EMAIL_AFTER_UNREAD_SECONDS": str(DELAY_SECONDS),
    }
    try:
        with running_engine(tmp_path_factory.mktemp("email-e2e"), with_gateway=True, with_worker=True, env=env) as (
            stack,
            settings,
        ):
            asyncio.run(_prepare_store(settings))
            yield stack, settings, sink
    finally:
        sink.stop()


async def _db(settings: Settings, work: Any) -> Any:
    db = create_engine(settings.database_url)
    try:
        return await work(create_sessionmaker(db))
    finally:
        await db.dispose()


async def _prepare_store(settings: Settings) -> None:
    """The store's webhook secret (its carrier integration), and no quiet hours: the test runs at
    any hour of the shoppers' day."""

    async def work(sessions):  # type: ignore[no-untyped-def]
        async with sessions() as session, session.begin():
            await session.execute(update(Store).where(Store.id == STORE).values(webhook_secret=SECRET))
        await StoreSettingsService(sessions).update(STORE, {"email": {"quiet_hours": None}}, "test")

    await _db(settings, work)


async def _deliver(http: aiohttp.ClientSession, settings: Settings, tracking_number: str) -> None:
    body = delivered_body(tracking_number)
    async with http.post(
        f"{settings.gateway_url}/webhooks/tracking/aftership/{STORE}",
        data=body,
        headers={"Content-Type": "application/json", "aftership-hmac-sha256": aftership_signature(SECRET, body)},
    ) as response:
        assert response.status == 200, await response.text()


def _to(sink: SmtpSink, address: str) -> list[EmailMessage]:
    return [m for m in sink.mail.messages if address in [a for _, a in getaddresses([str(m["To"])])]]


async def _emails_to(sink: SmtpSink, address: str, count: int, within: float) -> list[EmailMessage]:
    """The emails to ``address`` once there are ``count`` of them (or ``within`` seconds have passed)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = _to(sink, address)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.5)
    return _to(sink, address)


def _continue_link(text: str) -> str:
    [link] = set(re.findall(r"https?://\S+/continue/[A-Za-z0-9_\-.]+", text))
    return link


def _ids(value: object) -> list[str]:
    return re.findall(r"<[^<>\s]+>", str(value or ""))


async def _transcript(http: aiohttp.ClientSession, settings: Settings, chat: dict[str, str]) -> list[dict[str, Any]]:
    """The whole transcript as the widget reads it (which marks it read: only after the emails)."""
    async with http.get(
        f"{settings.gateway_url}/api/v1/conversations/{chat['conversation_id']}/messages",
        params={"limit": "200"},
        headers={"Authorization": f"Bearer {chat['token']}"},
    ) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
        assert body["next_after"] is None
        return list(body["messages"])


async def _inbound(
    http: aiohttp.ClientSession, settings: Settings, fields: dict[str, str], secret: str | None = None
) -> tuple[int, Any]:
    # multipart/form-data, as inbound-parse providers post it (even without attachments).
    form = aiohttp.FormData(default_to_multipart=True)
    for name, value in fields.items():
        form.add_field(name, value)
    url = f"{settings.gateway_url}/webhooks/email/inbound/{secret or settings.email_inbound_secret}"
    async with http.post(url, data=form) as response:
        return response.status, await response.json(content_type=None)


def _reply_fields(reply_to: str, original: EmailMessage, message_id: str) -> dict[str, str]:
    """Alex's answer as an inbound-parse provider posts it: Gmail's quoted history under his words."""
    quoted = "\n".join(f"> {line}" for line in part(original, "plain").splitlines())
    text = f"{QUESTION}\n\nOn Fri, 27 Nov 2026 at 16:40, Yangteng Auto <{SENDER}> wrote:\n{quoted}\n"
    subject = f"Re: {original['Subject']}"
    headers = (
        f"Message-ID: {message_id}\r\n"
        f"In-Reply-To: {original['Message-ID']}\r\n"
        f"References: {original['Message-ID']}\r\n"
        f"From: Alex Miller <{ALEX}>\r\n"
        f"To: {reply_to}\r\n"
        f"Subject: {subject}\r\n"
    )
    return {"from": f"Alex Miller <{ALEX}>", "to": reply_to, "subject": subject, "text": text, "headers": headers}


async def _unread_email_jobs(settings: Settings, conversation_id: str) -> list[tuple[str, int, str | None]]:
    async def work(sessions):  # type: ignore[no-untyped-def]
        async with sessions() as session:
            rows = await session.execute(
                select(ScheduledJob.status, ScheduledJob.attempts, ScheduledJob.last_error).where(
                    ScheduledJob.store_id == STORE,
                    ScheduledJob.kind == UNREAD_EMAIL,
                    ScheduledJob.key.startswith(f"{UNREAD_EMAIL}:{conversation_id}:", autoescape=True),
                )
            )
            return [tuple(row) for row in rows.all()]

    return await _db(settings, work)


async def test_a_delivery_is_emailed_once_continues_in_chat_and_an_emailed_reply_is_answered_by_email(
    email_stack: tuple[Stack, Settings, SmtpSink],
) -> None:
    _, settings, sink = email_stack
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        # 1. Delivered while Alex has no widget open: one email, with the manual and the video.
        await _deliver(http, settings, TRACKING)
        emails = await _emails_to(sink, ALEX, 1, within=60)
        assert len(emails) == 1, "the delivery is emailed"
        first = emails[0]
        text, page = part(first, "plain"), part(first, "html")
        for link in (MANUAL_URL, VIDEO_URL):
            assert link in text and link in page
        reply_to = str(first["Reply-To"])
        assert re.fullmatch(rf"reply\+[a-z2-7]{{24,}}@{re.escape(REPLY_DOMAIN)}", reply_to), reply_to
        assert SENDER in str(first["From"])
        link = _continue_link(text)
        assert link.startswith(f"{settings.public_base_url}/continue/")
        assert first["List-Unsubscribe"] is None, "a delivery confirmation is transactional"

        # The same webhook again (a carrier's retry): still exactly one email, well past the delay.
        await _deliver(http, settings, TRACKING)
        await asyncio.sleep(DELAY_SECONDS + 8)
        assert len(_to(sink, ALEX)) == 1

        # 2. The continue link opens this conversation in the widget (after the email assertions:
        # reading the transcript marks it read).
        token = link.rpartition("/continue/")[2]
        async with http.get(f"{settings.gateway_url}/continue/{token}", allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"].endswith(f"#chat-continue={token}")
        async with http.post(f"{settings.gateway_url}/api/v1/conversations/continue", json={"token": token}) as response:
            assert response.status == 200, await response.text()
            chat = await response.json()
        assert chat["store_id"] == STORE
        alex = await _db(settings, lambda sessions: ConversationService(sessions).for_shopper(STORE, ALEX))
        assert chat["conversation_id"] == alex.conversation_id
        transcript = await _transcript(http, settings, chat)
        store_texts = [m["text"] for m in transcript if m["sender"] == "store" and m["text"]]
        assert store_texts and "FZ-20931" in store_texts[0], "the delivery confirmation is in the conversation"
        for stored in store_texts:
            assert stored.splitlines()[0] in text, "the email carries the messages of the conversation"
        attachments = [m["attachment"]["url"] for m in transcript if m["attachment"]]
        assert MANUAL_URL in attachments and VIDEO_URL in attachments

        # 3. Alex answers the email from his mail client, quoting it.
        reply_id = "<CAF-alex-reply-1@mail.gmail.test>"
        fields = _reply_fields(reply_to, first, reply_id)
        status, body = await _inbound(http, settings, fields)
        assert status == 200, body
        assert body == {"result": "stored", "conversation_id": alex.conversation_id}

        # The answer is emailed at once (before the widget reads it: reading would make it read).
        emails = await _emails_to(sink, ALEX, 2, within=60)
        assert len(emails) == 2, "the assistant's answer to an emailed question is emailed"
        answer_mail = emails[1]
        assert _ids(answer_mail["In-Reply-To"]) == [first["Message-ID"]]
        assert first["Message-ID"] in _ids(answer_mail["References"])
        assert answer_mail["Message-ID"] != first["Message-ID"]
        assert str(answer_mail["Reply-To"]) == reply_to
        answer_text = part(answer_mail, "plain")

        after_reply = await _transcript(http, settings, chat)
        added = after_reply[len(transcript) :]
        assert added[0]["sender"] == "shopper"
        assert added[0]["text"] == QUESTION, "only the new words, not the quoted history"
        bot_answers = [m for m in added[1:] if m["sender"] == "bot"]
        assert bot_answers and len(bot_answers) == len(added) - 1
        for answer in bot_answers:
            if answer["text"]:
                assert answer["text"].splitlines()[0] in answer_text, "the email carries the bot's answer"

        # The provider posts the same mail again: nothing more is stored or sent.
        status, body = await _inbound(http, settings, fields)
        assert status == 200, body
        assert body["result"] == "duplicate"
        await asyncio.sleep(DELAY_SECONDS + 4)
        assert len(_to(sink, ALEX)) == 2
        assert len(await _transcript(http, settings, chat)) == len(after_reply)

        # 4. A wrong secret path, and an unknown reply address: refused, and nothing changes.
        other = _reply_fields(reply_to, first, "<CAF-alex-reply-2@mail.gmail.test>")
        status, _ = await _inbound(http, settings, other, secret="not-the-secret")
        assert status == 404
        unknown = {**other, "to": f"reply+{'a' * 24}@{REPLY_DOMAIN}"}
        status, body = await _inbound(http, settings, unknown)
        assert 400 <= status < 500 and body["code"] == "email_reply_address_unknown", body
        # Someone else writing to Alex's reply address is not Alex.
        stranger = {**other, "from": "mallory@example.net"}
        status, body = await _inbound(http, settings, stranger)
        assert status == 403 and body["code"] == "email_sender_not_shopper", body
        await asyncio.sleep(DELAY_SECONDS + 2)
        assert len(await _transcript(http, settings, chat)) == len(after_reply)
        assert len(_to(sink, ALEX)) == 2


async def _another_shipment(settings: Settings) -> tuple[str, str]:
    """(tracking number, shopper email) of a yangteng-auto shipment on its way to someone else than Alex."""

    async def work(sessions):  # type: ignore[no-untyped-def]
        async with sessions() as session:
            row = (
                await session.execute(
                    select(Shipment.tracking_number, Order.shopper_email)
                    .join(Order, Order.id == Shipment.order_id)
                    .where(
                        Shipment.store_id == STORE,
                        Order.store_id == STORE,
                        Shipment.status.in_(UNDELIVERED),
                        Order.shopper_email != ALEX,
                    )
                    .order_by(Shipment.id)
                    .limit(1)
                )
            ).first()
        assert row is not None
        return row[0], row[1]

    return await _db(settings, work)


async def test_an_email_waits_while_the_smtp_server_is_down_and_arrives_once_when_it_is_back(
    email_stack: tuple[Stack, Settings, SmtpSink],
) -> None:
    _, settings, sink = email_stack
    tracking_number, shopper = await _another_shipment(settings)
    assert not _to(sink, shopper)
    sink.stop()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
            await _deliver(http, settings, tracking_number)
        chat = await _db(settings, lambda sessions: _conversation_when_stored(sessions, shopper))
        # The worker tries, the connection is refused: the job waits for another attempt.
        deadline = time.monotonic() + 90
        jobs: list[tuple[str, int, str | None]] = []
        while time.monotonic() < deadline:
            jobs = await _unread_email_jobs(settings, chat)
            if any(status == JobStatus.pending.value and attempts >= 1 for status, attempts, _ in jobs):
                break
            await asyncio.sleep(0.5)
        [(status, attempts, last_error)] = jobs
        assert status == JobStatus.pending.value and attempts >= 1, jobs
        assert last_error, "the failed attempt says why"
        assert not _to(sink, shopper)
    finally:
        sink.start()
    # The queue's back-off (bot/core/jobs.py retry_delay: 5 s after the first failure, 20 s after
    # the second) is short enough here to wait for, as a real worker does.
    emails = await _emails_to(sink, shopper, 1, within=90)
    assert len(emails) == 1, "the email arrives when the server is back"
    await asyncio.sleep(DELAY_SECONDS + 6)
    assert len(_to(sink, shopper)) == 1, "and only once"
    [(status, _, _)] = await _unread_email_jobs(settings, chat)
    assert status == JobStatus.done.value


async def _conversation_when_stored(sessions: Any, shopper: str) -> str:
    """The shopper's conversation id once the worker has stored the delivery confirmation in it
    (read, not made: the worker makes it)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        async with sessions() as session:
            found = await session.scalar(
                select(Conversation.id).where(
                    Conversation.store_id == STORE, Conversation.shopper_email == shopper, Conversation.last_seq > 0
                )
            )
        if found is not None:
            return str(found)
        await asyncio.sleep(0.5)
    raise AssertionError(f"no delivery confirmation was stored for {shopper}")


async def _review_jobs(settings: Settings, kind: str) -> list[tuple[str, str]]:
    """(key, status) of Alex's FZ-20931 review jobs of this kind."""

    async def work(sessions):  # type: ignore[no-untyped-def]
        async with sessions() as session:
            order_id = await session.scalar(
                select(Order.id).where(Order.store_id == STORE, Order.order_number == "FZ-20931")
            )
            rows = await session.execute(
                select(ScheduledJob.key, ScheduledJob.status).where(
                    ScheduledJob.store_id == STORE, ScheduledJob.kind == kind, ScheduledJob.key == f"{kind}:{order_id}"
                )
            )
            return [tuple(row) for row in rows.all()]

    return await _db(settings, work)


async def _days_later(settings: Settings, kind: str) -> None:
    """What the worker sees when Alex's review job comes due, days after the delivery: the job due
    now, and the parcel delivered six days ago (the invitation's window opens after five).
    The order's timezone is cleared too: the review's own quiet hours would otherwise defer it
    at night in New York, and the test runs at any hour."""

    async def work(sessions):  # type: ignore[no-untyped-def]
        async with sessions() as session, session.begin():
            order_id = await session.scalar(
                select(Order.id).where(Order.store_id == STORE, Order.order_number == "FZ-20931")
            )
            await session.execute(
                update(Shipment)
                .where(Shipment.store_id == STORE, Shipment.tracking_number == TRACKING)
                .values(delivered_at=utc_now() - dt.timedelta(days=6))
            )
            await session.execute(
                update(Order).where(Order.store_id == STORE, Order.id == order_id).values(shopper_timezone=None)
            )
            await session.execute(
                update(ScheduledJob)
                .where(ScheduledJob.store_id == STORE, ScheduledJob.key == f"{kind}:{order_id}")
                .values(due_at=utc_now())
            )

    await _db(settings, work)


async def _until_done(settings: Settings, kind: str, within: float = 90) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        jobs = await _review_jobs(settings, kind)
        if jobs and all(status == JobStatus.done.value for _, status in jobs):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{kind}: {await _review_jobs(settings, kind)}")


async def test_a_review_invitation_email_unsubscribes_in_one_click_and_no_review_email_follows(
    email_stack: tuple[Stack, Settings, SmtpSink],
) -> None:
    _, settings, sink = email_stack
    await _db(
        settings, lambda sessions: StoreSettingsService(sessions).update(STORE, {"review": {"reminder": True}}, "test")
    )
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        # Delivered (again, if the first test did it: a repeat changes nothing), and emailed.
        await _deliver(http, settings, TRACKING)
        assert len(await _emails_to(sink, ALEX, 1, within=60)) >= 1
        before = len(_to(sink, ALEX))
        [(_, status)] = await _review_jobs(settings, "review_invitation")
        assert status == JobStatus.pending.value, "the invitation waits for its day"

        await _days_later(settings, "review_invitation")
        await _until_done(settings, "review_invitation")
        emails = await _emails_to(sink, ALEX, before + 1, within=60)
        assert len(emails) == before + 1, "the review invitation is emailed"
        invitation = emails[-1]
        assert str(invitation["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
        [unsubscribe] = re.findall(r"<(https?://[^<>\s]+)>", str(invitation["List-Unsubscribe"]))
        assert unsubscribe.startswith(f"{settings.public_base_url}/email/unsubscribe/")

        # The mail client's one click (RFC 8058).
        async with http.post(
            unsubscribe,
            data="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as response:
            assert response.status == 200, await response.text()

        async def opted_out(sessions):  # type: ignore[no-untyped-def]
            async with sessions() as session:
                return await session.scalar(
                    select(ReviewOptOut.shopper_email).where(
                        ReviewOptOut.store_id == STORE, ReviewOptOut.shopper_email == ALEX
                    )
                )

        assert await _db(settings, opted_out) == ALEX, "the chat's opt-out: one for chat and email"

        # The reminder comes due: nothing is asked, by chat or by email.
        [(_, status)] = await _review_jobs(settings, "review_reminder")
        assert status == JobStatus.pending.value
        await _days_later(settings, "review_reminder")
        await _until_done(settings, "review_reminder")
        await asyncio.sleep(DELAY_SECONDS + 6)
        assert len(_to(sink, ALEX)) == before + 1, "no more review emails"
