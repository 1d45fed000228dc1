"""Shopify's webhooks read: the published HMAC vector, every fixture body mapped, the status table.

Fixtures and their sources: tests/integrations/fixtures/SOURCES.md (the webhook bodies are derived
from Shopify's Python SDK fixtures; the ``computed_by_us`` signatures are ours)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.core.models import TrackingTag
from bot.integrations import shopify
from bot.integrations.shop_orders import BadShopData, DeliveryRefused

FIXTURES = Path(__file__).parent / "fixtures" / "shopify"
VECTORS = json.loads((FIXTURES / "hmac_vectors.json").read_text())
SHOP = "example.myshopify.com"
ORDER_ID = "shopify:450789469"


def headers(signature: str, topic: str, shop: str = SHOP) -> dict[str, str]:
    return {
        "X-Shopify-Hmac-Sha256": signature,
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    }


def test_the_official_vector() -> None:
    (vector,) = VECTORS["official"]
    assert shopify.sign(vector["secret"], vector["body"].encode()) == vector["x_shopify_hmac_sha256"]


# file -> what it maps to: (order status, shipments as (number, carrier, tag)) or (fulfillment shipments, cancelled)
EXPECTED: dict[str, Any] = {
    # Its only fulfillment has status "failure": the fulfillment request failed, no parcel left.
    "webhook_orders_create.json": ("processing", []),
    "webhook_orders_updated.json": ("shipped", [("1Z2345", "UPS", "InTransit")]),
    "webhook_orders_cancelled.json": ("cancelled", []),
    # shipment_status null: the writer makes a new shipment InfoReceived.
    "webhook_fulfillments_create.json": ([("1Z2345", "null-company", None)], False),
    "webhook_fulfillments_update.json": ([("1Z2345", "null-company", "Delivered")], False),
}


@pytest.mark.parametrize("vector", VECTORS["computed_by_us"]["vectors"], ids=lambda v: v["topic"])
def test_every_fixture_delivery_is_read(vector: dict[str, str]) -> None:
    body = (FIXTURES / vector["file"]).read_bytes()
    # The shop domain is normalised before it is compared.
    delivery = shopify.read_delivery(
        headers(vector["x_shopify_hmac_sha256"], vector["topic"], " Example.MyShopify.com"),
        body,
        ["old-key", vector["secret"]],
        SHOP,
    )
    assert (delivery.topic, delivery.delivery_id) == (vector["topic"], "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
    expected = EXPECTED[vector["file"]]
    if delivery.order is not None:
        order = delivery.order
        shipments = [(s.tracking_number, s.carrier, s.tag) for s in order.shipments or []]
        assert (order.status, shipments) == expected
        assert (order.external_id, order.order_number, order.shopper_email) == (ORDER_ID, "#1001", "bob.norman@hostmail.com")
        assert (order.shopper_name, order.shipping_postcode, order.shipping_country) == ("Bob Norman", "40202", "US")
        assert order.placed_at.isoformat() == "2008-01-10T16:00:00+00:00"
        assert order.updated_at == shopify.shop_time(json.loads(body)["updated_at"], "updated_at")
        assert [(i.sku, i.name, i.quantity) for i in order.items][0] == ("IPOD2008GREEN", "IPod Nano - 8gb - green", 1)
        assert len(order.items) == 3
    else:
        fulfillment = delivery.fulfillment
        assert fulfillment is not None and fulfillment.order_external_id == ORDER_ID
        assert ([(s.tracking_number, s.carrier, s.tag) for s in fulfillment.shipments], fulfillment.cancelled) == expected
        (shipment,) = fulfillment.shipments
        assert (shipment.external_id, shipment.tracking_url) == (
            "shopify:255858046",
            "http://www.google.com/search?q=1Z2345",
        )
        assert shipment.tag_at == shopify.shop_time(json.loads(body)["updated_at"], "updated_at")


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def _signed(payload: dict[str, Any] | bytes, topic: str = "orders/create", shop: str = SHOP) -> tuple[dict[str, str], bytes]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return headers(shopify.sign("k3y-0f-the-shop", body), topic, shop), body


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        # The signature is checked before anything is parsed: a wrong one with a broken body is 401.
        (
            lambda h, b: ({**h, "X-Shopify-Hmac-Sha256": "AAAA" + h["X-Shopify-Hmac-Sha256"][4:]}, b"{not json"),
            401,
            "webhook_signature_wrong",
        ),
        # No signature at all is refused as a wrong one is: nothing says which headers we expect.
        (lambda h, b: ({k: v for k, v in h.items() if k != "X-Shopify-Hmac-Sha256"}, b), 401, "webhook_signature_wrong"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "X-Shopify-Webhook-Id"}, b), 400, "webhook_header_missing"),
        (lambda h, b: ({**h, "X-Shopify-Shop-Domain": "other.myshopify.com"}, b), 404, "shop_domain_unknown"),
        (lambda h, b: ({**h, "X-Shopify-Shop-Domain": "not a shop"}, b), 404, "shop_domain_unknown"),
    ],
)
def test_refused_deliveries(change: Any, status: int, code: str) -> None:
    given, body = change(*_signed(_fixture("webhook_orders_create.json")))
    with pytest.raises(DeliveryRefused) as refused:
        shopify.read_delivery(given, body, ["k3y-0f-the-shop"], SHOP)
    assert (refused.value.status, refused.value.code) == (status, code)


def test_a_store_not_bound_to_a_shop_refuses_every_delivery() -> None:
    with pytest.raises(DeliveryRefused) as refused:
        shopify.read_delivery(*_signed(_fixture("webhook_orders_create.json")), ["k3y-0f-the-shop"], None)
    assert refused.value.status == 404


def test_another_topic_is_ignored_with_its_reason() -> None:
    delivery = shopify.read_delivery(*_signed(b'{"id": 1}', topic="products/create"), ["k3y-0f-the-shop"], SHOP)
    assert delivery.order is None and delivery.fulfillment is None and "products/create" in (delivery.ignored or "")


def _order(**changes: Any) -> dict[str, Any]:
    return {**_fixture("webhook_orders_create.json"), **changes}


@pytest.mark.parametrize(
    ("order", "what"),
    [
        # Protected customer data withheld: no email anywhere, never a placeholder.
        (_order(email=None, contact_email=None, customer=None), "email"),
        (
            _order(shipping_address={**_fixture("webhook_orders_create.json")["shipping_address"], "zip": ""}),
            "shipping_address.zip",
        ),
        (_order(shipping_address=None, billing_address=None), "shipping_address.zip"),
    ],
)
def test_an_order_without_what_identifies_the_shopper_is_refused(order: dict[str, Any], what: str) -> None:
    with pytest.raises(BadShopData) as refused:
        shopify.order_from_api(order)
    assert refused.value.code == "shop_field_missing" and refused.value.params["what"] == what


def test_fallbacks_email_billing_address_and_sku() -> None:
    billing = {"name": "Bo Norm", "zip": "K1A 0B1", "country_code": "ca"}
    items = [
        {"id": 1, "sku": "", "variant_id": 39072856, "title": "Gift card", "quantity": 2},
        {"id": 466157050, "sku": None, "variant_id": None, "title": "Custom item", "quantity": 1},
    ]
    order = shopify.order_from_api(
        _order(
            email=None,
            contact_email="Bob@Example.com",
            shipping_address=None,
            billing_address=billing,
            line_items=items,
            processed_at="2008-01-10T12:00:00Z",
        )
    )
    assert (order.shopper_email, order.shopper_name, order.shipping_postcode, order.shipping_country) == (
        "bob@example.com",
        "Bob Norman",
        "K1A 0B1",
        "CA",
    )
    assert [(i.sku, i.name, i.quantity) for i in order.items] == [
        ("variant:39072856", "Gift card", 2),
        ("item:466157050", "Custom item", 1),
    ]
    assert order.placed_at.isoformat() == "2008-01-10T12:00:00+00:00"


def test_one_shipment_per_tracking_number_and_a_cancelled_fulfillment() -> None:
    fulfillment = {
        **_fixture("webhook_fulfillments_update.json"),
        "tracking_company": None,
        "tracking_numbers": ["1Z1", "1Z2"],
        "tracking_urls": ["https://t.example/1Z1"],
        "status": "cancelled",
    }
    read = shopify.fulfillment_from_api(fulfillment)
    assert read.cancelled
    assert [(s.tracking_number, s.carrier, s.tracking_url) for s in read.shipments] == [
        ("1Z1", "Other", "https://t.example/1Z1"),
        ("1Z2", "Other", None),
    ]


@pytest.mark.parametrize(
    ("shipment_status", "tag"),
    [
        *((value, tag.value if tag else None) for value, tag in shopify.SHOPIFY_STATUSES.items()),
        ("IN_TRANSIT", TrackingTag.InTransit.value),  # GraphQL's spelling
        (None, None),
        ("teleported", None),  # a value added later: no change
    ],
)
def test_shipment_status_table(shipment_status: str | None, tag: str | None) -> None:
    assert shopify.shipment_tag(shipment_status) == tag


def test_the_table_maps_every_published_value() -> None:
    published = {
        "attempted_delivery", "carrier_picked_up", "confirmed", "delayed", "delivered", "failure", "in_transit",
        "label_printed", "label_purchased", "out_for_delivery", "picked_up", "ready_for_pickup",
    }  # fmt: skip
    assert set(shopify.SHOPIFY_STATUSES) == published
    assert shopify.SHOPIFY_STATUSES["delivered"] == TrackingTag.Delivered


@pytest.mark.parametrize(
    ("change", "what"),
    [
        ({"email": "bob\x00@example.com"}, "email"),  # PostgreSQL stores no NUL: refused, never a 500
        ({"processed_at": "0001-01-01T00:00:00+01:00"}, "processed_at"),  # no UTC equivalent
        ({"line_items": [{"sku": "A", "title": "A", "quantity": 2**40}]}, "line_items[0].quantity"),
    ],
)
def test_values_the_database_could_not_hold_are_refused(change: dict[str, Any], what: str) -> None:
    with pytest.raises(BadShopData) as refused:
        shopify.order_from_api(_order(**change))
    assert (refused.value.code, refused.value.params["what"]) == ("shop_field_invalid", what)
