"""Shopify: order and fulfillment webhooks, and the backfill of past orders (the admin's "Export
orders" CSV, or Admin API order JSON).

A webhook is signed with the key Shopify shows in its admin (Settings → Notifications → Webhooks),
which the seller pastes into our console: ``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of
the raw body. ``X-Shopify-Webhook-Id`` is the same on every retry of one delivery: our idempotency key.
The design notes are tests/integrations/fixtures/PROVIDER-NOTES-shopify-woocommerce.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Mapping
from typing import Any

from bot.core.models import OrderStatus, TrackingTag
from bot.integrations.shop_backfill import csv_text, json_documents
from bot.integrations.shop_orders import (
    BadShopData,
    DeliveryRefused,
    ShopDelivery,
    ShopFulfillment,
    ShopItem,
    ShopOrder,
    ShopShipment,
    check_bound_shop,
    check_signature,
    json_object,
    required_header,
    shop_text,
    shop_time,
)
from bot.integrations.store_integrations import IntegrationRefused, normalise_shop_domain
from bot.shipping.tracking_updates import base64_hmac_sha256

PROVIDER = "shopify"
SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})
FULFILLMENT_TOPICS = frozenset({"fulfillments/create", "fulfillments/update"})

#: A fulfillment's ``shipment_status`` (Shopify's FulfillmentEventStatus, lower case in webhooks) ->
#: our status. ``None``: the fulfillment says nothing about where the parcel is. A value not here
#: (added by Shopify later) changes nothing either. ``delayed`` stays InTransit: the parcel moves,
#: late, and there is nothing the shopper can do (an Exception would send them a notice).
SHOPIFY_STATUSES: dict[str, TrackingTag | None] = {
    "label_purchased": TrackingTag.InfoReceived,
    "label_printed": TrackingTag.InfoReceived,
    "confirmed": TrackingTag.InfoReceived,
    "carrier_picked_up": TrackingTag.InTransit,
    "in_transit": TrackingTag.InTransit,
    "delayed": TrackingTag.InTransit,
    "out_for_delivery": TrackingTag.OutForDelivery,
    "attempted_delivery": TrackingTag.AttemptFail,
    "ready_for_pickup": TrackingTag.AvailableForPickup,
    "picked_up": TrackingTag.Delivered,
    "delivered": TrackingTag.Delivered,
    "failure": TrackingTag.Exception,
}
#: A fulfillment in one of these states never sent a parcel: ``failure`` and ``error`` are the
#: fulfillment *request* failing (at the warehouse or app), not the carrier, so no exception notice.
_NOT_SHIPPED = frozenset({"cancelled", "failure", "error"})
_SHIPPED = frozenset({"fulfilled", "partial"})
#: The most of one line item we believe (the column is a 32-bit integer).
MAX_QUANTITY = 100_000
#: The "Export orders" CSV's time format: ``2026-10-02 14:05:09 +0200``.
_EXPORT_TIME = "%Y-%m-%d %H:%M:%S %z"


#: ``X-Shopify-Hmac-Sha256`` for a body: base64 of HMAC-SHA256 keyed with the secret's UTF-8 bytes.
sign = base64_hmac_sha256


def read_delivery(headers: Mapping[str, str], body: bytes, keys: list[str], shop: str | None) -> ShopDelivery:
    """One webhook delivery: the signature first (nothing of the body is read before), then the
    shop it comes from, then the topic and the body."""
    check_signature(headers, SIGNATURE_HEADER, keys, lambda key: sign(key, body))
    try:
        domain = normalise_shop_domain(required_header(headers, "X-Shopify-Shop-Domain"))
    except IntegrationRefused:
        raise DeliveryRefused(404, "shop_domain_unknown") from None
    check_bound_shop(shop, domain)
    topic = required_header(headers, "X-Shopify-Topic")[:64]
    delivery_id = required_header(headers, "X-Shopify-Webhook-Id")
    payload = json_object(body)
    if topic in ORDER_TOPICS:
        return ShopDelivery(delivery_id, topic, order=order_from_api(payload))
    if topic in FULFILLMENT_TOPICS:
        return ShopDelivery(delivery_id, topic, fulfillment=fulfillment_from_api(payload))
    return ShopDelivery(delivery_id, topic, ignored=f"topic {topic!r} is not one we act on")


def _shopify_id(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = shop_text(obj, key, what, limit=40)
    if not value.isdigit():
        raise BadShopData("shop_field_invalid", what=what, value=value)
    return f"{PROVIDER}:{value}"


def _address(obj: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = obj.get(key)
    return value if isinstance(value, dict) else None


def _country(value: str, what: str) -> str:
    code = value.upper()
    if len(code) != 2 or not code.isalpha():
        raise BadShopData("shop_field_invalid", what=what, value=value)
    return code


def _email(value: str, what: str) -> str:
    email = value.lower()
    if "@" not in email:
        raise BadShopData("shop_field_invalid", what=what, value=value)
    return email


def _status(cancelled: bool, fulfillment_status: str) -> str:
    if cancelled:
        return OrderStatus.cancelled.value
    return (OrderStatus.shipped if fulfillment_status.lower() in _SHIPPED else OrderStatus.processing).value


def order_from_api(order: Mapping[str, Any]) -> ShopOrder:
    """An order as the REST Admin API and the ``orders/*`` webhooks give it."""
    customer = _address(order, "customer") or {}
    emails = (
        shop_text(order, "email", "email", required=False),
        shop_text(order, "contact_email", "contact_email", required=False),
    )
    email = next((e for e in (*emails, shop_text(customer, "email", "customer.email", required=False)) if e), None)
    if email is None:
        # Shopify withholds it from apps without protected-customer-data access: never a placeholder.
        raise BadShopData("shop_field_missing", what="email")
    # Digital and local-pickup orders have no shipping address: the billing one identifies the shopper.
    address = _address(order, "shipping_address") or _address(order, "billing_address") or {}
    customer_name = " ".join(
        filter(None, (shop_text(customer, k, "customer name", required=False) for k in ("first_name", "last_name")))
    )
    name = (
        shop_text(_address(order, "shipping_address") or {}, "name", "shipping_address.name", required=False, limit=200)
        or customer_name[:200]
        or shop_text(_address(order, "billing_address") or {}, "name", "billing_address.name", required=False, limit=200)
    )
    placed = order.get("processed_at") or order.get("created_at")
    fulfillments = order.get("fulfillments") or []
    if not isinstance(fulfillments, list):
        raise BadShopData("shop_field_invalid", what="fulfillments", value=str(fulfillments)[:80])
    shipments = [
        shipment
        for index, fulfillment in enumerate(fulfillments)
        for shipment in _fulfillment_shipments(fulfillment, f"fulfillments[{index}]")
        if shop_text(fulfillment, "status", "fulfillment status", required=False).lower() not in _NOT_SHIPPED
    ]
    return ShopOrder(
        external_id=_shopify_id(order, "id", "id"),
        order_number=shop_text(order, "name", "name", limit=64),
        shopper_name=name,
        shopper_email=_email(email, "email"),
        shipping_postcode=shop_text(address, "zip", "shipping_address.zip", limit=32),
        shipping_country=_country(shop_text(address, "country_code", "shipping_address.country_code"), "country_code"),
        placed_at=shop_time(placed, "processed_at"),
        status=_status(
            bool(order.get("cancelled_at")), shop_text(order, "fulfillment_status", "fulfillment_status", required=False)
        ),
        items=[_item(item, f"line_items[{i}]") for i, item in enumerate(_list(order, "line_items"))],
        shipments=shipments,
        updated_at=shop_time(order["updated_at"], "updated_at") if order.get("updated_at") else None,
    )


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    value = obj.get(key) or []
    if not isinstance(value, list):
        raise BadShopData("shop_field_invalid", what=key, value=str(value)[:80])
    return value


def _item(item: Any, what: str) -> ShopItem:
    """A line item. Its SKU may be empty (a product without one): then the variant's id stands for
    it (``variant:39072856``), else the line's own (``item:466157049``), so that the item is kept and
    the seller can tell which product it was."""
    if not isinstance(item, dict):
        raise BadShopData("shop_field_invalid", what=what, value=str(item)[:80])
    sku = shop_text(item, "sku", f"{what}.sku", required=False, limit=64)
    if not sku:
        variant = shop_text(item, "variant_id", f"{what}.variant_id", required=False, limit=40)
        sku = f"variant:{variant}" if variant else f"item:{shop_text(item, 'id', f'{what}.id', limit=40)}"
    quantity = item.get("quantity", 1)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise BadShopData("shop_field_invalid", what=f"{what}.quantity", value=str(quantity)[:80])
    name = shop_text(item, "name", f"{what}.name", required=False) or shop_text(item, "title", f"{what}.title")
    return ShopItem(sku=sku, name=name, quantity=quantity)


def shipment_tag(value: Any) -> str | None:
    """Our status for a fulfillment's ``shipment_status``, by :data:`SHOPIFY_STATUSES`; None for none or unknown."""
    tag = SHOPIFY_STATUSES.get(value.lower()) if isinstance(value, str) else None
    return tag.value if tag is not None else None


def _texts(values: list[Any], what: str, limit: int) -> list[str]:
    """A list of texts (tracking numbers, URLs), each checked as a field is; "" for an empty one."""
    return [shop_text({"value": v}, "value", f"{what}[{i}]", required=False, limit=limit) for i, v in enumerate(values)]


def _fulfillment_shipments(fulfillment: Any, what: str) -> list[ShopShipment]:
    """One shipment per tracking number of the fulfillment; its URL is the one at the same index."""
    if not isinstance(fulfillment, dict):
        raise BadShopData("shop_field_invalid", what=what, value=str(fulfillment)[:80])
    numbers = [n for n in _texts(_list(fulfillment, "tracking_numbers"), f"{what}.tracking_numbers", 100) if n] or [
        shop_text(fulfillment, "tracking_number", f"{what}.tracking_number", required=False, limit=100)
    ]
    urls = _texts(_list(fulfillment, "tracking_urls") or [fulfillment.get("tracking_url")], f"{what}.tracking_urls", 1000)
    carrier = shop_text(fulfillment, "tracking_company", f"{what}.tracking_company", required=False, limit=100) or "Other"
    changed = fulfillment.get("updated_at") or fulfillment.get("created_at")
    tag_at = shop_time(changed, f"{what}.updated_at") if changed else None
    external_id = _shopify_id(fulfillment, "id", f"{what}.id")
    tag = shipment_tag(fulfillment.get("shipment_status"))
    return [
        ShopShipment(
            tracking_number=number,
            carrier=carrier,
            tracking_url=(urls[index] if index < len(urls) else "") or None,
            tag=tag,
            tag_at=tag_at,
            external_id=external_id,
        )
        for index, number in enumerate(numbers)
        if number
    ]


def fulfillment_from_api(fulfillment: Mapping[str, Any]) -> ShopFulfillment:
    """A ``fulfillments/*`` body: a bare Fulfillment naming its order by Shopify's id."""
    status = shop_text(fulfillment, "status", "status", required=False).lower()
    return ShopFulfillment(
        order_external_id=_shopify_id(fulfillment, "order_id", "order_id"),
        shipments=_fulfillment_shipments(fulfillment, "fulfillment"),
        cancelled=status in _NOT_SHIPPED,
    )


# --- backfill ---


def backfill_orders(data: bytes) -> Iterator[tuple[int, ShopOrder | BadShopData]]:
    """Past orders from an "Export orders" CSV or from Admin API order JSON (``{"order": …}``,
    ``{"orders": [...]}``, a bare order, an array of them, or JSON Lines), with the line each starts on."""
    try:
        text = csv_text(data)
    except BadShopData as refused:
        yield int(refused.params["line"] or 1), refused
        return
    if text.lstrip()[:1] in ("{", "["):
        for line, document in json_documents(text, ("order", "orders")):
            if isinstance(document, BadShopData):
                yield line, document
                continue
            try:
                yield line, order_from_api(document)
            except BadShopData as refused:
                yield line, refused
        return
    yield from _orders_from_export(text)


#: Columns the export must have (by name: their positions have changed over the years).
_EXPORT_COLUMNS = ("Name", "Email", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem sku", "Id")


def _orders_from_export(text: str) -> Iterator[tuple[int, ShopOrder | BadShopData]]:
    """The admin's export: one row per line item; an order's further rows repeat its ``Name`` and
    leave the order's columns empty. Line numbers are physical lines (a quoted note may hold newlines)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in _EXPORT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        yield 1, BadShopData("backfill_column_missing", column=missing[0])
        return
    group: list[tuple[int, dict[str, str]]] = []
    seen: dict[str, int] = {}
    line = reader.line_num + 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1
            if group and row.get("Name") != group[0][1].get("Name"):
                yield _export_order(group, seen)
                group = []
            group.append((start, row))
    except csv.Error as exc:
        # A field over the csv module's limit, a stray quote at the end: what follows cannot be read.
        yield line, BadShopData("backfill_csv_invalid", detail=str(exc)[:100])
        return
    if group:
        yield _export_order(group, seen)


def _export_order(group: list[tuple[int, dict[str, str]]], seen: dict[str, int]) -> tuple[int, ShopOrder | BadShopData]:
    first_line, first = group[0]
    row = {k: (v or "").strip() for k, v in first.items() if k is not None}
    try:
        name = shop_text(row, "Name", "Name", limit=64)
        if name in seen:
            raise BadShopData("backfill_order_repeated", order_number=name, line=seen[name])
        seen[name] = first_line
        shipping = any(row.get(f"Shipping {c}") for c in ("Name", "Address1", "Zip", "Country", "City"))
        side = "Shipping" if shipping else "Billing"
        items = []
        for line, item_row in group:
            try:
                items.append(_export_item(item_row))
            except BadShopData as refused:
                return line, refused
        order_id = shop_text(row, "Id", "Id", limit=40)
        if not order_id.isdigit():
            raise BadShopData("shop_field_invalid", what="Id", value=order_id)
        return first_line, ShopOrder(
            external_id=f"{PROVIDER}:{order_id}",
            order_number=name,
            shopper_name=shop_text(row, f"{side} Name", f"{side} Name", required=False, limit=200)
            or shop_text(row, "Billing Name", "Billing Name", required=False, limit=200),
            shopper_email=_email(shop_text(row, "Email", "Email"), "Email"),
            # Exports put an apostrophe before a zip with leading zeros, so that spreadsheets keep them.
            shipping_postcode=shop_text(row, f"{side} Zip", f"{side} Zip", limit=33).removeprefix("'")[:32],
            shipping_country=_country(shop_text(row, f"{side} Country", f"{side} Country"), f"{side} Country"),
            placed_at=_export_time(row.get("Created at", ""), "Created at"),
            status=_status(bool(row.get("Cancelled at")), row.get("Fulfillment Status", "")),
            items=items,
            shipments=None,
        )
    except BadShopData as refused:
        return first_line, refused


def _export_item(row: dict[str, str]) -> ShopItem:
    quantity = (row.get("Lineitem quantity") or "1").strip()
    if not quantity.isdigit() or not 1 <= int(quantity) <= MAX_QUANTITY:
        raise BadShopData("shop_field_invalid", what="Lineitem quantity", value=quantity[:80])
    name = shop_text(row, "Lineitem name", "Lineitem name")
    # The export has no variant id: an item without a SKU is named by its title.
    sku = shop_text(row, "Lineitem sku", "Lineitem sku", required=False, limit=64) or f"title:{name}"[:64]
    return ShopItem(sku=sku, name=name, quantity=int(quantity))


def _export_time(value: str, what: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(value.strip(), _EXPORT_TIME).astimezone(dt.UTC)
    except (ValueError, OverflowError):
        # A hand-edited export may hold ISO times: accept them too.
        return shop_time(value, what)
