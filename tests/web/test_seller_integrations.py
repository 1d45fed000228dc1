"""The store's connectors through the seller API (/api/v1/stores/{store_id}/integrations), on SQLite
and PostgreSQL: the token's store only, keys made or pasted and replaced with a grace period but
never shown again, shops bound to one store, refused deliveries kept for the seller."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import utc_now
from bot.core.config import load_settings
from bot.core.models import Store
from bot.integrations.store_integrations import integration_of, live_keys, signing_keys
from bot.seller.api_tokens import ApiTokens
from bot.web.app import create_app
from tests.web.test_seller_api import conforms

Sessions = async_sessionmaker[AsyncSession]
STORE, OTHER = "yangteng-auto", "bloomkids-baby"
PUBLIC_URL = "https://help.example.com"


@pytest.fixture
async def client(demo_sessions: Sessions, tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = load_settings({"VAR_DIR": str(tmp_path), "PUBLIC_URL": PUBLIC_URL})
    client = TestClient(TestServer(create_app(settings, demo_sessions)))
    await client.start_server()
    yield client
    await client.close()


async def token(sessions: Sessions, store: str = STORE) -> dict[str, str]:
    return {"Authorization": f"Bearer {await ApiTokens(sessions).create(store, 'test')}"}


def url(path: str = "", store: str = STORE) -> str:
    return f"/api/v1/stores/{store}/integrations{path}"


async def keys(sessions: Sessions, provider: str, at: dt.datetime | None = None) -> list[str]:
    async with sessions() as session:
        store = await session.get(Store, STORE)
        assert store is not None
        return await signing_keys(session, store, provider, at or utc_now())


async def test_a_token_reaches_its_own_stores_connectors_only(client: TestClient, demo_sessions: Sessions) -> None:
    other = await token(demo_sessions, OTHER)
    for headers, status, code in (({}, 401, "seller_token_wrong"), (other, 404, "store_unknown")):
        for method, path, body in (
            ("GET", "", None),
            ("POST", "/woocommerce/key", {}),
            ("PUT", "/shopify/key", {"key": "shpss_0123456789abcdef"}),
            ("PUT", "/shopify/shop", {"value": "yangteng.myshopify.com"}),
        ):
            response = await client.request(method, url(path), json=body, headers=headers)
            assert (response.status, (await response.json())["code"]) == (status, code), (method, path)
    async with demo_sessions() as session:
        for provider in ("woocommerce", "shopify"):
            assert await integration_of(session, STORE, provider) is None  # nothing was changed
    # The other store's token does reach its own store.
    assert (await client.get(url(store=OTHER), headers=other)).status == 200


async def test_overview_shows_every_connector_and_never_a_key(client: TestClient, demo_sessions: Sessions) -> None:
    headers = await token(demo_sessions)
    made = await (await client.post(url("/easypost/key"), headers=headers)).json()
    pasted = "shpss_seller_pasted_0123456789"
    assert (await client.put(url("/shopify/key"), json={"key": pasted}, headers=headers)).status == 200

    response = await client.get(url(), headers=headers)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = await response.text()
    assert made["key"] not in text and pasted not in text
    body = json.loads(text)
    for integration in body["integrations"]:
        conforms(integration, "StoreIntegration")
    by_name = {i["provider"]: i for i in body["integrations"]}
    assert list(by_name) == ["shopify", "woocommerce", "aftership", "easypost", "17track", "json"]
    assert by_name["shopify"]["webhook_url"] == f"{PUBLIC_URL}/webhooks/orders/shopify/{STORE}"
    assert by_name["aftership"]["webhook_url"] == f"{PUBLIC_URL}/webhooks/tracking/aftership/{STORE}"
    assert by_name["easypost"]["key"] == {"made_by": "generated", "set": True, "previous_valid_until": None}
    assert by_name["shopify"]["key"] == {"made_by": "pasted", "set": True, "previous_valid_until": None}
    assert by_name["17track"]["key"]["set"] is False
    assert by_name["aftership"]["key"]["made_by"] == "store_webhook"
    assert by_name["shopify"]["shop"] == {"kind": "shop_domain", "value": None}
    assert by_name["woocommerce"]["shop"] == {"kind": "site_url", "value": None}
    assert by_name["easypost"]["shop"] is None


async def test_a_generated_key_is_shown_once_and_signs(client: TestClient, demo_sessions: Sessions) -> None:
    headers = await token(demo_sessions)
    first = await client.post(url("/woocommerce/key"), headers=headers)
    assert first.status == 200 and first.headers["Cache-Control"] == "no-store"
    key = (await first.json())["key"]
    assert (await first.json())["previous_valid_until"] is None
    assert await keys(demo_sessions, "woocommerce") == [key]

    second = await (await client.post(url("/woocommerce/key"), json={"grace_hours": 2}, headers=headers)).json()
    assert second["key"] != key
    until = dt.datetime.fromisoformat(second["previous_valid_until"].replace("Z", "+00:00"))
    assert dt.timedelta(hours=1, minutes=59) < until - utc_now() <= dt.timedelta(hours=2)
    assert await keys(demo_sessions, "woocommerce") == [second["key"], key]
    assert await keys(demo_sessions, "woocommerce", utc_now() + dt.timedelta(hours=3)) == [second["key"]]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/shopify/key", {}, 400, "integration_key_is_pasted"),
        ("POST", "/aftership/key", {}, 400, "integration_uses_webhook_secret"),
        ("PUT", "/json/key", {"key": "0123456789"}, 400, "integration_uses_webhook_secret"),
        ("POST", "/magento/key", {}, 404, "integration_provider_unknown"),
        ("PUT", "/magento/shop", {"value": "x.myshopify.com"}, 404, "integration_provider_unknown"),
        ("POST", "/easypost/key", {"grace_hours": 169}, 400, "grace_hours_invalid"),
        ("PUT", "/shopify/key", {"key": "short"}, 400, "integration_key_invalid"),
        ("PUT", "/shopify/key", {"key": 12345678}, 400, "integration_key_invalid"),
        ("PUT", "/shopify/key", {}, 400, "integration_key_invalid"),
        ("PUT", "/shopify/shop", {"value": "example.com"}, 400, "shop_domain_invalid"),
        ("PUT", "/woocommerce/shop", {"value": "ftp://shop.example"}, 400, "site_url_invalid"),
        ("PUT", "/woocommerce/shop", {}, 400, "integration_shop_value_missing"),
        ("PUT", "/17track/shop", {"value": "x.myshopify.com"}, 400, "integration_has_no_shop"),
    ],
)
async def test_refused_settings_say_why(
    client: TestClient, demo_sessions: Sessions, method: str, path: str, body: Any, status: int, code: str
) -> None:
    response = await client.request(method, url(path), json=body, headers=await token(demo_sessions))
    assert response.status == status
    refusal = await response.json()
    conforms(refusal, "Error")
    assert refusal["code"] == code


async def test_a_replaced_pasted_key_works_until_the_grace_ends(client: TestClient, demo_sessions: Sessions) -> None:
    headers = await token(demo_sessions)
    old, new = "17track-api-key-old-000", "17track-api-key-new-111"
    answer = await client.put(url("/17track/key"), json={"key": f"  {old}\n"}, headers=headers)
    assert await answer.json() == {"previous_valid_until": None}  # never the key back
    replaced = await (await client.put(url("/17track/key"), json={"key": new, "grace_hours": 1}, headers=headers)).json()
    assert set(replaced) == {"previous_valid_until"}
    assert await keys(demo_sessions, "17track") == [new, old]
    assert await keys(demo_sessions, "17track", utc_now() + dt.timedelta(minutes=61)) == [new]
    await client.put(url("/17track/key"), json={"key": "17track-api-key-now-222", "grace_hours": 0}, headers=headers)
    async with demo_sessions() as session:
        assert live_keys(await integration_of(session, STORE, "17track"), utc_now()) == ["17track-api-key-now-222"]


async def test_a_shop_is_bound_to_one_store(client: TestClient, demo_sessions: Sessions) -> None:
    headers, other = await token(demo_sessions), await token(demo_sessions, OTHER)
    bound = await client.put(url("/shopify/shop"), json={"value": "https://YangTeng.myshopify.com/admin"}, headers=headers)
    assert await bound.json() == {"value": "yangteng.myshopify.com"}
    taken = await client.put(url("/shopify/shop", OTHER), json={"value": "yangteng.myshopify.com"}, headers=other)
    assert taken.status == 409
    assert (await taken.json())["code"] == "shop_bound_elsewhere"
    site = await client.put(url("/woocommerce/shop"), json={"value": "https://Shop.Example/store"}, headers=headers)
    assert await site.json() == {"value": "https://shop.example/store/"}
    overview = await (await client.get(url(), headers=headers)).json()
    assert overview["integrations"][0]["shop"]["value"] == "yangteng.myshopify.com"
    # Unbound, the shop is free for the other store.
    assert await (await client.put(url("/shopify/shop"), json={"value": None}, headers=headers)).json() == {"value": None}
    again = await client.put(url("/shopify/shop", OTHER), json={"value": "yangteng.myshopify.com"}, headers=other)
    assert again.status == 200


async def test_a_refused_delivery_is_listed_for_the_seller(client: TestClient, demo_sessions: Sessions) -> None:
    forged = await client.post(
        f"/webhooks/tracking/aftership/{STORE}",
        data=b'{"event": "tracking_update", "msg": {}}',
        headers={"Content-Type": "application/json", "aftership-hmac-sha256": "bm90IGEgc2lnbmF0dXJl"},
    )
    assert forged.status == 401
    overview = await (await client.get(url(), headers=await token(demo_sessions))).json()
    [aftership] = [i for i in overview["integrations"] if i["provider"] == "aftership"]
    [problem] = aftership["recent_problems"]
    assert (problem["status"], problem["code"]) == (401, "webhook_signature_wrong")
    assert "aftership-hmac-sha256" in problem["reason"].lower()
    assert aftership["last_delivery"] is None  # a refused delivery is not a delivery
