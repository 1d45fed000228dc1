"""WooCommerce: its signed order webhooks read and applied once, its ping, and its REST orders for
a backfill. The bodies are WooCommerce's own documented order (fixtures/SOURCES.md), encoded as
WordPress sends them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.core.config import load_settings
from bot.core.models import IntegrationDelivery, Order
from bot.integrations import woocommerce
from bot.integrations.shop_orders import BadShopData, DeliveryRefused, ShopDelivery, ShopOrder
from bot.integrations.store_integrations import StoreIntegrations
from bot.web.app import create_app

FIXTURES = Path(__file__).parent / "fixtures" / "woocommerce"
VECTORS = json.loads((FIXTURES / "signature_vectors.json").read_text(encoding="utf-8"))["vectors"]
#: Ours, invented (signature_vectors.json): WooCommerce publishes no test vector.
SECRET = VECTORS[0]["secret"]
STORE = "summit-outdoor"
SITE = "https://example.com/"
CREATED, UPDATED, TRACKED = (
    FIXTURES / f"{name}.body" for name in ("order_created", "order_updated", "order_updated_with_shipment_tracking")
)


def body_of(path: Path) -> bytes:
    return path.read_bytes()


def order_json(**changes: Any) -> dict[str, Any]:
    order = json.loads((FIXTURES / "order_updated_with_shipment_tracking.json").read_text(encoding="utf-8"))
    order.update(changes)
    return order


def headers(
    body: bytes, topic: str = "order.updated", delivery: str = "d-1", secret: str = SECRET, **more: str
) -> dict[str, str]:
    """What WC_Webhook::deliver sends (SOURCES.md quotes it)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)",
        "X-WC-Webhook-Source": SITE,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": topic.split(".")[0],
        "X-WC-Webhook-Event": topic.rpartition(".")[2],
        "X-WC-Webhook-Signature": woocommerce.signature(secret, body),
        "X-WC-Webhook-ID": "42",
        "X-WC-Webhook-Delivery-ID": delivery,
        **more,
    }


def read(body: bytes, shop: str | None = None, **header_changes: str) -> ShopDelivery:
    """The delivery as read; a header changed to "-" is left out."""
    given = {k: v for k, v in {**headers(body), **header_changes}.items() if v != "-"}
    return woocommerce.read_delivery(given, body, [SECRET], shop)


# --- Reading a delivery --------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["raw_body_file"])
def test_signature_vectors(vector: dict[str, str]) -> None:
    body = (FIXTURES / vector["raw_body_file"]).read_bytes()
    assert woocommerce.signature(vector["secret"], body) == vector["x_wc_webhook_signature"]
    signed = {
        "X-WC-Webhook-Signature": vector["x_wc_webhook_signature"],
        "X-WC-Webhook-Topic": vector["topic"],
        "X-WC-Webhook-Delivery-ID": "d",
    }
    # Every live key is tried: the right one second still passes.
    assert woocommerce.read_delivery(signed, body, ["previous-key", vector["secret"]], None).order is not None
    with pytest.raises(DeliveryRefused) as refused:
        woocommerce.read_delivery(signed, body + b" ", [vector["secret"]], None)
    assert refused.value.status == 401


@pytest.mark.parametrize(
    ("body", "status", "updated_at", "shipments"),
    [
        (CREATED, "processing", "2017-03-22 19:28:08+00:00", []),
        (UPDATED, "shipped", "2017-03-22 19:30:35+00:00", []),
        (
            TRACKED,
            "shipped",
            "2017-03-22 19:30:35+00:00",
            [
                ("1Z999AA10123456784", "ups", None, "2017-03-22 00:00:00+00:00"),
                (
                    "EX123456789GB",
                    "Example Courier",
                    "https://courier.example.com/track?n=EX123456789GB",
                    "2017-03-23 00:00:00+00:00",
                ),
            ],
        ),
    ],
    ids=["created", "updated", "with_tracking"],
)
def test_the_documented_order_is_mapped(body: Path, status: str, updated_at: str, shipments: list[tuple[Any, ...]]) -> None:
    order = read(body_of(body)).order
    assert order is not None
    assert (order.external_id, order.order_number, order.shopper_name, order.shopper_email) == (
        "woocommerce:727",
        "727",
        "John Doe",
        "john.doe@example.com",
    )
    assert (order.shipping_postcode, order.shipping_country, str(order.placed_at)) == (
        "94103",
        "US",
        "2017-03-22 19:28:02+00:00",
    )
    assert (order.status, str(order.updated_at)) == (status, updated_at)
    # No SKU on the first line: its product names it; "&ndash;" is unescaped.
    assert [(i.sku, i.name, i.quantity) for i in order.items] == [
        ("product:93", "Woo Single #1", 2),
        ("Bar3", "Ship Your Idea \u2013 Color: Black, Size: M Test", 1),
    ]
    assert [(s.tracking_number, s.carrier, s.tracking_url, str(s.tag_at)) for s in order.shipments or []] == shipments
    assert all(s.tag is None for s in order.shipments or [])


