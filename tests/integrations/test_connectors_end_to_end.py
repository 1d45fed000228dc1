"""End to end, for every source a store can connect: the provider's webhook goes through the real
gateway, the worker sends the delivery confirmation through the real Rasa server and action server.

For each source, a "delivered" event gives exactly one confirmation with the installation manual,
the same delivery again changes nothing, and an older event after it does not move the parcel
back. Signatures are made here from each provider's published rule, not with the product's code.
Shopify's whole story is here too: an order created, then fulfilled, then its shopper asks "where
is my order #1001?" in the chat and passes the identity check.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import datetime as dt
import hashlib
import hmac
import json
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from bot.chat import replies
from bot.chat.conversations import ConversationService
from bot.core.config import Settings
from bot.core.db import create_engine, create_sessionmaker
from bot.core.models import Order, Shipment, Store, TrackingTag
from bot.integrations.store_integrations import StoreIntegrations
from tests.engine import running_engine

pytestmark = pytest.mark.engine

FIXTURES = Path(__file__).parent / "fixtures"
WEBHOOK_SECRET = "store-webhook-secret-7c1e"
SHOPIFY_KEY = "shpss_0123456789abcdef0123456789abcdef"
SEVENTEEN_TRACK_KEY = "17TRACK-API-KEY-5d2b9e"
SHOP_DOMAIN = "bloomkids-baby.myshopify.com"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- Each provider's published signing rule ---


def _base64_hmac(key: str, body: bytes) -> str:
    """Shopify's X-Shopify-Hmac-Sha256, WooCommerce's X-WC-Webhook-Signature, AfterShip's aftership-hmac-sha256."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def _easypost_signature(key: str, body: bytes) -> str:
    normalised = unicodedata.normalize("NFKD", key).encode()
    return "hmac-sha256-hex=" + hmac.new(normalised, body, hashlib.sha256).hexdigest()


def _seventeen_track_sign(key: str, body: bytes) -> str:
    return hashlib.sha256(body + b"/" + key.encode()).hexdigest()


# --- Bodies, from each provider's published samples (tests/integrations/fixtures/) ---


def _aftership_body(tracking_number: str, tag: str, at: dt.datetime, event_id: str) -> bytes:
    return json.dumps(
        {
            "event": "tracking_update",
            "event_id": event_id,
            "msg": {
                "tracking_number": tracking_number,
                "slug": "usps",
                "tag": tag,
                "checkpoints": [{"checkpoint_time": _iso(at), "tag": tag, "message": tag, "location": "Front door"}],
            },
        }
    ).encode()


def _json_body(tracking_number: str, tag: str, at: dt.datetime, event_id: str) -> bytes:
    return json.dumps(
        {
            "event_id": event_id,
            "tracking_number": tracking_number,
            "status": tag,
            "events": [{"time": _iso(at), "tag": tag, "message": tag, "location": "Front door"}],
        }
    ).encode()


_EASYPOST_STATUS = {TrackingTag.Delivered.value: "delivered", TrackingTag.InTransit.value: "in_transit"}


def _easypost_body(tracking_number: str, tag: str, at: dt.datetime, event_id: str) -> bytes:
    event = json.loads((FIXTURES / "easypost" / "tracker_updated_event.json").read_text())
    status = _EASYPOST_STATUS[tag]
    event["id"] = event_id
    tracker = event["result"]
    tracker["tracking_code"], tracker["status"], tracker["status_detail"] = tracking_number, status, "arrived_at_destination"
    detail = copy.deepcopy(tracker["tracking_details"][-1])
    detail.update(status=status, message=status, datetime=_iso(at), status_detail="arrived_at_destination")
    tracker["tracking_details"] = [detail]
    return json.dumps(event).encode()


def _seventeen_track_body(tracking_number: str, tag: str, at: dt.datetime, event_id: str) -> bytes:
    # 17TRACK sends no event id: the body's own hash is its id, so ``event_id`` only makes the bodies differ.
    event = {
        "time_iso": _iso(at),
        "time_utc": _iso(at),
        "description": f"{tag} {event_id}",
        "location": "BROOKLYN, NY",
        "sub_status": f"{tag}_Other",
    }
    return json.dumps(
        {
            "event": "TRACKING_UPDATED",
            "data": {
                "number": tracking_number,
                "carrier": 21051,
                "tag": None,
                "track_info": {
                    "latest_status": {"status": tag, "sub_status": f"{tag}_Other"},
                    "tracking": {"providers": [{"events": [event]}]},
                },
            },
        }
    ).encode()


