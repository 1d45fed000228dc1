"""WooCommerce: its order webhooks (``order.created``, ``order.updated``, and the ping it sends when
a webhook is saved) and a file of its REST API orders for the past, read into :class:`ShopOrder`.

What WooCommerce sends (``WC_Webhook::deliver`` in ``class-wc-webhook.php``): the body is
``trim(wp_json_encode($payload))``, the REST v3 order object, compact, with ``\\/`` and ``\\uXXXX``
escapes; ``X-WC-Webhook-Signature`` is ``base64(HMAC-SHA256(secret, body))`` (the raw digest, not
hex); ``X-WC-Webhook-Source`` is the site's address (``home_url('/')``). It never retries a failed
delivery and disables the webhook after five failures in a row, so what is signed but not usable is
acknowledged (202) with a reason rather than refused with an error.

The tracking numbers come from the Shipment Tracking extension's order meta
``_wc_shipment_tracking_items`` (the Advanced Shipment Tracking plugin writes the same key).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import html
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from bot.core.models import OrderStatus
from bot.core.text_input import MAX_DEPTH, BadInput, check_json
from bot.integrations.shop_orders import (
    BadShopData,
    ShopDelivery,
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
from bot.integrations.store_integrations import IntegrationRefused, normalise_site_url
from bot.shipping.tracking_updates import base64_hmac_sha256

SIGNATURE = "X-WC-Webhook-Signature"
TOPIC = "X-WC-Webhook-Topic"
DELIVERY_ID = "X-WC-Webhook-Delivery-ID"
SOURCE = "X-WC-Webhook-Source"
TOPICS = ("order.created", "order.updated")
#: What ``WC_Webhook::deliver_ping`` posts, unsigned and without any X-WC-Webhook-* header.
_PING = re.compile(rb"webhook_id=\d{1,20}")
_TRACKING_META = "_wc_shipment_tracking_items"
#: A block-checkout cart that has not become an order (never delivered by a webhook; the REST
#: API may list it).
_DRAFT = "checkout-draft"
_STATUSES = {
    "pending": OrderStatus.processing,
    "on-hold": OrderStatus.processing,
    "processing": OrderStatus.processing,
    "completed": OrderStatus.shipped,
    "cancelled": OrderStatus.cancelled,
    "failed": OrderStatus.cancelled,
    "trash": OrderStatus.cancelled,
}
_COUNTRY = re.compile(r"[A-Z]{2}")
#: The columns' widths: what is longer is refused (a number, an address) or cut (a name).
_ORDER_NUMBER_MAX, _EMAIL_MAX, _POSTCODE_MAX, _SKU_MAX, _TRACKING_MAX = 64, 320, 32, 64, 100
_QUANTITY_MAX = 2**31 - 1


#: ``WC_Webhook::generate_signature``: base64 of the raw HMAC-SHA256 digest of the body as sent.
#: (WooCommerce decodes HTML entities in the secret first; ours are letters and digits, unchanged.)
signature = base64_hmac_sha256


def read_delivery(headers: Mapping[str, str], body: bytes, keys: list[str], shop: str | None) -> ShopDelivery:
    """One delivery to a store's WooCommerce webhook. ``shop``: the site the connector is bound to
    (normalised), or None: then a delivery from any site signed with the store's key is taken, as
    the key alone names the store; binding the site also refuses a leaked key used from elsewhere."""
    if SIGNATURE not in headers and _PING.fullmatch(body.strip()):
        return ShopDelivery(delivery_id="", topic="ping", ping=True)
    check_signature(headers, SIGNATURE, keys, lambda key: signature(key, body))
    if shop is not None:
        try:
            source = normalise_site_url(required_header(headers, SOURCE))
        except IntegrationRefused:
            source = ""
        check_bound_shop(shop, source)
    topic = required_header(headers, TOPIC).lower()
    # WooCommerce makes the delivery id as wp_hash(webhook id . strtotime('now')): to the second, so
    # two deliveries of one webhook in the same second (two orders saved together, an order created
    # and updated at once) share it, and keyed on it alone the second would be dropped as a
    # duplicate. WooCommerce never retries, so a true repeat (a proxy's, a replay) has the same
    # body: the body's hash beside the id keeps the repeat a duplicate and the twin a delivery.
    delivery_id = f"{required_header(headers, DELIVERY_ID)[:100]}:{hashlib.sha256(body).hexdigest()[:16]}"
    if topic not in TOPICS:
        return ShopDelivery(delivery_id, topic, ignored=f"topic {topic[:64]} is not acted on (only {', '.join(TOPICS)})")
    payload = json_object(body)
    if payload.get("status") == _DRAFT:
        return ShopDelivery(delivery_id, topic, ignored="a checkout draft is not an order yet")
    return ShopDelivery(delivery_id, topic, order=order_from_rest(payload))


def order_from_rest(order: Mapping[str, Any]) -> ShopOrder:
    """A REST API (v3) order, as the webhooks and ``GET /wp-json/wc/v3/orders`` give it."""
    if "id" not in order and isinstance(order.get("order"), dict):
        # The "Legacy API v3" payload: {"order": {...}} with other field names.
        raise BadShopData("shop_field_invalid", what="the webhook's API version", value="Legacy API v3")
    order_id = order.get("id")
    if order_id is None:
        raise BadShopData("shop_field_missing", what="id")
    if isinstance(order_id, bool) or not re.fullmatch(r"[1-9][0-9]{0,18}", str(order_id)):
        raise BadShopData("shop_field_invalid", what="id", value=str(order_id)[:80])
    billing, shipping = _address(order, "billing"), _address(order, "shipping")
    # A virtual order, or one collected in person, has an empty shipping address: the billing one stands in.
    address = shipping if shop_text(shipping, "country", "shipping.country", required=False) else billing
    where = "shipping" if address is shipping else "billing"
    return ShopOrder(
        external_id=f"woocommerce:{int(order_id)}",
        order_number=_bounded(order, "number", "number", _ORDER_NUMBER_MAX),
        shopper_name=_name(shipping) or _name(billing),
        shopper_email=_email(billing),
        shipping_postcode=_bounded(address, "postcode", f"{where}.postcode", _POSTCODE_MAX),
        shipping_country=_country(address, where),
        placed_at=shop_time(order.get("date_created_gmt"), "date_created_gmt"),
        status=_status(order),
        items=_items(order.get("line_items")),
        shipments=_shipments(order.get("meta_data")),
        updated_at=shop_time(order["date_modified_gmt"], "date_modified_gmt") if order.get("date_modified_gmt") else None,
    )


def _address(order: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = order.get(key)
    # An empty PHP array is encoded as [], not {}.
    if value is None or value == []:
        return {}
    if not isinstance(value, dict):
        raise BadShopData("shop_field_invalid", what=key, value=str(value)[:80])
    return value


def _bounded(obj: Mapping[str, Any], key: str, what: str, limit: int) -> str:
    """A field that identifies (a number, a postcode): refused, never cut, when it is too long."""
    value = shop_text(obj, key, what, limit=limit + 1)
    if len(value) > limit:
        raise BadShopData("shop_field_invalid", what=what, value=value[:80])
    return value


def _name(address: Mapping[str, Any]) -> str:
    first = shop_text(address, "first_name", "first_name", required=False)
    last = shop_text(address, "last_name", "last_name", required=False)
    return f"{first} {last}".strip()[:200]


def _email(billing: Mapping[str, Any]) -> str:
    email = _bounded(billing, "email", "billing.email", _EMAIL_MAX).lower()
    if "@" not in email:
        raise BadShopData("shop_field_invalid", what="billing.email", value=email[:80])
    return email


def _country(address: Mapping[str, Any], where: str) -> str:
    country = shop_text(address, "country", f"{where}.country").upper()
    if not _COUNTRY.fullmatch(country):
        raise BadShopData("shop_field_invalid", what=f"{where}.country", value=country[:80])
    return country


def _status(order: Mapping[str, Any]) -> str:
    status = shop_text(order, "status", "status", required=False).lower()
    if status == "refunded":
        # A refund is not a return, and says nothing of the parcel: refunded after it was completed
        # (shipped) the order stays shipped, and tracking goes on; refunded before, nothing will ship.
        shipped = bool(order.get("date_completed_gmt")) or bool(_shipments(order.get("meta_data")))
        return OrderStatus.shipped.value if shipped else OrderStatus.cancelled.value
    # A plugin's own status (or none) is "processing": an order is never moved back by it.
    return _STATUSES.get(status, OrderStatus.processing).value


def _items(line_items: Any) -> list[ShopItem]:
    if line_items is None:
        return []
    if not isinstance(line_items, list):
        raise BadShopData("shop_field_invalid", what="line_items", value=str(line_items)[:80])
    items = []
    for index, line in enumerate(line_items):
        what = f"line_items[{index}]"
        if not isinstance(line, dict):
            raise BadShopData("shop_field_invalid", what=what, value=str(line)[:80])
        quantity = line.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= _QUANTITY_MAX:
            raise BadShopData("shop_field_invalid", what=f"{what}.quantity", value=str(quantity)[:80])
        sku = shop_text(line, "sku", f"{what}.sku", required=False, limit=_SKU_MAX) or _item_key(line, what)
        name = html.unescape(shop_text(line, "name", f"{what}.name", required=False, limit=1000)).strip()
        items.append(ShopItem(sku=sku, name=name[:300] or sku, quantity=quantity))
    return items


def _item_key(line: Mapping[str, Any], what: str) -> str:
    """An item without a SKU (WooCommerce does not require one): named by its product, else by its line."""
    for key, prefix in (("product_id", "product"), ("id", "item")):
        value = line.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return f"{prefix}:{value}"
    raise BadShopData("shop_field_missing", what=f"{what}.sku")


def _shipments(meta_data: Any) -> list[ShopShipment]:
    """The Shipment Tracking extension's items. WooCommerce reports no parcel status: a new
    shipment is InfoReceived from its ship date, and one we hold keeps the tag tracking gave it.
    What is not in the extension's shape (a plugin's string, an item without a number) is skipped:
    the order itself is still good."""
    if not isinstance(meta_data, list):
        return []
    shipments = []
    for meta in meta_data:
        if not isinstance(meta, dict) or meta.get("key") != _TRACKING_META or not isinstance(meta.get("value"), list):
            continue
        for item in meta["value"]:
            shipment = _shipment(item) if isinstance(item, dict) else None
            if shipment is not None:
                shipments.append(shipment)
    return shipments


def _shipment(item: Mapping[str, Any]) -> ShopShipment | None:
    number = _meta_text(item, "tracking_number")
    if not number or len(number) > _TRACKING_MAX:
        return None
    # A custom provider's name, else the predefined provider's slug ("ups", "royal-mail").
    carrier = _meta_text(item, "custom_tracking_provider") or _meta_text(item, "tracking_provider")
    # Only a custom provider's link is stored; a predefined provider's is made when WooCommerce shows it.
    link = _meta_text(item, "custom_tracking_link")
    tracking_id = _meta_text(item, "tracking_id")
    return ShopShipment(
        tracking_number=number,
        carrier=carrier[:100],
        tracking_url=link if re.match(r"https?://", link, re.I) and len(link) <= 1000 else None,
        tag=None,
        tag_at=_unix_time(item.get("date_shipped")),
        external_id=f"woocommerce:{tracking_id}" if tracking_id and len(tracking_id) <= 64 else None,
    )


def _meta_text(item: Mapping[str, Any], key: str) -> str:
    """A text of a tracking item; "" for anything else (a NUL, which no column stores, included)."""
    value = item.get(key)
    return value.strip() if isinstance(value, str) and "\x00" not in value else ""


def _unix_time(value: Any) -> dt.datetime | None:
    """``date_shipped``: a Unix timestamp, stored as a string; anything else is no time."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text.isdigit() or len(text) > 11:
        return None
    return dt.datetime.fromtimestamp(int(text), dt.UTC)