def test_the_ping_is_answered_and_nothing_else_unsigned() -> None:
    ping = woocommerce.read_delivery({"User-Agent": "WooCommerce/9.4.0 Hookshot"}, body_of(FIXTURES / "ping.body"), [], None)
    assert ping.ping
    for unsigned in (b"webhook_id=42&x=1", body_of(CREATED), b""):
        with pytest.raises(DeliveryRefused) as refused:
            woocommerce.read_delivery({}, unsigned, [SECRET], None)
        assert refused.value.status == 401


@pytest.mark.parametrize(
    ("changes", "shop", "status"),
    [
        ({"X-WC-Webhook-Topic": "-"}, None, 400),
        ({"X-WC-Webhook-Delivery-ID": "-"}, None, 400),
        # A byte that is not UTF-8, as aiohttp hands it over.
        ({"X-WC-Webhook-Topic": "order.\udcff"}, None, 400),
        ({"X-WC-Webhook-Delivery-ID": "d\udcff"}, None, 400),
        ({"X-WC-Webhook-Source": "https://other.example/"}, SITE, 404),
        ({"X-WC-Webhook-Source": "not a url"}, SITE, 404),
        ({"X-WC-Webhook-Source": "-"}, SITE, 400),
    ],
)
def test_refused_headers(changes: dict[str, str], shop: str | None, status: int) -> None:
    with pytest.raises(DeliveryRefused) as refused:
        read(body_of(UPDATED), shop, **changes)
    assert refused.value.status == status


def test_the_delivery_id_is_woocommerces_with_the_bodys_hash() -> None:
    # WooCommerce's id is to the second: two deliveries within one second share it.
    first, second, again = read(body_of(CREATED)), read(body_of(UPDATED)), read(body_of(CREATED))
    assert first.delivery_id.startswith("d-1:") and first.delivery_id != second.delivery_id
    assert first.delivery_id == again.delivery_id
    # The site's address is compared as normalised: the bound one is.
    assert read(body_of(CREATED), SITE, **{"X-WC-Webhook-Source": "https://EXAMPLE.com"}).order is not None
    assert read(body_of(CREATED), None, **{"X-WC-Webhook-Source": "https://anything.example/"}).order is not None


def _tracking(value: Any) -> list[dict[str, Any]]:
    return [{"id": 1, "key": "_wc_shipment_tracking_items", "value": value}]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # A refund is not a return: after completion the order stays shipped, before it nothing ships.
        ({"status": "refunded", "meta_data": []}, {"status": "shipped"}),
        ({"status": "refunded", "meta_data": [], "date_completed_gmt": None}, {"status": "cancelled"}),
        ({"status": "failed"}, {"status": "cancelled"}),
        ({"status": "on-hold"}, {"status": "processing"}),
        ({"status": "a-plugins-own"}, {"status": "processing"}),
        # A virtual order: no shipping address, the billing one stands in.
        (
            {"shipping": [], "billing": {**order_json()["billing"], "postcode": "SW1A 1AA", "country": "gb"}},
            {"shipping_postcode": "SW1A 1AA", "shipping_country": "GB"},
        ),
        ({"meta_data": _tracking("1Z999AA10123456784")}, {"shipments": []}),
        ({"meta_data": "yes"}, {"shipments": []}),
        (
            {
                "meta_data": _tracking(
                    [
                        {"tracking_number": " "},
                        "x",
                        {"tracking_number": "N1", "custom_tracking_link": "javascript:alert(1)", "date_shipped": "soon"},
                    ]
                )
            },
            {"shipments": [("N1", "", None, None)]},
        ),
    ],
)
def test_mapping_rules(changes: dict[str, Any], expected: dict[str, Any]) -> None:
    order = woocommerce.order_from_rest(order_json(**changes))
    for field, value in expected.items():
        got = getattr(order, field)
        if field == "shipments":
            got = [(s.tracking_number, s.carrier, s.tracking_url, s.tag_at) for s in got]
        assert got == value


