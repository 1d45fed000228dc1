"""Mail that came back to a conversation's reply or bounce address (``bot/email/inbound.py``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.clock import utc_now
from bot.core.models.schema import Base


class EmailInbound(Base):
    """One inbound mail taken: a shopper's reply, a bounce or a complaint.

    Providers retry a webhook they think failed, and a mail may reach both the webhook and the
    SMTP listener: the ``Message-ID`` is unique per store, so the same mail is taken once.
    """

    __tablename__ = "email_inbound"
    __table_args__ = (UniqueConstraint("store_id", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    #: The mail's ``Message-ID`` (angle brackets kept), or a digest of it when the sender gave none.
    message_id: Mapped[str] = mapped_column(String(250))
    #: ``reply``, ``bounced`` or ``complained``.
    kind: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
