"""An order's shipments as the carrier reports them: their scans (tracking events) and the
tracking webhooks already received, so that a repeated one is applied once.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.core.clock import utc_now
from bot.core.models.schema import Base

if TYPE_CHECKING:
    from bot.core.models.orders import Order


class TrackingTag(str, enum.Enum):
    """AfterShip's delivery status tags."""

    Pending = "Pending"
    InfoReceived = "InfoReceived"
    InTransit = "InTransit"
    OutForDelivery = "OutForDelivery"
    AttemptFail = "AttemptFail"
    Delivered = "Delivered"
    AvailableForPickup = "AvailableForPickup"
    Exception = "Exception"
    Expired = "Expired"


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_store_tracking", "store_id", "tracking_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(String(100))
    tracking_number: Mapped[str] = mapped_column(String(100))
    tracking_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    status: Mapped[str] = mapped_column(String(32))
    estimated_delivery: Mapped[dt.date | None] = mapped_column(Date, default=None)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: Time of the carrier scan behind ``status``: an older update never
    #: moves the shipment back.
    status_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: The shop's id for the fulfillment behind it (``shopify:255858046``), when a shop connector made it.
    external_id: Mapped[str | None] = mapped_column(String(80), default=None)

    order: Mapped[Order] = relationship(back_populates="shipments")
    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment",
        cascade="all, delete-orphan",
        order_by="TrackingEvent.occurred_at",
    )


class TrackingEvent(Base):
    __tablename__ = "tracking_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[dt.datetime]
    location: Mapped[str | None] = mapped_column(String(300), default=None)
    tag: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")

    shipment: Mapped[Shipment] = relationship(back_populates="events")


class TrackingWebhookEvent(Base):
    """A tracking update already received: webhooks arrive at least once."""

    __tablename__ = "tracking_webhook_events"
    __table_args__ = (UniqueConstraint("store_id", "source", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    #: "aftership", "json", "easypost", "17track" or "cli".
    source: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(200))
    tracking_number: Mapped[str] = mapped_column(String(100))
    #: What the update did: applied, stale or unknown_shipment.
    outcome: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
