"""The tracking webhooks: AfterShip's format and the simple JSON one."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import jsonschema
import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import load_settings
from bot.core.models import ScheduledJob, Shipment, Store, TrackingWebhookEvent
from bot.shipping.tracking_updates import aftership_signature, simple_signature
from bot.web.app import create_app
from bot.web.public_files import OPENAPI

SPEC = yaml.safe_load(OPENAPI.read_text())
STORE = "yangteng-auto"
#: AfterShip's samples, each with its source: tests/integrations/fixtures/SOURCES-tracking.md.
AFTERSHIP = Path(__file__).parents[1] / "integrations" / "fixtures" / "aftership"
TRACKING_RESULT = SPEC["components"]["responses"]["TrackingResult"]["content"]["application/json"]["schema"]


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
    body = b'{"event_id": "e7", "msg": {"tracking_number": "1", "tag": "Tele-ported!"}}'
    response = await post_aftership(client, body)
    assert response.status == 400
    assert "Tele-ported!" in (await response.json())["error"]
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


# --- AfterShip's dated webhook versions ----------------------------------------------------------

#: tracking_update_2026-07_trimmed.json: AfterShip's 2026-07 webhook sample as trimmed by a third
#: party (hookdeck webhook-skills); not verified against AfterShip's page (SOURCES-tracking.md).
SAMPLE = AFTERSHIP / "tracking_update_2026-07_trimmed.json"


def dated_body(event_id: str, tag: str, subtag: str, when: str, event: str = "tracking_update") -> bytes:
    """The 2026-07 sample, for our demo shipment: its envelope and fields as AfterShip sends them,
    with the renamed ones (field_renames.json) filled in; the values are OURS."""
    body = json.loads(SAMPLE.read_text(encoding="utf-8"))
    body.update(event=event, event_id=event_id, ts=1795816800)
    body["msg"].update(tracking_number=TRACKING, tag=tag, subtag=subtag)
    body["msg"]["latest_estimated_delivery"] = {"type": "specific", "source": "Carrier EDD", "datetime": "2026-11-28"}
    body["msg"]["checkpoints"] = [
        {
            "checkpoint_time": when,
            "message": f"{tag} scan",
            "slug": "usps",
            "tag": tag,
            "subtag": subtag,
            "city": "New York",
            "state": "NY",
            "country_region_name": "United States",
            "country_region": "USA",
            "postal_code": "10027",
        }
    ]
    return json.dumps(body).encode()


async def post_dated(client: TestClient, body: bytes, version: str = "2026-07", signature: str | None = None):  # type: ignore[no-untyped-def]
    headers = {
        "Content-Type": "application/json",
        "as-webhook-version": version,
        # AfterShip's published rule: base64(HMAC-SHA256(webhook secret, raw body)).
        "aftership-hmac-sha256": signature if signature is not None else aftership_signature(SECRET, body),
    }
    return await client.post(f"/webhooks/tracking/aftership/{STORE}", data=body, headers=headers)


async def confirmations(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(func.count()).select_from(ScheduledJob).where(ScheduledJob.kind == "delivery_confirmation")
        )


async def received(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(TrackingWebhookEvent))


async def test_the_signature_vector_over_the_sample_is_accepted(
    client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    # signature_vectors.json: OURS, computed with AfterShip's documented rule over the stored sample's bytes.
    vector = json.loads((AFTERSHIP / "signature_vectors.json").read_text(encoding="utf-8"))
    body = SAMPLE.read_bytes()
    assert aftership_signature(vector["secret"], body) == vector["headers"]["aftership-hmac-sha256"]
    async with demo_sessions() as session, session.begin():
        await session.execute(update(Store).where(Store.id == STORE).values(webhook_secret=vector["secret"]))
    response = await client.post(f"/webhooks/tracking/aftership/{STORE}", data=body, headers=vector["headers"])
    assert response.status == 200
    assert await response.json() == {"result": "unknown_shipment"}  # the sample's number is no parcel of ours


async def test_a_dated_delivery_confirms_once_and_never_goes_back(
    client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    # Delivered_001 and InTransit_007: sub-statuses in tags.json (AfterShip "Delivery Sub-statuses").
    delivered = dated_body("d-1", "Delivered", "Delivered_001", "2026-11-27T16:40:00")
    response = await post_dated(client, delivered)
    assert response.status == 200 and await response.json() == {"result": "applied"}
    conforms(await response.json(), TRACKING_RESULT)
    assert await status(demo_sessions) == "Delivered"
    assert await confirmations(demo_sessions) == 1
    async with demo_sessions() as session:
        shipment = await session.scalar(select(Shipment).where(Shipment.tracking_number == TRACKING))
    assert shipment is not None and str(shipment.estimated_delivery) == "2026-11-28"

    again = await post_dated(client, delivered)
    assert await again.json() == {"result": "duplicate"}
    older = await post_dated(client, dated_body("d-0", "InTransit", "InTransit_007", "2026-11-26T08:00:00"))
    assert await older.json() == {"result": "stale"}
    later_in_transit = await post_dated(client, dated_body("d-2", "InTransit", "InTransit_007", "2026-11-29T08:00:00"))
    assert await later_in_transit.json() == {"result": "stale"}  # delivered is final
    assert await status(demo_sessions) == "Delivered"
    assert await confirmations(demo_sessions) == 1


async def test_a_newer_pending_changes_nothing(client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    response = await post_dated(client, dated_body("p-1", "Pending", "Pending_001", "2026-11-29T08:00:00"))
    assert response.status == 200 and await response.json() == {"result": "no_status"}
    conforms(await response.json(), TRACKING_RESULT)
    assert await status(demo_sessions) == "InTransit"


@pytest.mark.parametrize("event", ["edd_revise", "tracking_pending_time"])
async def test_other_events_are_acknowledged_and_ignored(
    client: TestClient, demo_sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture, event: str
) -> None:
    caplog.set_level(logging.INFO, logger="bot.shipping.tracking_updates")
    body = dated_body("x-1", "Delivered", "Delivered_001", "2026-11-27T16:40:00", event=event)
    response = await post_dated(client, body)
    assert response.status == 202
    answer = await response.json()
    assert answer == {"result": "ignored", "reason": f"not a tracking update: {event}"}
    conforms(answer, TRACKING_RESULT)
    assert await status(demo_sessions) == "InTransit"
    assert await received(demo_sessions) == 0 and await confirmations(demo_sessions) == 0
    assert f"store={STORE}" in caplog.text and event in caplog.text


async def test_dated_bad_input(client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    body = dated_body("b-1", "Delivered", "Delivered_001", "2026-11-27T16:40:00")
    wrong = await post_dated(client, body, signature=aftership_signature("other-secret", body))
    assert wrong.status == 401 and (await wrong.json())["code"] == "webhook_signature_wrong"
    assert await received(demo_sessions) == 0 and await status(demo_sessions) == "InTransit"
    version = await post_dated(client, body, version="latest")
    assert version.status == 400 and (await version.json())["code"] == "aftership_version_invalid"
    no_event = json.loads(body)
    del no_event["event"]
    response = await post_dated(client, json.dumps(no_event).encode())
    assert response.status == 400 and (await response.json())["code"] == "update_event_invalid"
    bad_ts = json.loads(body) | {"ts": "tomorrow"}
    response = await post_dated(client, json.dumps(bad_ts).encode())
    assert response.status == 400 and (await response.json())["code"] == "update_time_invalid"
    unknown = await client.post(
        "/webhooks/tracking/aftership/no-such-store",
        data=body,
        headers={"as-webhook-version": "2026-07", "aftership-hmac-sha256": aftership_signature(SECRET, body)},
    )
    assert unknown.status == 404
    huge = body[:-1] + b', "padding": "' + b"x" * (1024 * 1024) + b'"}'
    oversized = await post_dated(client, huge)
    assert oversized.status == 413 and (await oversized.json())["code"] == "http_body_too_large"
    assert await received(demo_sessions) == 0 and await status(demo_sessions) == "InTransit"


async def test_simple_json_never_goes_back(client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    def body(event_id: str, status: str, when: str) -> bytes:
        event = {"time": when, "tag": status, "message": f"{status} scan"}
        return json.dumps({"event_id": event_id, "tracking_number": TRACKING, "status": status, "events": [event]}).encode()

    async def post(data: bytes) -> str:
        response = await client.post(
            f"/webhooks/tracking/{STORE}", data=data, headers={"X-Signature": simple_signature(SECRET, data)}
        )
        assert response.status == 200
        return (await response.json())["result"]

    assert await post(body("j1", "Delivered", "2026-11-27T21:40:00Z")) == "applied"
    assert await post(body("j2", "OutForDelivery", "2026-11-27T13:05:00Z")) == "stale"
    assert await post(body("j3", "Pending", "2026-11-29T08:00:00Z")) == "no_status"
    assert await status(demo_sessions) == "Delivered"
    assert await confirmations(demo_sessions) == 1
