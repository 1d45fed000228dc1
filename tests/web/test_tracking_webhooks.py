"""The tracking webhooks: AfterShip's format and the simple JSON one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import jsonschema
import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import load_settings
from bot.core.models import Shipment, Store
from bot.shipping.tracking_updates import aftership_signature, simple_signature
from bot.web.app import create_app
from bot.web.public_files import OPENAPI

SPEC = yaml.safe_load(OPENAPI.read_text())
STORE = "yangteng-auto"


def conforms(body: object, schema: dict) -> None:
    jsonschema.validate(body, schema)


SECRET = "whsec-test-3f9a"
TRACKING = "9400111899223100000000"


@pytest.fixture
async def client(demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> AsyncIterator[TestClient]:
    async with demo_sessions() as session, session.begin():
        await session.execute(update(Store).where(Store.id == STORE).values(webhook_secret=SECRET))
    client = TestClient(TestServer(create_app(load_settings({"VAR_DIR": str(tmp_path)}), demo_sessions)))
    await client.start_server()
    yield client
    await client.close()


def aftership_body(event_id: str, tag: str, when: str, message: str) -> bytes:
    return json.dumps(
        {
            "event": "tracking_update",
            "event_id": event_id,
            "msg": {
                "tracking_number": TRACKING,
                "slug": "usps",
                "tag": tag,
                "checkpoints": [{"checkpoint_time": when, "tag": tag, "message": message, "location": "New York, NY"}],
            },
        }
    ).encode()


async def post_aftership(client: TestClient, body: bytes, signature: str | None = None, store: str = STORE):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json"}
    headers["aftership-hmac-sha256"] = signature if signature is not None else aftership_signature(SECRET, body)
    return await client.post(f"/webhooks/tracking/aftership/{store}", data=body, headers=headers)


async def status(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with sessions() as session:
        return await session.scalar(
            select(Shipment.status).where(Shipment.tracking_number == TRACKING, Shipment.store_id == STORE)
        )


async def test_signed_update_is_applied(client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    response = await post_aftership(client, aftership_body("e1", "Delivered", "2026-11-27T21:40:00Z", "Delivered"))
    assert response.status == 200
    assert await response.json() == {"result": "applied"}
    conforms(
        await response.json(), SPEC["components"]["responses"]["TrackingResult"]["content"]["application/json"]["schema"]
    )
    assert await status(demo_sessions) == "Delivered"


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSBzaWduYXR1cmU=", aftership_signature("other-secret", b"{}")])
async def test_bad_or_missing_signature_is_401_and_changes_nothing(
    client: TestClient, demo_sessions: async_sessionmaker[AsyncSession], signature: str
) -> None:
    body = aftership_body("e2", "Delivered", "2026-11-27T21:40:00Z", "Delivered")
    response = await post_aftership(client, body, signature=signature)
    assert response.status == 401
    assert await status(demo_sessions) == "InTransit"
    unsigned = await client.post(f"/webhooks/tracking/aftership/{STORE}", data=body)
    assert unsigned.status == 401


async def test_a_signature_over_other_bytes_is_refused(client: TestClient) -> None:
    body = aftership_body("e3", "Delivered", "2026-11-27T21:40:00Z", "Delivered")
    tampered = body.replace(b"Delivered", b"Exception")
    response = await post_aftership(client, tampered, signature=aftership_signature(SECRET, body))
    assert response.status == 401


async def test_a_store_without_a_secret_refuses_webhooks(client: TestClient) -> None:
    body = aftership_body("e4", "Delivered", "2026-11-27T21:40:00Z", "Delivered")
    response = await post_aftership(client, body, store="bloomkids-baby")
    assert response.status == 401
    unknown = await post_aftership(client, body, store="no-such-store")
    assert unknown.status == 404


async def test_repeats_and_out_of_order_events(client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    delivered = aftership_body("e5", "Delivered", "2026-11-27T21:40:00Z", "Delivered")
    earlier = aftership_body("e6", "OutForDelivery", "2026-11-27T13:05:00Z", "Out for delivery")
    assert (await (await post_aftership(client, delivered)).json())["result"] == "applied"
    assert (await (await post_aftership(client, delivered)).json())["result"] == "duplicate"
    assert (await (await post_aftership(client, earlier)).json())["result"] == "stale"
    assert await status(demo_sessions) == "Delivered"


async def test_malformed_update_gets_a_clear_400(client: TestClient) -> None:
    body = b'{"event_id": "e7", "msg": {"tracking_number": "1", "tag": "Teleported"}}'
    response = await post_aftership(client, body)
    assert response.status == 400
    assert "Teleported" in (await response.json())["error"]
    garbage = b"\xff not json"
    response = await post_aftership(client, garbage)
    assert response.status == 400


async def test_simple_json_webhook(client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    body = json.dumps(
        {
            "event_id": "s1",
            "tracking_number": TRACKING,
            "status": "OutForDelivery",
            "events": [
                {
                    "time": "2026-11-27T13:05:00Z",
                    "location": "New York, NY",
                    "tag": "OutForDelivery",
                    "message": "Out for delivery",
                }
            ],
        }
    ).encode()
    wrong = await client.post(f"/webhooks/tracking/{STORE}", data=body, headers={"X-Signature": "sha256=00"})
    assert wrong.status == 401
    response = await client.post(
        f"/webhooks/tracking/{STORE}", data=body, headers={"X-Signature": simple_signature(SECRET, body)}
    )
    assert response.status == 200 and (await response.json())["result"] == "applied"
    assert await status(demo_sessions) == "OutForDelivery"
    again = await client.post(
        f"/webhooks/tracking/{STORE}", data=body, headers={"X-Signature": simple_signature(SECRET, body)}
    )
    assert (await again.json())["result"] == "duplicate"