# --- Backfill: the REST API's orders, saved to a file ---

_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _after_whitespace(text: str, position: int) -> int:
    found = _WHITESPACE.match(text, position)
    assert found is not None  # "*" matches the empty string
    return found.end()


def _not_a_number(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def backfill_orders(data: bytes) -> Iterator[tuple[int, ShopOrder | BadShopData]]:
    """The orders of a file of ``GET /wp-json/wc/v3/orders`` output: one JSON array (a page), or
    several pages one after the other (JSON Lines of arrays, or of single orders). Each with the
    line its object starts on. A file that stops being JSON ends with the line where it does."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield data[: exc.start].count(b"\n") + 1, BadShopData("body_not_json")
        return
    line_starts = [0, *(match.end() for match in re.finditer("\n", text))]

    def line_of(position: int) -> int:
        return bisect.bisect_right(line_starts, position)

    decoder = json.JSONDecoder(parse_constant=_not_a_number)
    position = _after_whitespace(text, 0)
    while position < len(text):
        in_page = text[position] == "["
        if in_page:
            position = _after_whitespace(text, position + 1)
            if text.startswith("]", position):
                position = _after_whitespace(text, position + 1)
                continue
        while True:
            try:
                value, end = decoder.raw_decode(text, position)
            except json.JSONDecodeError as exc:
                yield exc.lineno, BadShopData("body_not_json")
                return
            except RecursionError:
                yield line_of(position), BadShopData("json_too_deep", limit=MAX_DEPTH)
                return
            except ValueError as exc:  # NaN, Infinity, an integer of thousands of digits
                yield line_of(position), BadShopData("json_not_usable", detail=str(exc)[:200])
                return
            order = _backfill_order(value)
            if order is not None:
                yield line_of(position), order
            position = _after_whitespace(text, end)
            if not in_page:
                break
            if text.startswith(",", position):
                position = _after_whitespace(text, position + 1)
                continue
            if text.startswith("]", position):
                position = _after_whitespace(text, position + 1)
                break
            yield line_of(position), BadShopData("body_not_json")
            return


def _backfill_order(value: Any) -> ShopOrder | BadShopData | None:
    """One order of the file; None for a checkout draft (a cart, not an order)."""
    try:
        check_json(value)
    except BadInput as exc:
        return BadShopData(exc.code, **exc.params)
    if not isinstance(value, dict):
        return BadShopData("shop_field_invalid", what="order", value=str(value)[:80])
    if value.get("status") == _DRAFT:
        return None
    try:
        return order_from_rest(value)
    except BadShopData as refused:
        return refused
