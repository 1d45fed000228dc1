"""What a shipment's tracking status means for the shopper, in words."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.models import Order, Shipment, TrackingTag

#: What each AfterShip tag means for the shopper, and what they can do.
STATUS_MEANING: dict[str, str] = {
    TrackingTag.Pending: "The shipping label exists but the carrier has no scan yet. "
    "Tracking usually starts within 1–2 business days of the parcel being handed over.",
    TrackingTag.InfoReceived: "The carrier has the shipment details and is waiting to collect the parcel. "
    "The first scan usually follows within 1–2 business days.",
    TrackingTag.InTransit: "Your parcel is on its way. International legs can go several days "
    "between scans, so a quiet spell is normal.",
    TrackingTag.OutForDelivery: "Your parcel is out for delivery and should arrive today.",
    TrackingTag.AttemptFail: "The carrier tried to deliver but couldn't. They usually try again on the "
    "next business day, or leave a notice saying how to rebook or collect it.",
    TrackingTag.Delivered: "The carrier says it was delivered. If you can't find it, check around the "
    "door, with neighbours or your building's reception.",
    TrackingTag.AvailableForPickup: "Your parcel is waiting for you at a pickup point. Bring ID and the "
    "tracking number; pickup points usually hold parcels for 7–14 days before returning them.",
    TrackingTag.Exception: "The parcel is held up, most often in customs. Customs holds usually clear in "
    "2–5 business days; if import duty or paperwork is needed, the carrier will contact you to pay or "
    "provide it, and paying promptly is the fastest way to release it.",
    TrackingTag.Expired: "The carrier has stopped updating this tracking number. If the parcel hasn't "
    "arrived, the store can investigate with the carrier.",
}

_ORDER_STATUS_TEXT = {
    "processing": "is being prepared and hasn't shipped yet. You'll get tracking as soon as it leaves the warehouse.",
    "shipped": "has shipped.",
    "delivered": "has been delivered.",
    "cancelled": "was cancelled, so nothing will be shipped. If you didn't expect this, ask for a person.",
    "returned": "was returned to the store.",
}


def _zone(name: str | None) -> dt.tzinfo:
    try:
        return ZoneInfo(name) if name else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def format_time(moment: dt.datetime, timezone: str | None) -> str:
    local = moment.astimezone(_zone(timezone))
    label = timezone if timezone else "UTC"
    return f"{local:%a %d %b, %H:%M} ({label})"


def format_date(day: dt.date) -> str:
    return f"{day:%a %d %b %Y}"


def describe_shipment(shipment: Shipment, timezone: str | None) -> list[str]:
    lines = [f"{shipment.carrier}, tracking number {shipment.tracking_number}"]
    if shipment.tracking_url:
        lines.append(f"Track it: {shipment.tracking_url}")
    latest = shipment.events[-1] if shipment.events else None
    if latest is not None:
        where = f" — {latest.location}" if latest.location else ""
        lines.append(f"Latest update: {latest.message}{where}, {format_time(latest.occurred_at, timezone)}")
    if shipment.delivered_at is not None:
        lines.append(f"Delivered: {format_time(shipment.delivered_at, timezone)}")
    elif shipment.estimated_delivery is not None:
        lines.append(f"Estimated delivery: {format_date(shipment.estimated_delivery)}")
    meaning = STATUS_MEANING.get(shipment.status)
    if meaning:
        lines.append(meaning)
    return lines


def describe_order(order: Order) -> str:
    """The full answer to "where is my order?" for a verified order."""
    items = ", ".join(f"{item.quantity} × {item.name}" for item in order.items) or "no items"
    status = _ORDER_STATUS_TEXT.get(order.status, f"is {order.status}.")
    parts = [f"Order {order.order_number} ({items}) {status}"]
    shipments = order.shipments
    for index, shipment in enumerate(shipments, start=1):
        heading = f"Shipment {index} of {len(shipments)}: " if len(shipments) > 1 else ""
        lines = describe_shipment(shipment, order.shopper_timezone)
        parts.append(heading + "\n".join(lines))
    if order.status == "shipped" and not shipments:
        parts.append("The carrier hasn't shared tracking details yet.")
    return "\n\n".join(parts)
