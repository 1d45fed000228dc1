"""What the store's people work with: escalations (conversations that need a person), the
allowance that limits how many a shopper opens, canned replies, and internal notes.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.clock import utc_now
from bot.core.models.schema import Base


class EscalationStatus(str, enum.Enum):
    """The handoff lifecycle: escalated (open), claimed by an agent, then
    handed back to the bot or resolved."""

    open = "open"
    claimed = "claimed"
    handed_back = "handed_back"
    resolved = "resolved"
    #: Closed by an agent as spam (in bulk, from the queue): never answered, never counted as work.
    spam = "spam"


class Escalation(Base):
    """A conversation that needs a person from the store."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_store_status", "store_id", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), default=None)
    #: not_received, damaged, missing_parts, wrong_item, shopper_request, ...
    reason: Mapped[str] = mapped_column(String(32))
    #: urgent, high or normal.
    priority: Mapped[str] = mapped_column(String(16))
    #: One line for the agent's queue.
    summary: Mapped[str] = mapped_column(String(500))
    #: The shopper's own words (description, photo links), as typed.
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=EscalationStatus.open.value)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), default=None)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: Bumped on every change, so the console's live feed can find what changed.
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now, onupdate=utc_now, index=True)


class EscalationAllowance(Base):
    """How many new escalations one conversation or one client address opened in a time window.

    Counted in the store database, so the limit holds across gateways, action servers and
    restarts; rows whose window has ended are deleted as new ones are counted.
    """

    __tablename__ = "escalation_allowances"

    #: "conversation" (the key is the conversation id) or "address" (the client key: IPv4, or IPv6 /64).
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class CannedReply(Base):
    """A store's ready-made answer that agents insert and adjust."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("store_id", "title"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)


class ConversationNote(Base):
    """An agent's internal note on a conversation; never shown to the shopper."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), default=None)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