@pytest.mark.parametrize(
    ("changes", "english"),
    [
        ({"billing": {**order_json()["billing"], "email": ""}}, "billing.email is missing"),
        ({"shipping": {**order_json()["shipping"], "postcode": None}}, "shipping.postcode is missing"),
        ({"shipping": {**order_json()["shipping"], "country": "USA"}}, "shipping.country is not usable: 'USA'"),
        ({"number": "9" * 65}, "number is not usable"),
        ({"date_created_gmt": "yesterday"}, "date_created_gmt is not usable: 'yesterday'"),
        ({"line_items": {"sku": "x"}}, "line_items is not usable"),
        ({"line_items": [{"name": "x", "quantity": "2", "sku": "A"}]}, "line_items[0].quantity is not usable: '2'"),
        ({"id": None, "order": {"id": 727}}, "the webhook's API version is not usable: 'Legacy API v3'"),
    ],
)
def test_unusable_orders_are_refused_with_the_field(changes: dict[str, Any], english: str) -> None:
    order = order_json(**changes)
    if order["id"] is None:  # the legacy payload has no top-level id
        del order["id"]
    with pytest.raises(BadShopData) as refused:
        woocommerce.order_from_rest(order)
    assert refused.value.english.startswith(english)


# --- Backfill: the REST API's output -------------------------------------------------------------


def test_backfill_reads_pages_with_their_lines() -> None:
    page = json.dumps([order_json(id=1, number="1"), order_json(id=2, number="2")], indent=2)
    # indent=2: the page's orders open on lines of their own, "  {".
    second_line = 2 + page[: page.index("\n  {", page.index("\n  {") + 1)].count("\n")
    lines = [
        json.dumps([order_json(id=3, number="3")]),
        json.dumps(order_json(id=4, number="4")),
        "[]",
        json.dumps([order_json(id=5, number="5", status="checkout-draft"), order_json(id=6, number="6")]),
    ]
    read_back = list(woocommerce.backfill_orders(b"\xef\xbb\xbf" + page.encode() + b"\n" + "\n".join(lines).encode()))
    shift = page.count("\n") + 1
    assert [(line, o.order_number) for line, o in read_back if isinstance(o, ShopOrder)] == [
        (2, "1"),
        (second_line, "2"),
        (shift + 1, "3"),
        (shift + 2, "4"),
        (shift + 4, "6"),  # the checkout draft before it is no order
    ]
    assert not [o for _, o in read_back if isinstance(o, BadShopData)]


def test_backfill_reports_bad_lines() -> None:
    no_email = order_json(id=8, number="8", billing={"email": "", "postcode": "1", "country": "US"})
    text = "\n".join([json.dumps([order_json(id=7, number="7")]), json.dumps([no_email, 5]), '[{"id": 9,'])
    read_back = [
        (line, o.english if isinstance(o, BadShopData) else o.order_number)
        for line, o in woocommerce.backfill_orders(text.encode())
    ]
    assert read_back == [
        (1, "7"),
        (2, "billing.email is missing"),
        (2, "order is not usable: '5'"),
        (3, "the body is not valid JSON"),
    ]
    # A file that is not UTF-8 is read no further than its first bad byte.
    assert [line for line, _ in woocommerce.backfill_orders(b"[1]\n\n\xff")] == [3]


# --- Through the gateway -------------------------------------------------------------------------


@pytest.fixture
async def client(demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> AsyncIterator[TestClient]:
    await StoreIntegrations(demo_sessions).replace_key(STORE, "woocommerce", pasted=SECRET)
    client = TestClient(TestServer(create_app(load_settings({"VAR_DIR": str(tmp_path)}), demo_sessions)))
    await client.start_server()
    yield client
    await client.close()


async def post(client: TestClient, body: bytes, store: str = STORE, **header_args: Any) -> tuple[int, dict[str, Any]]:
    response = await client.post(f"/webhooks/orders/woocommerce/{store}", data=body, headers=headers(body, **header_args))
    return response.status, await response.json()


async def order_727(sessions: async_sessionmaker[AsyncSession]) -> Order | None:
    async with sessions() as session:
        return await session.scalar(
            select(Order)
            .where(Order.store_id == STORE, Order.external_id == "woocommerce:727")
            .options(selectinload(Order.items), selectinload(Order.shipments))
        )


async def deliveries(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(IntegrationDelivery.outcome).order_by(IntegrationDelivery.id)))


