"""The inbound SMTP listener: a real SMTP client delivers a reply (and a bounce) to it, and they
reach the conversation as through the webhook; mail for any other address is refused at RCPT."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ConversationService
from bot.email.suppressions import is_suppressed
from bot.runtime.inbound_smtp import start_listener
from bot.web.email_webhooks import inbound_mailbox
from bot.web.services import Services
from tests.email.test_bounces import BOUNCE_TO, dsn
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
async def listener(
    demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[tuple[int, StandInRasa]]:
    """The listener on a free port, over the gateway's services (as ``python -m bot inbound-smtp`` runs it)."""
    rasa = StandInRasa()
    built = Services.build(settings_for(tmp_path), demo_sessions, rasa)  # type: ignore[arg-type]
    async with built.running():
        server = await start_listener(inbound_mailbox(built), 0)
        port = server.sockets[0].getsockname()[1]
        try:
            yield port, rasa
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
