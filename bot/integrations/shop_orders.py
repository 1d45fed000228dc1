"""Orders from a seller's shop (Shopify, WooCommerce), in one shape whatever the shop, and how they
are written: created or updated in place, never moved back by an older delivery, and with their
shipments' statuses going through the same rule and the same notices as a tracking webhook's.

A provider module maps its payload to a :class:`ShopOrder` (or a :class:`ShopFulfillment`) and
raises :class:`BadShopData` for a field it cannot use; :func:`write_shop_order` does the rest.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.core.models import Order, OrderItem, OrderStatus, Shipment, TrackingTag
from bot.core.refusals import ParamValue, Refusal
from bot.core.text_input import BadInput, loads, surrogate_at
from bot.orders.lookup import learn_order_number_shape, order_lookup_key
from bot.shipping.tracking_updates import apply_shipment_status, signature_matches


class BadShopData(Refusal, ValueError):
    """A shop's order or fulfillment that cannot be used; the code says which field and why."""


class DeliveryRefused(Refusal):
    """A webhook delivery refused before anything is stored: the HTTP status and the code to answer."""

    def __init__(self, status: int, code: str, /, **params: ParamValue) -> None:
        super().__init__(code, **params)
        self.status = status


@dataclass(frozen=True)
class ShopItem:
    sku: str
    name: str
    quantity: int = 1


@dataclass(frozen=True)
class ShopShipment:
    """One tracking number of one fulfillment. ``tag``: our status (a TrackingTag value), or None when
    the shop knows nothing more than that it shipped."""

    tracking_number: str
    carrier: str
    tracking_url: str | None = None
    tag: str | None = None
    #: When the shop last changed this fulfillment: the status's time.
    tag_at: dt.datetime | None = None
    #: The shop's fulfillment id, with the provider (``shopify:255858046``).
    external_id: str | None = None


@dataclass(frozen=True)
class ShopOrder:
    #: The shop's own id, with the provider: ``shopify:820982911946154508``, ``woocommerce:727``.
    external_id: str
    #: As the shopper sees it: ``#1001``, ``727``.
    order_number: str
    shopper_name: str
    shopper_email: str
    shipping_postcode: str
    shipping_country: str
    placed_at: dt.datetime
    #: processing, shipped or cancelled: what the shop says (delivered comes from tracking).
    status: str
    items: list[ShopItem]
    #: None when the source says nothing about shipments (an export CSV): those we hold are kept.
    shipments: list[ShopShipment] | None = field(default=None)
    #: The shop's last-change time of this version: an older one changes nothing.
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class ShopFulfillment:
    """A fulfillment delivered on its own (Shopify ``fulfillments/*``): it names its order by the shop's id."""

    order_external_id: str
    shipments: list[ShopShipment]
    #: True when the shop cancelled it: its shipments that never moved are dropped.
    cancelled: bool = False


@dataclass(frozen=True)
class ShopDelivery:
    """One signed webhook delivery, read: exactly one of ``order``, ``fulfillment``, ``ignored`` (the
    reason a well-signed delivery is acknowledged and not acted on) or ``ping``."""

    delivery_id: str
    topic: str
    order: ShopOrder | None = None
    fulfillment: ShopFulfillment | None = None
    ignored: str | None = None
    #: WooCommerce's unsigned test ping, sent when a webhook is saved: answered 200, nothing stored.
    ping: bool = False


@dataclass(frozen=True)
class WriteResult:
    #: applied, stale (older than the version we hold), or unknown_order (a fulfillment of an order we do not have).
    outcome: str
    order_number: str | None = None
    created: bool = False
    delivered_now: int = 0


#: How far along an order is; a shop's update never moves it back (delivered comes from tracking,
#: which the shop may not know of yet). A cancellation is the shop's word and always stands.
_ORDER_PROGRESS = {OrderStatus.processing: 0, OrderStatus.shipped: 1, OrderStatus.delivered: 2, OrderStatus.returned: 3}


def _order_status(current: str | None, new: str) -> str:
    if new == OrderStatus.cancelled or current is None or current == OrderStatus.cancelled:
        return new
    return current if _ORDER_PROGRESS.get(current, 0) >= _ORDER_PROGRESS.get(new, 0) else new  # type: ignore[call-overload]


