"""The inbound SMTP listener: a real SMTP client delivers a reply (with photos, too) and a bounce
to it, and they reach the conversation as through the webhook; mail for any other address is
refused at RCPT."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ConversationService
from bot.core.models import Photo
from bot.email.inbound import InboundRefused
from bot.email.suppressions import is_suppressed
from bot.runtime.inbound_smtp import smtp_reply, start_listener
from bot.web.email_webhooks import inbound_mailbox
from bot.web.services import Services
from tests.email.test_bounces import BOUNCE_TO, dsn
from tests.email.test_inbound import SCRIPT_AS_JPEG
from tests.photos.sample_images import has_gps, image_bytes, with_gps_and_orientation
from tests.web.test_email_webhooks import (
    ALEX,
    GMAIL_REPLY,
    REPLY_DOMAIN,
    REPLY_TO,
    STORE,
    StandInRasa,
    conversation_with_token,
    settings_for,
)


@pytest.fixture
async def services(demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> AsyncIterator[Services]:
    """The gateway's services, running, as ``python -m bot inbound-smtp`` builds them (Rasa a stand-in)."""
    built = Services.build(settings_for(tmp_path), demo_sessions, StandInRasa())  # type: ignore[arg-type]
    async with built.running():
        yield built


@pytest.fixture
async def listener(services: Services) -> AsyncIterator[tuple[int, StandInRasa]]:
    """The listener on a free port, over the gateway's services."""
    server = await start_listener(inbound_mailbox(services), 0)
    port = server.sockets[0].getsockname()[1]
    try:
        assert isinstance(services.given_rasa, StandInRasa)
        yield port, services.given_rasa
    finally:
        server.close()
        await server.wait_closed()


def reply_mail() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"Alex Doe <{ALEX}>"
    mail["To"] = REPLY_TO
    mail["Subject"] = "Re: Your order"
    mail["Message-ID"] = "<smtp-1@mail.example.com>"
    mail.set_content(GMAIL_REPLY.replace("\r\n", "\n"))
    return mail


async def test_the_smtp_listener_delivers_a_reply(
    demo_sessions: async_sessionmaker[AsyncSession], listener: tuple[int, StandInRasa]
) -> None:
    port, rasa = listener
    chat = await conversation_with_token(demo_sessions)
    errors, answer = await aiosmtplib.send(reply_mail(), hostname="127.0.0.1", port=port, timeout=10)
    assert not errors and "stored" in answer
    messages = await ConversationService(demo_sessions).messages_after(chat)
    assert [(m.sender, m.text) for m in messages] == [
        ("shopper", "The oil pan leaks at the rear bolt."),
        ("bot", "Thanks, I noted: The oil pan leaks at the rear bolt."),
    ]
    assert rasa.sent == ["The oil pan leaks at the rear bolt."]
    # The same mail again (a retrying server): taken once.
    await aiosmtplib.send(reply_mail(), hostname="127.0.0.1", port=port, timeout=10)
    assert len(await ConversationService(demo_sessions).messages_after(chat)) == 2


async def test_unknown_recipients_are_refused_at_rcpt(
    demo_sessions: async_sessionmaker[AsyncSession], listener: tuple[int, StandInRasa]
) -> None:
    port, _ = listener
    await conversation_with_token(demo_sessions)
    for recipient in (f"reply+{'z' * 24}@{REPLY_DOMAIN}", f"support@{REPLY_DOMAIN}", "alex@example.com"):
        mail = reply_mail()
        del mail["To"]
        mail["To"] = recipient
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await aiosmtplib.send(mail, hostname="127.0.0.1", port=port, timeout=10)
        assert refused.value.recipients[0].code == 550


async def test_a_reply_from_someone_else_is_refused_permanently(
    demo_sessions: async_sessionmaker[AsyncSession], listener: tuple[int, StandInRasa]
) -> None:
    port, rasa = listener
    chat = await conversation_with_token(demo_sessions)
    mail = reply_mail()
    del mail["From"]
    mail["From"] = "mallory@example.net"
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await aiosmtplib.send(mail, hostname="127.0.0.1", port=port, timeout=10)
    assert refused.value.code == 550
    assert await ConversationService(demo_sessions).messages_after(chat) == [] and rasa.sent == []


async def test_a_bounce_by_smtp_suppresses_the_address(
    demo_sessions: async_sessionmaker[AsyncSession], listener: tuple[int, StandInRasa]
) -> None:
    port, _ = listener
    await conversation_with_token(demo_sessions)
    await aiosmtplib.send(
        dsn("5.1.1"),
        sender="MAILER-DAEMON@mx.example.net",
        recipients=[BOUNCE_TO],
        hostname="127.0.0.1",
        port=port,
        timeout=10,
    )
    async with demo_sessions() as session:
        assert await is_suppressed(session, STORE, ALEX)


async def test_the_smtp_listener_takes_a_replys_photos_once_and_tells_of_a_file_it_refused(
    demo_sessions: async_sessionmaker[AsyncSession], listener: tuple[int, StandInRasa], services: Services
) -> None:
    port, rasa = listener
    chat = await conversation_with_token(demo_sessions)
    mail = reply_mail()
    mail.add_attachment(with_gps_and_orientation("JPEG"), maintype="image", subtype="jpeg", filename="IMG_0001.JPG")
    mail.add_attachment(image_bytes("JPEG", (640, 480)), maintype="image", subtype="jpeg", filename="label.jpg")
    mail.add_attachment(SCRIPT_AS_JPEG, maintype="image", subtype="jpeg", filename="damage.jpg")
    errors, answer = await aiosmtplib.send(mail, hostname="127.0.0.1", port=port, timeout=30)
    assert not errors and "stored" in answer
    messages = await ConversationService(demo_sessions).messages_after(chat)
    assert [(m.sender, m.text) for m in messages] == [
        ("shopper", "The oil pan leaks at the rear bolt."),
        ("bot", "Thanks, I noted: The oil pan leaks at the rear bolt."),
        (
            "store",
            "1 attachment of your email could not be added to this conversation:\n"
            '- "damage.jpg": the file is not an image; send a JPEG, PNG, WebP or HEIC photo.',
        ),
    ]
    assert rasa.sent == ["The oil pan leaks at the rear bolt."]
    shopper = messages[0]
    assert shopper.attachment is not None and len(shopper.attachment["photos"]) == 2
    for photo in shopper.attachment["photos"]:
        kept = await services.photos.image(photo["id"], "full", store_ids={STORE}, conversation_id=None)
        assert kept is not None and not has_gps(kept)
    # The same mail again (a retrying server): no photo added twice.
    await aiosmtplib.send(mail, hostname="127.0.0.1", port=port, timeout=30)
    assert len(await ConversationService(demo_sessions).messages_after(chat)) == 3
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Photo)) == 2


def test_a_storage_that_is_down_is_a_temporary_smtp_answer() -> None:
    # The sending server keeps the mail and tries again; a file that is no photo never gets here.
    assert smtp_reply(InboundRefused("photo_storage_unavailable", status=503)).startswith("451 4.3.0 ")
    assert smtp_reply(InboundRefused("email_sender_not_shopper", status=403)).startswith("550 ")
