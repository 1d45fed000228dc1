"""A shopper's chat with a store: the conversation, the bearer tokens that open it, and its
messages in order.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.clock import utc_now
from bot.core.models.schema import Base


class MessageSender(str, enum.Enum):
    shopper = "shopper"
    bot = "bot"
    agent = "agent"
    store = "store"


class Conversation(Base):
    """A shopper's chat with one store, as the shopper sees it."""

    @property
    def email_address(self) -> str | None:
        """Where the store may email this conversation's shopper, if anywhere."""
        return self.shopper_email or self.contact_email

    __tablename__ = "conversations"
    __table_args__ = (
        # One conversation per identified shopper and store: the store's
        # messages and the shopper's widget must land in the same one.
        Index(
            "uq_conversations_store_shopper",
            "store_id",
            "shopper_email",
            unique=True,
            sqlite_where=text("shopper_email IS NOT NULL"),
            postgresql_where=text("shopper_email IS NOT NULL"),
        ),
    )

    #: Random and unguessable; also Rasa's sender id.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    #: Set only when the store signed the shopper's identity.
    shopper_email: Mapped[str | None] = mapped_column(String(320), default=None)
    #: The last message sequence number handed out; bumped in the same
    #: transaction that stores the message, so numbers never repeat.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    #: Indexed for the agent console's live feed ("what changed since?").
    last_message_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    #: The agent handling the conversation now; while set, Rasa is paused and the bot is silent.
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), default=None)
    handled_since: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: The last message the shopper's widget was given (fetched, or pushed to an open
    #: websocket): an email about unread messages goes only for messages after it.
    shopper_read_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The opaque part of the conversation's reply address (``reply+<token>@`` the store's reply
    #: domain), made on the first email: a reply to it comes back into this conversation.
    email_reply_token: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    #: An anonymous chat's shopper who proved an order (number and email or postcode): the address
    #: the store has for that order, where the store may email this conversation. A signed
    #: shopper's address is ``shopper_email``, which wins.
    contact_email: Mapped[str | None] = mapped_column(String(320), default=None)
    #: The IANA timezone the shopper's browser reported (``Europe/Berlin``), for quiet hours; None: unknown.
    shopper_timezone: Mapped[str | None] = mapped_column(String(64), default=None)


class ConversationToken(Base):
    """A bearer token for a conversation; only its SHA-256 is kept."""

    __tablename__ = "conversation_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Message(Base):
    """One message of the transcript: the shopper's, the bot's, an agent's or the store's."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(16))
    #: For an agent's message, the agent's display name, as the shopper sees it.
    author: Mapped[str | None] = mapped_column(String(200), default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    attachment: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