async def _order_by(session: AsyncSession, store_id: str, *criteria: object) -> Order | None:
    return await session.scalar(
        select(Order)
        .where(Order.store_id == store_id, *criteria)  # type: ignore[arg-type]
        .options(selectinload(Order.items), selectinload(Order.shipments).selectinload(Shipment.events))
        .with_for_update()
    )


async def write_shop_order(session: AsyncSession, store_id: str, shop: ShopOrder, *, notify: bool) -> WriteResult:
    """Create or update the store's order from its shop. Found by the shop's id, else by its number
    (an order imported before the connector existed is adopted). ``notify``: queue the delivery
    confirmation and notices as a tracking webhook would (webhooks), or not (backfill of the past)."""
    order = await _order_by(session, store_id, Order.external_id == shop.external_id)
    if order is None:
        order = await _order_by(session, store_id, Order.order_number == shop.order_number)
        if order is not None and order.external_id not in (None, shop.external_id):
            raise BadShopData("shop_order_number_taken", order_number=shop.order_number)
    if order is not None and _is_older(shop.updated_at, order.source_updated_at):
        return WriteResult("stale", order.order_number)
    key = order_lookup_key(shop.order_number)
    clash = await session.scalar(
        select(Order.order_number).where(
            Order.store_id == store_id, Order.lookup_key == key, Order.id != (order.id if order else -1)
        )
    )
    if clash is not None:
        raise BadShopData("shop_order_number_clash", order_number=shop.order_number, other=clash)
    items = [OrderItem(store_id=store_id, sku=i.sku, name=i.name, quantity=i.quantity) for i in shop.items]
    created = order is None
    if order is None:
        order = Order(
            store_id=store_id,
            order_number=shop.order_number,
            lookup_key=key,
            shopper_name=shop.shopper_name,
            shopper_email=shop.shopper_email,
            shipping_postcode=shop.shipping_postcode,
            shipping_country=shop.shipping_country,
            placed_at=shop.placed_at,
            status=shop.status,
            external_id=shop.external_id,
            source_updated_at=shop.updated_at,
            items=items,
            shipments=[],
        )
        session.add(order)
        await learn_order_number_shape(session, store_id, shop.order_number)
    else:
        order.order_number, order.lookup_key = shop.order_number, key
        order.shopper_name, order.shopper_email = shop.shopper_name, shop.shopper_email
        order.shipping_postcode, order.shipping_country = shop.shipping_postcode, shop.shipping_country
        order.placed_at, order.external_id = shop.placed_at, shop.external_id
        order.status = _order_status(order.status, shop.status)
        order.source_updated_at = shop.updated_at or order.source_updated_at
        if items:
            order.items = items
    delivered = 0
    for shipment in shop.shipments or []:
        delivered += await _write_shipment(session, order, shipment, notify=notify)
    return WriteResult("applied", order.order_number, created, delivered)


async def write_fulfillment(
    session: AsyncSession, store_id: str, fulfillment: ShopFulfillment, *, notify: bool
) -> WriteResult:
    """A fulfillment delivered on its own, onto the order it names. An order we do not hold yet is
    ``unknown_order``: the shop's order update, which carries its fulfillments, brings it."""
    order = await _order_by(session, store_id, Order.external_id == fulfillment.order_external_id)
    if order is None:
        return WriteResult("unknown_order")
    delivered = 0
    for shipment in fulfillment.shipments:
        if fulfillment.cancelled:
            _drop_unmoved(order, shipment)
        else:
            delivered += await _write_shipment(session, order, shipment, notify=notify)
    return WriteResult("applied", order.order_number, delivered_now=delivered)


def _drop_unmoved(order: Order, shop: ShopShipment) -> None:
    """A cancelled fulfillment: its shipment goes unless the carrier already moved it (then the
    parcel is real and its tracking stays)."""
    for shipment in list(order.shipments):
        if shipment.tracking_number == shop.tracking_number and shipment.status in (
            TrackingTag.Pending,
            TrackingTag.InfoReceived,
        ):
            order.shipments.remove(shipment)


