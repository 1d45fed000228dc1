"""Shopify's order webhooks through the gateway: applied once, signed, bound to one shop, refused cleanly."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import utc_now
from bot.core.config import load_settings
from bot.core.models import IntegrationDelivery, Order, StoreIntegration
from bot.integrations.shopify import sign
from bot.integrations.store_integrations import StoreIntegrations
from bot.web.app import create_app

STORE, OTHER_STORE, UNBOUND_STORE = "yangteng-auto", "summit-outdoor", "bloomkids-baby"
SHOP, OTHER_SHOP = "yangteng.myshopify.com", "summit.myshopify.com"
KEY, OTHER_KEY = "shpss_first_key_0001", "shpss_other_key_0002"
#: Shopify's order sample (tests/integrations/fixtures/SOURCES.md).
BODY = (Path(__file__).parents[1] / "integrations" / "fixtures" / "shopify" / "webhook_orders_create.json").read_bytes()


@pytest.fixture
async def client(demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> AsyncIterator[TestClient]:
    integrations = StoreIntegrations(demo_sessions)
    for store, shop, key in ((STORE, SHOP, KEY), (OTHER_STORE, OTHER_SHOP, OTHER_KEY)):
        await integrations.replace_key(store, "shopify", pasted=key)
        await integrations.bind_shop(store, "shopify", shop)
    # A key, but no shop yet: every delivery is refused until the seller names the shop.
    await integrations.replace_key(UNBOUND_STORE, "shopify", pasted=KEY)
    client = TestClient(TestServer(create_app(load_settings({"VAR_DIR": str(tmp_path)}), demo_sessions)))
    await client.start_server()
    yield client
    await client.close()


def shopify_headers(
    body: bytes, key: str = KEY, topic: str = "orders/create", webhook_id: str = "wh-1", shop: str = SHOP
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": sign(key, body),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-API-Version": "2025-10",
    }


async def post(client: TestClient, body: bytes, headers: dict[str, str], store: str = STORE) -> tuple[int, Any]:
    response = await client.post(f"/webhooks/orders/shopify/{store}", data=body, headers=headers)
    return response.status, await response.json()


async def stored(sessions: async_sessionmaker[AsyncSession]) -> tuple[list[tuple[str, str]], int]:
    """The Shopify orders of every store (store, email), and how many deliveries were recorded."""
    async with sessions() as session:
        orders = (
            await session.execute(select(Order.store_id, Order.shopper_email).where(Order.external_id.is_not(None)))
        ).all()
        deliveries = await session.scalar(select(func.count()).select_from(IntegrationDelivery))
        return [tuple(o) for o in orders], deliveries or 0  # type: ignore[misc]


async def test_applied_once_per_webhook_id(client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await post(client, BODY, shopify_headers(BODY)) == (200, {"result": "applied", "order_number": "#1001"})
    # A retry carries the same id: nothing changes, even if the body differs.
    changed = json.dumps(
        {**json.loads(BODY), "email": "someone@else.example", "updated_at": "2009-01-01T00:00:00Z"}
    ).encode()
    assert await post(client, changed, shopify_headers(changed, topic="orders/updated")) == (
        200,
        {"result": "duplicate", "order_number": None},
    )
    assert await stored(demo_sessions) == ([(STORE, "bob.norman@hostmail.com")], 1)


async def test_the_previous_key_works_in_its_grace_period_only(
    client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await StoreIntegrations(demo_sessions).replace_key(
        STORE, "shopify", pasted="shpss_new_key_0003", grace=dt.timedelta(hours=1)
    )
    assert (await post(client, BODY, shopify_headers(BODY)))[0] == 200
    async with demo_sessions() as session, session.begin():
        await session.execute(
            update(StoreIntegration)
            .where(StoreIntegration.store_id == STORE)
            .values(secret_previous_until=utc_now() - dt.timedelta(seconds=1))
        )
    assert (await post(client, BODY, shopify_headers(BODY, webhook_id="wh-2")))[0] == 401
    assert (await post(client, BODY, shopify_headers(BODY, key="shpss_new_key_0003", webhook_id="wh-3")))[0] == 200


def _without(header: str) -> Any:
    return lambda body: ({k: v for k, v in shopify_headers(body).items() if k != header}, body, STORE)


@pytest.mark.parametrize(
    ("request_", "status", "code"),
    [
        (
            lambda body: ({**shopify_headers(body), "X-Shopify-Hmac-Sha256": sign("not-the-key", body)}, body, STORE),
            401,
            "webhook_signature_wrong",
        ),
        (_without("X-Shopify-Hmac-Sha256"), 401, "webhook_signature_wrong"),
        (_without("X-Shopify-Topic"), 400, "webhook_header_missing"),
        (lambda body: (shopify_headers(b"{not json"), b"{not json", STORE), 400, "body_not_json"),
        (lambda body: (shopify_headers(body), body, "no-such-store"), 404, "store_unknown"),
        # Another store's shop, well signed with this store's key: never attached to either store.
        (lambda body: (shopify_headers(body, shop=OTHER_SHOP), body, STORE), 404, "shop_domain_unknown"),
        (lambda body: (shopify_headers(body), body, UNBOUND_STORE), 404, "shop_domain_unknown"),
    ],
    ids=[
        "wrong-signature",
        "no-signature",
        "no-topic",
        "not-json",
        "unknown-store",
        "other-shop",
        "unbound",
    ],
)
async def test_refused_deliveries_store_nothing(
    client: TestClient, demo_sessions: async_sessionmaker[AsyncSession], request_: Any, status: int, code: str
) -> None:
    headers, body, store = request_(BODY)
    answer = await post(client, body, headers, store)
    assert (answer[0], answer[1]["code"]) == (status, code)
    assert await stored(demo_sessions) == ([], 0)


async def test_a_body_over_the_limit_is_413(client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    body = b'{"note": "' + b"x" * (1024 * 1024) + b'"}'
    status, answer = await post(client, body, shopify_headers(body))
    assert status == 413 and "code" in answer
    assert await stored(demo_sessions) == ([], 0)


@pytest.mark.parametrize(
    ("body", "topic", "result", "code"),
    [
        (b'{"id": 1}', "products/create", "ignored", "ignored"),
        # Shopify withheld the customer's data: acknowledged (no retries for hours), shown to the seller, nothing stored.
        (
            json.dumps({**json.loads(BODY), "email": None, "contact_email": None, "customer": None}).encode(),
            "orders/create",
            "refused",
            # The refusal's own code: the console words it in the seller's language.
            "shop_field_missing",
        ),
    ],
)
async def test_signed_but_not_acted_on_is_202_and_shown_to_the_seller(
    client: TestClient, demo_sessions: async_sessionmaker[AsyncSession], body: bytes, topic: str, result: str, code: str
) -> None:
    status, answer = await post(client, body, shopify_headers(body, topic=topic))
    assert (status, answer["result"]) == (202, result) and answer["reason"]
    assert (await stored(demo_sessions))[0] == []
    (connector,) = [
        c for c in await StoreIntegrations(demo_sessions).overview(STORE, "https://x.example") if c["provider"] == "shopify"
    ]
    assert [(p["status"], p["code"], p["reason"]) for p in connector["recent_problems"]] == [(202, code, answer["reason"])]
