"""Photos shoppers and agents send in a conversation (issue 18): one row per photo, naming where its
JPEG and thumbnail are kept (bot/photos/storage.py), and the blobs themselves when the database keeps them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.clock import utc_now
from bot.core.models.schema import Base


class Photo(Base):
    """One photo of a conversation, as stored after bot/photos/images.py re-encoded it (no metadata left).

    Deleted with its conversation (and so with its store); its blobs are deleted through the
    storage by bot/photos/conversation_photos.py, which knows their keys.
    """

    __tablename__ = "photos"
    __table_args__ = (
        # The per-conversation daily limit, and retention, count and find photos by time.
        Index("ix_photos_conversation_created", "conversation_id", "created_at"),
        Index("ix_photos_store_created", "store_id", "created_at"),
    )

    #: ``secrets.token_urlsafe(24)``: unguessable, so a link names no more than one photo.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    #: The message that carried it, once sent; a photo uploaded but not yet sent has none.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), default=None)
    #: The case (escalation) it was attached to, for the agents' gallery.
    escalation_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalations.id", ondelete="SET NULL"), default=None, index=True
    )
    #: shopper or agent.
    sender: Mapped[str] = mapped_column(String(16))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    #: Sizes of the stored JPEG and thumbnail, in bytes.
    byte_size: Mapped[int] = mapped_column(Integer)
    thumbnail_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class PhotoBlob(Base):
    """A stored image's bytes when the database keeps them (``PHOTO_STORAGE=database``, the default),
    by the storage key; other storages leave this table empty."""

    __tablename__ = "photo_blobs"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
