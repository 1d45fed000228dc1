"""The seller API's backfill route: the token's store only, all or nothing, bad lines listed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import jsonschema
import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import load_settings
from bot.core.models import Order
from bot.seller.api_tokens import ApiTokens
from bot.web.app import create_app
from bot.web.public_files import OPENAPI

STORE = "yangteng-auto"
EXPORT = (Path(__file__).parents[1] / "integrations" / "fixtures" / "shopify" / "orders_export.csv").read_bytes()
ROUTE = yaml.safe_load(OPENAPI.read_text())["paths"]["/api/v1/stores/{store_id}/integrations/{provider}/backfill"]["post"]


@pytest.fixture
async def client(demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(load_settings({"VAR_DIR": str(tmp_path)}), demo_sessions)))
    await client.start_server()
    yield client
    await client.close()


async def test_backfill_through_the_seller_api(client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    auth = {"Authorization": f"Bearer {await ApiTokens(demo_sessions).create(STORE, 'test')}"}

    async def backfill(
        body: bytes, store: str = STORE, provider: str = "shopify", content_type: str = "text/csv"
    ) -> tuple[int, dict]:
        url = f"/api/v1/stores/{store}/integrations/{provider}/backfill"
        response = await client.post(url, data=body, headers={**auth, "Content-Type": content_type})
        return response.status, await response.json()

    async def shopify_orders() -> int:
        async with demo_sessions() as session:
            return await session.scalar(select(func.count()).select_from(Order).where(Order.external_id.is_not(None))) or 0

    bad = EXPORT.replace(b"mei.tanaka@example.com,paid", b",paid")
    status, answer = await backfill(bad)
    assert (status, answer["code"], answer["errors"]) == (
        400,
        "backfill_lines_bad",
        [{"line": 2, "error": "Email is missing", "code": "shop_field_missing"}],
    )
    jsonschema.validate(answer, ROUTE["responses"]["400"]["content"]["application/json"]["schema"])
    # The token's store only; a provider without a backfill; a file that is not one.
    assert (await backfill(EXPORT, store="summit-outdoor"))[0] == 404
    assert (await backfill(EXPORT, provider="aftership"))[1]["code"] == "backfill_provider_unsupported"
    assert (await backfill(EXPORT, content_type="application/pdf"))[0] == 415
    assert await shopify_orders() == 0
    assert await backfill(EXPORT) == (200, {"imported": 3, "format": "csv"})
    assert await shopify_orders() == 3