async def test_deliveries_apply_once_and_never_go_back(
    client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert await post(client, body_of(CREATED), topic="order.created") == (200, {"result": "applied", "order_number": "727"})
    assert (await post(client, body_of(CREATED), topic="order.created"))[1]["result"] == "duplicate"
    # The same Delivery-ID, another body: a second delivery in the same second, applied.
    assert (await post(client, body_of(TRACKED)))[1]["result"] == "applied"
    order = await order_727(demo_sessions)
    assert order is not None and order.status == "shipped" and len(order.items) == 2
    assert sorted((s.tracking_number, s.status) for s in order.shipments) == [
        ("1Z999AA10123456784", "InfoReceived"),
        ("EX123456789GB", "InfoReceived"),
    ]
    # The creation delivered late (Action Scheduler runs them out of order): older, stale.
    assert await post(client, body_of(CREATED), topic="order.created", delivery="d-0") == (
        200,
        {"result": "stale", "order_number": "727"},
    )
    order = await order_727(demo_sessions)
    assert order is not None and order.status == "shipped" and len(order.shipments) == 2
    assert await deliveries(demo_sessions) == ["applied", "applied", "stale"]


async def test_what_is_refused_or_ignored_stores_no_order(
    client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = body_of(UPDATED)
    ping = await client.post(f"/webhooks/orders/woocommerce/{STORE}", data=body_of(FIXTURES / "ping.body"))
    assert ping.status == 200
    assert await post(client, body, secret="not-the-key") == (
        401,
        {
            "error": "missing or wrong X-WC-Webhook-Signature signature",
            "code": "webhook_signature_wrong",
            "params": {"header": "X-WC-Webhook-Signature"},
        },
    )
    assert (await post(client, body, store="no-such-store"))[0] == 404
    status, answer = await post(client, body, topic="product.updated")
    assert (status, answer["result"]) == (202, "ignored") and "product.updated" in answer["reason"]
    no_email = json.dumps(order_json(billing={**order_json()["billing"], "email": None})).encode()
    status, answer = await post(client, no_email, delivery="d-9")
    assert (status, answer["result"], answer["reason"]) == (202, "refused", "billing.email is missing")
    # Bound to the site: a delivery from another site is refused, as if the store were unknown.
    await StoreIntegrations(demo_sessions).bind_shop(STORE, "woocommerce", "https://shop.example")
    assert (await post(client, body))[0] == 404
    assert await order_727(demo_sessions) is None
    assert await deliveries(demo_sessions) == ["ignored"]
    status, answer = await post(client, body, delivery="d-2", **{"X-WC-Webhook-Source": "https://shop.example/"})
    assert (status, answer["result"]) == (200, "applied")


def _deep(depth: int) -> bytes:
    return b'{"id": 727, "meta_data": ' + b"[" * depth + b"]" * depth + b"}"


#: Signed bodies WooCommerce would never send, each with its answer: never a 5xx, whatever the database.
MALFORMED = {
    "truncated": (body_of(UPDATED)[:-40], 400),
    "array": (b"[" + body_of(UPDATED) + b"]", 400),
    "deep": (_deep(5000), 400),
    "not_utf8": (b"\xff\xfe not json", 400),
    "infinite": (b'{"id": 1e999}', 400),
    "huge_number": (b'{"id": 9223372036854775808}', 400),
    "items_not_objects": (json.dumps(order_json(line_items=[None, 3])).encode(), 202),
    "sku_a_list": (json.dumps(order_json(line_items=[{"sku": ["A"], "quantity": 1}])).encode(), 202),
    "tracking_types": (
        json.dumps(order_json(meta_data=_tracking([{"tracking_number": 12, "date_shipped": "9" * 30}, None]))).encode(),
        200,
    ),
    "date_overflow": (json.dumps(order_json(date_modified_gmt="9999-12-31T23:59:59-01:00")).encode(), 202),
    "nul": (json.dumps(order_json(number="#\u0000727")).encode(), 202),
    "too_long": (json.dumps(order_json(shipping={"country": "US", "postcode": "9" * 40})).encode(), 202),
}


async def test_malformed_bodies_never_give_a_5xx(client: TestClient) -> None:
    answers = {name: (await post(client, body, delivery=name))[0] for name, (body, _) in MALFORMED.items()}
    assert answers == {name: status for name, (_, status) in MALFORMED.items()}
