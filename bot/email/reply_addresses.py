"""A conversation's email addresses: ``reply+<token>@`` the reply domain for the shopper's
replies, and ``bounce+<token>@`` it for the reports of mail that could not be delivered.

The token is random (120 bits), made on the conversation's first email and kept in
``conversations.email_reply_token``; it opens nothing but this conversation's inbound mail.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.models import Conversation
from bot.email.suppressions import address_key

#: Random bytes of a conversation's reply token (``reply+<token>@``): 120 bits, 24 base32 characters.
REPLY_TOKEN_BYTES = 15
#: The local parts of a conversation's addresses: ``reply+<token>@`` and ``bounce+<token>@``.
REPLY, BOUNCE = "reply", "bounce"
#: What an inbound address's token may be: lowercase base32, as :func:`new_reply_token` makes it.
TOKEN_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz234567")
TOKEN_MIN, TOKEN_MAX = 16, 64


def new_reply_token() -> str:
    return base64.b32encode(secrets.token_bytes(REPLY_TOKEN_BYTES)).decode("ascii").rstrip("=").lower()


async def reply_token(session: AsyncSession, store_id: str, conversation_id: str) -> str:
    """The conversation's reply token, made on its first email (committed before the email goes,
    so that a reply finds it). Two workers racing keep the first one written."""
    where = (Conversation.id == conversation_id, Conversation.store_id == store_id)
    current = await session.scalar(select(Conversation.email_reply_token).where(*where))
    if current:
        return current
    # A clash with another conversation's token (120 random bits: never) fails this attempt on
    # the unique index, and the retry draws another.
    await session.execute(
        update(Conversation)
        .where(*where, Conversation.email_reply_token.is_(None))
        .values(email_reply_token=new_reply_token())
    )
    made = await session.scalar(select(Conversation.email_reply_token).where(*where))
    assert made is not None  # the row exists: the burst was just read from it
    return made


def reply_address(token: str, domain: str) -> str:
    return f"{REPLY}+{token}@{domain}"


def bounce_address(token: str, domain: str) -> str:
    return f"{BOUNCE}+{token}@{domain}"


@dataclass(frozen=True)
class ConversationAddress:
    kind: str  # REPLY or BOUNCE
    token: str
    domain: str


def conversation_address(address: str) -> ConversationAddress | None:
    """``reply+<token>@domain`` or ``bounce+<token>@domain``, or None for any other address."""
    local, _, domain = address_key(address).rpartition("@")
    kind, plus, token = local.partition("+")
    if (
        not plus
        or kind not in (REPLY, BOUNCE)
        or not TOKEN_MIN <= len(token) <= TOKEN_MAX
        or not set(token) <= TOKEN_ALPHABET
    ):
        return None
    return ConversationAddress(kind, token, domain)