#: source -> (webhook path, signature header, how it signs, the body, the key it signs with)
TRACKING_SOURCES: dict[str, tuple[str, str, Any, Any, str]] = {
    "aftership": ("aftership/{store}", "aftership-hmac-sha256", _base64_hmac, _aftership_body, WEBHOOK_SECRET),
    "json": (
        "{store}",
        "X-Signature",
        lambda k, b: "sha256=" + hmac.new(k.encode(), b, hashlib.sha256).hexdigest(),
        _json_body,
        WEBHOOK_SECRET,
    ),
    "easypost": ("easypost/{store}", "X-Hmac-Signature", _easypost_signature, _easypost_body, ""),
    "17track": ("17track/{store}", "sign", _seventeen_track_sign, _seventeen_track_body, SEVENTEEN_TRACK_KEY),
}
#: source -> (store, the shopper, a parcel of theirs on its way in the demo data)
PARCELS = {
    "aftership": ("yangteng-auto", "alex@example.com", "9400111899223100000000"),
    "json": ("yangteng-auto", "jessica.carter@example.org", "784512369138"),
    "easypost": ("bloomkids-baby", "jessica.carter@example.org", "9400111899223103815603"),
    "17track": ("summit-outdoor", "alex@example.com", "9400111899223107742061"),
}


# --- The running assistant ---


