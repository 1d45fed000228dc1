"""Writes an order line: the order, its items, its shipments and their tracking events. A
re-imported order is updated in place, keeping its shipments (and their ids) by tracking number.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.core.models import Order, OrderItem, OrderStatus, Shipment, TrackingEvent
from bot.orders.import_fields import ImportErrorInLine, _date, _datetime, _field, _optional, _optional_link, _tag, _timezone
from bot.orders.import_stores import _require_store
from bot.orders.lookup import learn_order_number_shape, order_lookup_key


def _parse_shipment(store_id: str, raw: Any, index: int) -> Shipment:
    where = f"shipments[{index}]."
    if not isinstance(raw, dict):
        raise ImportErrorInLine(f"shipments[{index}] must be an object")
    status = _tag(raw, "status", where=where)
    delivered_at = _datetime(raw, "delivered_at", where=where, required=False)
    events_raw = raw.get("events") or []
    if not isinstance(events_raw, list):
        raise ImportErrorInLine(f"field {where}'events' must be a list")
    events = []
    for e_index, event in enumerate(events_raw):
        e_where = f"{where}events[{e_index}]."
        if not isinstance(event, dict):
            raise ImportErrorInLine(f"{e_where[:-1]} must be an object")
        events.append(
            TrackingEvent(
                store_id=store_id,
                occurred_at=_datetime(event, "time", where=e_where),
                location=_optional(event, "location", where=e_where),
                tag=_tag(event, "tag", where=e_where),
                message=_optional(event, "message", where=e_where) or "",
            )
        )
    events.sort(key=lambda e: e.occurred_at)
    return Shipment(
        store_id=store_id,
        carrier=_field(raw, "carrier", where=where),
        tracking_number=_field(raw, "tracking_number", where=where),
        tracking_url=_optional_link(raw, "tracking_url", where=where),
        status=status,
        estimated_delivery=_date(raw, "estimated_delivery", where=where),
        delivered_at=delivered_at,
        status_at=events[-1].occurred_at if events else None,
        events=events,
    )


async def _import_order(session: AsyncSession, obj: dict[str, Any]) -> None:
    store_id = _field(obj, "store")
    await _require_store(session, store_id)
    order_number = _field(obj, "order_number")
    status = _field(obj, "status")
    if status not in OrderStatus.__members__:
        raise ImportErrorInLine(f"field 'status' must be one of {', '.join(OrderStatus.__members__)}, not {status!r}")
    shopper = _field(obj, "shopper", dict)
    shipping = _field(obj, "shipping", dict)
    email = _field(shopper, "email", where="shopper.").strip().lower()
    if "@" not in email:
        raise ImportErrorInLine(f"field 'shopper.email' is not an email address: {email!r}")
    country = _field(shipping, "country", where="shipping.").upper()
    if len(country) != 2:
        raise ImportErrorInLine("field 'shipping.country' must be a two-letter country code")
    items_raw = _field(obj, "items", list)
    items = []
    for index, raw in enumerate(items_raw):
        where = f"items[{index}]."
        if not isinstance(raw, dict):
            raise ImportErrorInLine(f"items[{index}] must be an object")
        quantity = raw.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise ImportErrorInLine(f"field {where}'quantity' must be a positive integer")
        items.append(
            OrderItem(
                store_id=store_id,
                sku=_field(raw, "sku", where=where),
                name=_field(raw, "name", where=where),
                quantity=quantity,
            )
        )
    shipments_raw = obj.get("shipments") or []
    if not isinstance(shipments_raw, list):
        raise ImportErrorInLine("field 'shipments' must be a list")
    shipments = [_parse_shipment(store_id, raw, index) for index, raw in enumerate(shipments_raw)]

    values = dict(
        lookup_key=order_lookup_key(order_number),
        shopper_name=_field(shopper, "name", where="shopper."),
        shopper_email=email,
        shopper_timezone=_timezone(shopper, "timezone", where="shopper.", required=False),
        shipping_postcode=_field(shipping, "postcode", where="shipping.").strip(),
        shipping_country=country,
        placed_at=_datetime(obj, "placed_at"),
        status=status,
    )
    order = await session.scalar(
        select(Order)
        .where(Order.store_id == store_id, Order.order_number == order_number)
        .options(selectinload(Order.items), selectinload(Order.shipments).selectinload(Shipment.events))
    )
    if order is None:
        same_key = await session.scalar(
            select(Order.order_number).where(Order.store_id == store_id, Order.lookup_key == values["lookup_key"])
        )
        if same_key is not None:
            raise ImportErrorInLine(
                f"order number {order_number!r} reads the same as order {same_key!r} of this store: shoppers "
                "type numbers without case, spaces, dashes, '#' or leading zeros, so they could not tell "
                "the two apart. Give one of them another number."
            )
        session.add(Order(store_id=store_id, order_number=order_number, items=items, shipments=shipments, **values))
        # A new order teaches the store's number shape (an update keeps its number).
        await learn_order_number_shape(session, store_id, order_number)
        return
    for key, value in values.items():
        setattr(order, key, value)
    order.items = items
    # Keep shipment rows (and their ids) when the tracking number is the same.
    existing = {s.tracking_number: s for s in order.shipments}
    merged = []
    for new in shipments:
        old = existing.get(new.tracking_number)
        if old is None:
            merged.append(new)
            continue
        for key in ("carrier", "tracking_url", "status", "estimated_delivery", "delivered_at", "status_at"):
            setattr(old, key, getattr(new, key))
        # Detach the events from the throwaway shipment before moving them:
        # assigning ``new.events`` directly cascades ``new`` itself into the
        # session (an orphan shipment insert with no order_id) and leaves the
        # events out of it.
        events = list(new.events)
        new.events.clear()
        old.events = events
        merged.append(old)
    order.shipments = merged
