"""Reviews: every decision about a review invitation (the seller's compliance record), the
shoppers who asked never to be asked, and the ratings left in the chat.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.clock import utc_now
from bot.core.models.schema import Base


class ReviewLogAction(str, enum.Enum):
    scheduled = "scheduled"
    deferred = "deferred"
    sent = "sent"
    #: The one reminder (stores that turned it on).
    reminded = "reminded"
    skipped = "skipped"


class ReviewLogEntry(Base):
    """Every decision about a review invitation, with its reason: the seller's compliance record."""

    __tablename__ = "review_log"
    __table_args__ = (
        Index("ix_review_log_store_at", "store_id", "at"),
        # One invitation per order, whatever runs twice.
        Index(
            "uq_review_log_one_sent_per_order",
            "order_id",
            unique=True,
            sqlite_where=text("action = 'sent'"),
            postgresql_where=text("action = 'sent'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    order_number: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class ReviewOptOut(Base):
    """A shopper who asked this store never to ask for reviews."""

    __tablename__ = "review_opt_outs"

    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    shopper_email: Mapped[str] = mapped_column(String(320), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Review(Base):
    """A rating (1 to 5) and optional words a shopper left in the chat."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("store_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"), default=None)
    rating: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