async def _write_shipment(session: AsyncSession, order: Order, shop: ShopShipment, *, notify: bool) -> int:
    """Add or update one shipment; its status moves only by the tracking rule. 1 if it was delivered now."""
    shipment = next((s for s in order.shipments if s.tracking_number == shop.tracking_number), None)
    if shipment is None:
        shipment = Shipment(
            store_id=order.store_id,
            carrier=shop.carrier,
            tracking_number=shop.tracking_number,
            tracking_url=shop.tracking_url,
            status=TrackingTag.Pending.value,
            external_id=shop.external_id,
            events=[],
        )
        order.shipments.append(shipment)
        # The shipment's id names its delivery confirmation job.
        await session.flush()
    else:
        shipment.carrier = shop.carrier or shipment.carrier
        shipment.tracking_url = shop.tracking_url or shipment.tracking_url
        shipment.external_id = shop.external_id or shipment.external_id
    # A shipment the shop knows nothing more about is at least InfoReceived: a label exists.
    tag = shop.tag or (TrackingTag.InfoReceived.value if shipment.status == TrackingTag.Pending else None)
    when = shop.tag_at or order.source_updated_at or order.placed_at
    _, delivered_now = await apply_shipment_status(session, shipment, tag, when, notify=notify)
    return int(delivered_now)


def _is_older(new: dt.datetime | None, held: dt.datetime | None) -> bool:
    return new is not None and held is not None and new < held


# --- Reading a delivery: what every shop's reader needs, said the same way for each ---


def required_header(headers: Mapping[str, str], name: str) -> str:
    """A header the provider always sends; missing or empty is a 400 naming it."""
    value = headers.get(name, "").strip()
    if not value:
        raise DeliveryRefused(400, "webhook_header_missing", header=name)
    if surrogate_at(value) is not None:
        # A byte that is not UTF-8 (aiohttp keeps it as a lone surrogate): no column stores it.
        shown = value.encode("ascii", "backslashreplace").decode()[:80]
        raise DeliveryRefused(400, "shop_field_invalid", what=name, value=shown)
    return value


def check_signature(headers: Mapping[str, str], header: str, keys: list[str], sign: Callable[[str], str]) -> None:
    """401 unless ``header`` holds ``sign(key)`` for one of the keys valid now. Every key is
    compared (no early exit), each in constant time; no key set refuses everything."""
    given = headers.get(header)
    matches = [signature_matches(sign(key), given) for key in keys]
    if not any(matches):
        raise DeliveryRefused(401, "webhook_signature_wrong", header=header)


def check_bound_shop(bound: str | None, given: str) -> None:
    """The delivery's shop must be the one the store's connector is bound to: an order from
    another shop is never attached to this store (404, as an unknown store)."""
    if bound is None or bound != given:
        raise DeliveryRefused(404, "shop_domain_unknown")


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, every string checked; 400 otherwise."""
    try:
        value = loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DeliveryRefused(400, "body_not_json") from None
    except BadInput as exc:
        raise DeliveryRefused(400, exc.code, **exc.params) from None
    if not isinstance(value, dict):
        raise DeliveryRefused(400, "body_not_object")
    return value


def shop_text(obj: Mapping[str, Any], key: str, what: str, *, required: bool = True, limit: int = 300) -> str:
    """A text field of the shop's payload, stripped and cut to ``limit``; "" when optional and absent."""
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadShopData("shop_field_missing", what=what)
        return ""
    # A NUL is valid JSON but no text PostgreSQL stores (an error 500 on the write).
    if isinstance(value, bool) or not isinstance(value, (str, int)) or "\x00" in str(value):
        raise BadShopData("shop_field_invalid", what=what, value=str(value).replace("\x00", "\ufffd")[:80])
    return str(value).strip()[:limit]


def shop_time(value: Any, what: str) -> dt.datetime:
    """A shop's ISO-8601 time; one without an offset (WooCommerce's ``*_gmt``) is UTC."""
    if not isinstance(value, str) or not value.strip():
        raise BadShopData("shop_field_missing", what=what)
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved past the calendar by its offset
        raise BadShopData("shop_field_invalid", what=what, value=value[:80]) from None
