"""Inbound mail without the web: reading forms and MIME, the conversation's addresses, and the
mailbox's routing over a real store database (the chat's turn is the conversations' own storing)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ChatSession, ConversationService, NewMessage, StoredMessage
from bot.core.models import EmailInbound
from bot.email.inbound import InboundMail, InboundMailbox, InboundRefused, mail_from_form, mail_from_raw
from bot.email.reply_addresses import BOUNCE, REPLY, conversation_address
from bot.email.suppressions import is_suppressed
from tests.email.test_bounces import PLAIN_BOUNCE, dsn
from tests.web.test_email_webhooks import ALEX, BOUNCE_TO, REPLY_DOMAIN, REPLY_TO, STORE, TOKEN, conversation_with_token


def test_a_conversations_addresses_are_recognised_and_nothing_else() -> None:
    reply = conversation_address(f"Reply+{TOKEN.upper()}@{REPLY_DOMAIN.upper()}")
    assert reply is not None and (reply.kind, reply.token, reply.domain) == (REPLY, TOKEN, REPLY_DOMAIN)
    bounce = conversation_address(BOUNCE_TO)
    assert bounce is not None and bounce.kind == BOUNCE
    for other in (
        f"support@{REPLY_DOMAIN}",
        f"reply@{REPLY_DOMAIN}",
        f"reply+@{REPLY_DOMAIN}",
        f"reply+short@{REPLY_DOMAIN}",
        f"reply+{TOKEN}1@{REPLY_DOMAIN}",  # 1 is no base32 letter
        f"forward+{TOKEN}@{REPLY_DOMAIN}",
        f"reply+{'a' * 65}@{REPLY_DOMAIN}",
    ):
        assert conversation_address(other) is None, other


def test_a_form_is_read_and_its_addresses_checked() -> None:
    mail = mail_from_form(
        {
            "from": f'"Doe, Alex" <{ALEX}>',
            "to": f"Yangteng Auto <{REPLY_TO}>, other@example.net",
            "cc": "cc@example.net",
            "subject": "Re: order",
            "text": "hello",
            "headers": "Message-ID: <m1@example.com>\r\nSubject: Re: order\r\n",
            "SPF": "pass",
        },
        ["env@example.net"],
    )
    assert mail.sender == ALEX and mail.message_id == "<m1@example.com>" and mail.verdicts == {"SPF": "pass"}
    assert mail.recipients == (REPLY_TO, "other@example.net", "cc@example.net", "env@example.net")
    for sender in (f"{ALEX}\r\nBcc: x@example.net", f"{ALEX}, mallory@example.net", "alex", "a@b@example.com", "<>"):
        with pytest.raises(InboundRefused) as refused:
            mail_from_form({"from": sender, "to": REPLY_TO, "text": "hi"})
        assert refused.value.code == "email_inbound_address_invalid", sender


def test_a_raw_mail_gives_its_text_html_and_message_id() -> None:
    raw = (
        f"From: Alex <{ALEX}>\r\nTo: {REPLY_TO}\r\nSubject: =?utf-8?q?R=C3=A9?=\r\nMessage-ID: <raw@example.com>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="A"\r\n\r\n'
        "--A\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nD=C3=A9j=C3=A0 vu\r\n"
        "--A\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Déjà vu</p>\r\n--A--\r\n"
    ).encode()
    mail = mail_from_raw(raw, [BOUNCE_TO])
    assert (mail.sender, mail.subject, mail.message_id) == (ALEX, "Ré", "<raw@example.com>")
    assert mail.text is not None and mail.text.strip() == "Déjà vu" and mail.html is not None and "<p>" in mail.html
    assert mail.recipients == (REPLY_TO, BOUNCE_TO)
    with pytest.raises(InboundRefused):
        mail_from_raw(b"Subject: no sender\r\n\r\nhi")
    with pytest.raises(InboundRefused):
        mail_from_raw(f"From: {ALEX}\r\n\r\nno recipient".encode())


def test_a_mail_without_message_id_is_known_by_its_content() -> None:
    one = InboundMail(ALEX, (REPLY_TO,), "s", "text")
    assert one.dedupe_key() == InboundMail(ALEX, (REPLY_TO,), "s", "text").dedupe_key()
    assert one.dedupe_key() != InboundMail(ALEX, (REPLY_TO,), "s", "other").dedupe_key()


class Turns:
    """The chat's turn as far as storing goes: the shopper's words, then one answer."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.conversations = ConversationService(sessions)
        self.texts: list[str] = []

    async def take(self, chat: ChatSession, text: str) -> list[StoredMessage]:
        self.texts.append(text)
        await asyncio.sleep(0.01)  # let deliveries of the same mail race
        return await self.conversations.append(chat, [NewMessage("shopper", text), NewMessage("bot", "Noted.")])