class Assistant:
    """The gateway, worker, Rasa and action server over the demo stores, with every connector's key set."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keys: dict[str, str] = {}

    async def db(self, work: Any) -> Any:
        engine = create_engine(self.settings.database_url)
        try:
            return await work(create_sessionmaker(engine))
        finally:
            await engine.dispose()

    async def connect(self) -> None:
        async def work(sessions):  # type: ignore[no-untyped-def]
            async with sessions() as session, session.begin():
                await session.execute(update(Store).values(webhook_secret=WEBHOOK_SECRET))
            integrations = StoreIntegrations(sessions)
            self.keys["easypost"] = (await integrations.replace_key("bloomkids-baby", "easypost")).secret
            self.keys["woocommerce"] = (await integrations.replace_key("summit-outdoor", "woocommerce")).secret
            await integrations.replace_key("summit-outdoor", "17track", pasted=SEVENTEEN_TRACK_KEY)
            await integrations.replace_key("bloomkids-baby", "shopify", pasted=SHOPIFY_KEY)
            await integrations.bind_shop("bloomkids-baby", "shopify", SHOP_DOMAIN)

        await self.db(work)

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http,
            http.post(
                f"{self.settings.gateway_url}{path}", data=body, headers={"Content-Type": "application/json", **headers}
            ) as response,
        ):
            return response.status, await response.json()

    async def track(
        self, source: str, store: str, tracking_number: str, tag: str, at: dt.datetime, event_id: str
    ) -> dict[str, Any]:
        path, header, sign, make_body, key = TRACKING_SOURCES[source]
        body = make_body(tracking_number, tag, at, event_id)
        status, answer = await self.post(
            f"/webhooks/tracking/{path.format(store=store)}", body, {header: sign(key or self.keys[source], body)}
        )
        assert status == 200, answer
        return answer

    async def shipment(self, store: str, tracking_number: str) -> tuple[str, int]:
        async def work(sessions):  # type: ignore[no-untyped-def]
            async with sessions() as session:
                row = (
                    await session.execute(
                        select(Shipment.status, Shipment.id).where(
                            Shipment.store_id == store, Shipment.tracking_number == tracking_number
                        )
                    )
                ).one()
            return tuple(row)

        return await self.db(work)

    async def store_messages(self, store: str, email: str) -> list[tuple[str, Any]]:
        async def work(sessions):  # type: ignore[no-untyped-def]
            service = ConversationService(sessions)
            chat = await service.for_shopper(store, email)
            return [(m.text, m.attachment) for m in await service.messages_after(chat, 0, limit=1000) if m.sender == "store"]

        return await self.db(work)

    async def confirmations(self, store: str, email: str) -> int:
        return sum(1 for text, _ in await self.store_messages(store, email) if text == replies.DELIVERY_CLOSING)

    async def wait_for_confirmations(self, store: str, email: str, expected: int) -> list[tuple[str, Any]]:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and await self.confirmations(store, email) < expected:
            await asyncio.sleep(1)
        await asyncio.sleep(4)  # and nothing more comes
        assert await self.confirmations(store, email) == expected
        return await self.store_messages(store, email)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    with running_engine(tmp_path_factory.mktemp("connectors"), with_gateway=True, with_worker=True) as (_, settings):
        running = Assistant(settings)
        asyncio.run(running.connect())
        yield running


def _has_manual(messages: list[tuple[str, Any]], store: str) -> bool:
    return any(f"https://{store}.example/manuals/" in json.dumps(attachment) for _, attachment in messages if attachment)


@pytest.mark.parametrize("source", list(TRACKING_SOURCES))
async def test_a_delivered_event_from_each_tracking_source_confirms_once_and_never_moves_back(
    assistant: Assistant, source: str
) -> None:
    store, email, tracking_number = PARCELS[source]
    before = await assistant.confirmations(store, email)
    delivered_at = _now()

    assert (await assistant.track(source, store, tracking_number, "Delivered", delivered_at, f"{source}-1"))[
        "result"
    ] == "applied"
    messages = await assistant.wait_for_confirmations(store, email, before + 1)
    assert _has_manual(messages, store)

    # The same delivery again (a provider's retry): nothing happens.
    assert (await assistant.track(source, store, tracking_number, "Delivered", delivered_at, f"{source}-1"))[
        "result"
    ] == "duplicate"
    # An older scan arriving late: kept as history, but the parcel stays delivered.
    late = await assistant.track(
        source, store, tracking_number, "InTransit", delivered_at - dt.timedelta(days=1), f"{source}-0"
    )
    assert late["result"] == "stale"
    assert (await assistant.shipment(store, tracking_number))[0] == TrackingTag.Delivered
    await assistant.wait_for_confirmations(store, email, before + 1)


def _shopify(assistant: Assistant, topic: str, payload: dict[str, Any], webhook_id: str) -> Any:
    body = json.dumps(payload).encode()
    return assistant.post(
        "/webhooks/orders/shopify/bloomkids-baby",
        body,
        {
            "X-Shopify-Hmac-Sha256": _base64_hmac(SHOPIFY_KEY, body),
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": SHOP_DOMAIN,
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-API-Version": "2025-10",
        },
    )


async def test_a_shopify_order_is_created_fulfilled_asked_about_and_delivered(assistant: Assistant) -> None:
    email, created = "nora.lindqvist@example.com", _now() - dt.timedelta(days=6)
    order = json.loads((FIXTURES / "shopify" / "webhook_orders_create.json").read_text())
    order.update(
        email=email,
        created_at=created.isoformat(),
        processed_at=created.isoformat(),
        updated_at=created.isoformat(),
        fulfillments=[],
        fulfillment_status=None,
        cancelled_at=None,
    )
    order["line_items"] = [dict(order["line_items"][0], sku="BK-CR100", name="Convertible car seat", quantity=1)]
    order["shipping_address"].update(zip="40202", country_code="US", name="Nora Lindqvist")
    status, answer = await _shopify(assistant, "orders/create", order, "wh-create-1")
    assert (status, answer["result"], answer["order_number"]) == (200, "applied", "#1001")

    fulfillment = json.loads((FIXTURES / "shopify" / "webhook_fulfillments_update.json").read_text())
    shipped = created + dt.timedelta(days=1)
    fulfillment.update(
        order_id=order["id"],
        tracking_company="USPS",
        tracking_number="9400111899223199990001",
        tracking_numbers=["9400111899223199990001"],
        tracking_urls=["https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223199990001"],
        status="success",
        shipment_status="in_transit",
        updated_at=shipped.isoformat(),
    )
    status, answer = await _shopify(assistant, "fulfillments/create", fulfillment, "wh-fulfil-1")
    assert (status, answer["result"]) == (200, "applied")

    # The shopper asks in the chat, anonymously, and proves the order with the postcode.
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        async with http.post(f"{assistant.settings.gateway_url}/api/v1/stores/bloomkids-baby/conversations", json={}) as r:
            assert r.status == 201
            chat = await r.json()

        async def say(text: str) -> str:
            async with http.post(
                f"{assistant.settings.gateway_url}/api/v1/conversations/{chat['conversation_id']}/messages",
                json={"text": text},
                headers={"Authorization": f"Bearer {chat['token']}"},
            ) as r:
                assert r.status == 200, await r.text()
                return "\n".join(m.get("text") or "" for m in (await r.json())["messages"] if m["sender"] != "shopper")

        assert replies.ASK_ORDER_VERIFICATION in await say("where is my order #1001?")
        answer = await say("40202")
        assert "9400111899223199990001" in answer and "USPS" in answer, answer

    # Delivered, as Shopify reports it: one confirmation with the manual.
    delivered = dict(fulfillment, shipment_status="delivered", updated_at=(shipped + dt.timedelta(days=4)).isoformat())
    assert (await _shopify(assistant, "fulfillments/update", delivered, "wh-fulfil-2"))[1]["result"] == "applied"
    messages = await assistant.wait_for_confirmations("bloomkids-baby", email, 1)
    assert _has_manual(messages, "bloomkids-baby")
    # Shopify's retry of it, then an older update arriving late: nothing moves, nothing is sent.
    assert (await _shopify(assistant, "fulfillments/update", delivered, "wh-fulfil-2"))[1]["result"] == "duplicate"
    assert (await _shopify(assistant, "fulfillments/update", fulfillment, "wh-fulfil-1b"))[0] == 200
    assert (await assistant.shipment("bloomkids-baby", "9400111899223199990001"))[0] == TrackingTag.Delivered
    await assistant.wait_for_confirmations("bloomkids-baby", email, 1)


async def test_a_woocommerce_order_is_tracked_to_its_delivery_and_a_later_update_moves_nothing_back(
    assistant: Assistant,
) -> None:
    email, tracking_number = "diego.alvarez@example.com", "1Z999AA10123456784"
    order = json.loads((FIXTURES / "woocommerce" / "order_updated_with_shipment_tracking.json").read_text())
    modified = _now() - dt.timedelta(days=3)
    order.update(id=5120, number="5120", status="processing", date_modified_gmt=_iso(modified).rstrip("Z"))
    order["billing"].update(email=email)
    order["shipping"].update(first_name="Diego", last_name="Alvarez", postcode="94110", country="US")
    order["line_items"] = [dict(order["line_items"][0], sku="ST-HP220", name="Hiking pole", quantity=1)]
    for meta in order["meta_data"]:
        if meta["key"] == "_wc_shipment_tracking_items":
            meta["value"] = [dict(meta["value"][0], tracking_number=tracking_number, tracking_provider="ups")]

    async def woo(payload: dict[str, Any], delivery_id: str) -> tuple[int, dict[str, Any]]:
        body = json.dumps(payload).encode()
        return await assistant.post(
            "/webhooks/orders/woocommerce/summit-outdoor",
            body,
            {
                "X-WC-Webhook-Signature": _base64_hmac(assistant.keys["woocommerce"], body),
                "X-WC-Webhook-Topic": "order.updated",
                "X-WC-Webhook-Resource": "order",
                "X-WC-Webhook-Event": "updated",
                "X-WC-Webhook-Source": "https://summit-outdoor.example/",
                "X-WC-Webhook-ID": "31",
                "X-WC-Webhook-Delivery-ID": delivery_id,
            },
        )

    status, answer = await woo(order, "d41d8cd98f00b204e9800998ecf8427e")
    assert (status, answer["result"], answer["order_number"]) == (200, "applied", "5120")
    assert (await assistant.shipment("summit-outdoor", tracking_number))[0] == TrackingTag.InfoReceived

    # WooCommerce reports no carrier status; the store's tracking provider does.
    await assistant.track("aftership", "summit-outdoor", tracking_number, "Delivered", _now(), "woo-delivered")
    messages = await assistant.wait_for_confirmations("summit-outdoor", email, 1)
    assert _has_manual(messages, "summit-outdoor")

    # The shop's next update (newer, still with the tracking meta and no status) keeps the parcel delivered.
    later = dict(order, status="completed", date_modified_gmt=_iso(_now()).rstrip("Z"))
    assert (await woo(later, "9e107d9d372bb6826bd81d3542a419d6"))[1]["result"] == "applied"
    assert (await assistant.shipment("summit-outdoor", tracking_number))[0] == TrackingTag.Delivered

    async def order_status(sessions):  # type: ignore[no-untyped-def]
        async with sessions() as session:
            return await session.scalar(
                select(Order.status).where(Order.store_id == "summit-outdoor", Order.order_number == "5120")
            )

    assert await assistant.db(order_status) == "delivered"
    await assistant.wait_for_confirmations("summit-outdoor", email, 1)
