"""A store's connections to the systems it already runs (its shop on Shopify or WooCommerce, its
tracking provider), and the order webhooks they delivered, so that a repeated delivery is applied once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.clock import utc_now
from bot.core.models.schema import Base


class StoreIntegration(Base):
    """One connector of one store (bot/integrations/store_integrations.py ``PROVIDERS``)."""

    __tablename__ = "store_integrations"
    __table_args__ = (
        UniqueConstraint("store_id", "provider"),
        # One shop belongs to one store: a Shopify shop domain (or a WooCommerce site) that two
        # stores claimed could attach one store's orders to the other.
        Index("ix_store_integrations_provider_external_id", "provider", "external_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    #: shopify, woocommerce, easypost, 17track, aftership or json.
    provider: Mapped[str] = mapped_column(String(32))
    #: The provider's name for the shop, normalised: a Shopify shop domain (``example.myshopify.com``),
    #: a WooCommerce site address. Null where the provider has none.
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    #: The key the provider signs with; after a change the previous one keeps working until
    #: ``secret_previous_until``, as a store's own webhook secret does. Null for the connectors
    #: signed with the store's webhook secret (AfterShip, the simple JSON).
    secret: Mapped[str | None] = mapped_column(String(200), default=None)
    secret_previous: Mapped[str | None] = mapped_column(String(200), default=None)
    secret_previous_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: The latest deliveries refused or ignored, newest first, at most a few: what the seller must fix
    #: on the provider's side. ``[{"at": iso, "status": 401, "code": "...", "reason": "..."}]``.
    recent_problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class IntegrationDelivery(Base):
    """An order webhook already received, by the provider's delivery id: providers deliver at least
    once, and a retry must not apply an order twice. (Tracking updates keep theirs in
    ``tracking_webhook_events``.)"""

    __tablename__ = "integration_deliveries"
    __table_args__ = (
        UniqueConstraint("store_id", "provider", "delivery_id"),
        Index("ix_integration_deliveries_latest", "store_id", "provider", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(200))
    #: The provider's topic: ``orders/create``, ``order.updated``…
    topic: Mapped[str] = mapped_column(String(64))
    #: applied, stale (older than the order we hold), ignored, refused or unknown_order.
    outcome: Mapped[str] = mapped_column(String(32))
    #: The order it was about, as the shopper sees its number, when known.
    order_number: Mapped[str | None] = mapped_column(String(64), default=None)
    reason: Mapped[str | None] = mapped_column(String(300), default=None)
    received_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
