"""A store's orders and what was in them, the shapes of its order numbers (to find them in a
shopper's message), and the failed identity checks counted against an order or an address.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.core.clock import utc_now
from bot.core.models.schema import Base

if TYPE_CHECKING:
    from bot.core.models.shipping import Shipment


class OrderStatus(str, enum.Enum):
    processing = "processing"
    shipped = "shipped"
    delivered = "delivered"
    cancelled = "cancelled"
    returned = "returned"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("store_id", "order_number"),
        # One order per key: a shopper types "1047" for "#1047" and for "0001047" alike, so a store
        # holding both could be shown the wrong one (migration 0020).
        Index("ix_orders_store_lookup_key", "store_id", "lookup_key", unique=True),
        Index("ix_orders_store_email", "store_id", "shopper_email"),
        Index("ix_orders_store_external_id", "store_id", "external_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    #: The number as the shopper sees it: "FZ-20931", "#1047", "113-4928371-0029384".
    order_number: Mapped[str] = mapped_column(String(64))
    #: The number as typed numbers are compared (bot/orders/order_numbers.py ``lookup_key``): upper
    #: case, letters and digits only, an all-digit number without its leading zeros.
    lookup_key: Mapped[str] = mapped_column(String(64))
    shopper_name: Mapped[str] = mapped_column(String(200))
    #: Stored lower-cased; emails are compared case-insensitively.
    shopper_email: Mapped[str] = mapped_column(String(320))
    shopper_timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    shipping_postcode: Mapped[str] = mapped_column(String(32))
    shipping_country: Mapped[str] = mapped_column(String(2))
    placed_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    #: The order's id in the shop it came from, with the provider (``shopify:820982911946154508``,
    #: ``woocommerce:727``): a Shopify fulfillment names its order by this id, not by its number.
    external_id: Mapped[str | None] = mapped_column(String(80), default=None)
    #: The shop's own last-change time of the version we hold: an older webhook (they arrive out
    #: of order) is stale and changes nothing.
    source_updated_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Shipment.id"
    )


class OrderNumberShape(Base):
    """A shape of the store's own order numbers ("SO-9999-99999": prefix letters, separators,
    digit counts; bot/orders/order_numbers.py), learned as its orders are imported, so that a
    shopper's message is searched for numbers shaped like the store's."""

    __tablename__ = "order_number_shapes"
    __table_args__ = (UniqueConstraint("store_id", "shape"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    #: Digits as "9", other letters as "a", the prefix (and a short suffix) as they are.
    shape: Mapped[str] = mapped_column(String(64))
    #: How many of the store's orders have this shape: the most common are tried first.
    order_count: Mapped[int] = mapped_column(Integer, default=0)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class IdentityCheckFailure(Base):
    """Failed shopper identity checks ("order number + email or postcode"), counted in the
    store database per order (its lookup key, whether or not such an order exists) and per
    client address, so that neither ``/restart`` nor a new conversation nor a restart of any
    process forgets them (bot/orders/identity_checks.py)."""

    __tablename__ = "identity_check_failures"
    __table_args__ = (UniqueConstraint("store_id", "scope", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    #: "order" (``key`` is an order lookup key) or "address" (``key`` is a client key: IPv4, IPv6 /64).
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(100))
    #: Checks counted in the window that started at ``window_started_at``, including any in progress.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    #: How many times this order or address has been locked lately: each lock lasts twice the last.
    locks: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, default=1)

    order: Mapped[Order] = relationship(back_populates="items")