def mailbox(sessions: async_sessionmaker[AsyncSession], turns: Turns) -> InboundMailbox:
    return InboundMailbox(sessions, turns.take, None, lambda _: 0, REPLY_DOMAIN)


def reply(message_id: str = "<same@example.com>", text: str = "Is it waterproof?") -> InboundMail:
    return InboundMail(ALEX, (REPLY_TO,), "Re: order", text, message_id=message_id)


async def test_racing_deliveries_of_one_mail_take_one_turn(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await conversation_with_token(demo_sessions)
    turns = Turns(demo_sessions)
    box = mailbox(demo_sessions, turns)
    outcomes = await asyncio.gather(*(box.take(reply()) for _ in range(4)))
    assert sorted(outcome.result for outcome in outcomes) == ["duplicate", "duplicate", "duplicate", "stored"]
    assert turns.texts == ["Is it waterproof?"]
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(EmailInbound)) == 1


async def test_a_refused_turn_leaves_the_mail_untaken(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await conversation_with_token(demo_sessions)

    async def refusing(chat: ChatSession, text: str) -> list[StoredMessage]:
        raise InboundRefused("email_reply_empty", status=422)

    box = InboundMailbox(demo_sessions, refusing, None, lambda _: 0, REPLY_DOMAIN)
    with pytest.raises(InboundRefused):
        await box.take(reply())
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(EmailInbound)) == 0
    # Retried once the chat takes it: taken then.
    assert (await mailbox(demo_sessions, Turns(demo_sessions)).take(reply())).result == "stored"


async def test_reports_at_either_address(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await conversation_with_token(demo_sessions)
    turns = Turns(demo_sessions)
    box = mailbox(demo_sessions, turns)
    # A person's mail to the bounce address is dropped, never a turn.
    assert (await box.take(InboundMail(ALEX, (BOUNCE_TO,), "hi", "hello"))).result == "ignored"
    # A bounce about someone else changes nothing.
    other = mail_from_raw(dsn("5.1.1", recipient="someone@example.org"))
    assert (await box.take(other)).result == "ignored"
    async with demo_sessions() as session:
        assert not await is_suppressed(session, STORE, ALEX)
    # A mailer-daemon's plain bounce sent back to the reply address still counts.
    plain = mail_from_raw(PLAIN_BOUNCE.replace(BOUNCE_TO.encode(), REPLY_TO.encode()))
    assert (await box.take(plain)).result == "bounced"
    async with demo_sessions() as session:
        assert await is_suppressed(session, STORE, ALEX)
    assert turns.texts == []


async def test_an_address_is_known_only_for_a_conversation_at_its_domain(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await conversation_with_token(demo_sessions)
    box = mailbox(demo_sessions, Turns(demo_sessions))
    assert await box.knows(REPLY_TO) and await box.knows(BOUNCE_TO)
    assert not await box.knows(f"reply+{TOKEN}@elsewhere.example")
    assert not await box.knows(f"reply+{'b' * 24}@{REPLY_DOMAIN}")
    assert not await box.knows("postmaster@" + REPLY_DOMAIN)
