"""What the store emailed a shopper: the audit of every notification sent, one row per email."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.clock import utc_now
from bot.core.models.schema import Base


class EmailNotification(Base):
    """One email sent to a shopper about unread messages of a conversation (``bot/email/``).

    A burst of unread messages is known by its first message (``first_seq``): the unique
    constraint is the last guard against emailing the same burst twice, and the latest
    ``last_seq`` says which messages were already emailed.
    """

    __tablename__ = "email_notifications"
    __table_args__ = (
        UniqueConstraint("conversation_id", "first_seq"),
        # A conversation's emails, in order: threading headers and "already emailed up to".
        Index("ix_email_notifications_store_conversation", "store_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    to_address: Mapped[str] = mapped_column(String(320))
    #: The ``Message-ID`` header, with its angle brackets: later emails of the conversation refer to it.
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    #: What started the burst: ``delivery_confirmation``, ``exception_notice``, ``install_video``,
    #: ``review_invitation``, ``agent_reply``, or ``later_messages`` for the rest of a burst.
    kind: Mapped[str] = mapped_column(String(64))
    first_seq: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class EmailSuppression(Base):
    """An address the store must not email again: its mail bounced for good (``bounced``) or
    the shopper marked an email as spam (``complained``). Per store, like every shopper record."""

    __tablename__ = "email_suppressions"

    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    #: Lower case, as :func:`bot.email.suppressions.address_key` makes it.
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    #: What the bounce or complaint said (its status code or feedback type), for the seller.
    detail: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
