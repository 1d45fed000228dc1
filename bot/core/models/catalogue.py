"""A store's products and their installation guides: manual and video links, steps, the
manuals a seller uploaded, and the saved versions of each guide.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.clock import utc_now
from bot.core.models.schema import Base


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("store_id", "sku"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    manual_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    video_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    install_steps: Mapped[list[str]] = mapped_column(default=list)


class ManualFile(Base):
    """An installation manual a seller uploaded (a PDF), kept in the store database so that
    every gateway process can serve it."""

    __tablename__ = "manual_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    #: Hex SHA-256 of the content; its start is in the public file name, so links are unguessable.
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class ProductGuideVersion(Base):
    """One saved version of a product's installation guide (manual link, video link, steps).

    Like :class:`StoreSettingsVersion`, versions are only added: a rollback saves an old one again.
    """

    __tablename__ = "product_guide_versions"
    __table_args__ = (UniqueConstraint("store_id", "sku", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    #: {"manual_url": str | None, "video_url": str | None, "install_steps": [str]}
    guide: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    summary: Mapped[str] = mapped_column(String(500), default="")
    #: The summary as a code and params the consoles word in their language (bot/core/version_summaries.py);
    #: None only for a row saved before the codes whose English had no known shape.
    summary_code: Mapped[str | None] = mapped_column(String(40), default=None)
    summary_params: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
