"""EasyPost: the signature (with EasyPost's own test vector), the status table, the Tracker mapping,
and the webhook through the gateway. Fixtures and their sources: fixtures/SOURCES-tracking.md."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import unicodedata
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import Shipment, StoreIntegration
from bot.integrations.easypost import easypost_signature, parse_easypost
from bot.integrations.store_integrations import StoreIntegrations
from bot.shipping.tracking_updates import IgnoredEvent, TrackingUpdate
from tests.integrations.parcel_state import parcel_state

FIXTURES = Path(__file__).parent / "fixtures" / "easypost"
VECTORS = json.loads((FIXTURES / "signature_vectors.json").read_text(encoding="utf-8"))["vectors"]
STORE = "yangteng-auto"
TRACKING = "9400111899223100000000"  # Alex's parcel in the demo store, InTransit


def vector_body(vector: dict) -> bytes:
    # The stored fixture ends with a newline that EasyPost did not sign (SOURCES-tracking.md).
    return (FIXTURES / vector["body_file"]).read_bytes().rstrip(b"\n")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_signature_vectors(vector: dict) -> None:
    assert easypost_signature(vector["secret"], vector_body(vector)) == vector["expected"]


def test_the_secret_is_normalised_to_nfkd() -> None:
    official = VECTORS[0]
    body = vector_body(official)
    composed = unicodedata.normalize("NFC", official["secret"])
    without_nfkd = "hmac-sha256-hex=" + hmac.new(composed.encode(), body, hashlib.sha256).hexdigest()
    assert without_nfkd == official["without_nfkd_would_be"] != official["expected"]
    # Typed composed or decomposed, the seller's secret signs the same.
    assert easypost_signature(composed, body) == easypost_signature(unicodedata.normalize("NFD", composed), body)


EXPECTED = {
    "unknown": None,
    "pre_transit": "InfoReceived",
    "in_transit": "InTransit",
    "out_for_delivery": "OutForDelivery",
    "delivered": "Delivered",
    "available_for_pickup": "AvailableForPickup",
    "return_to_sender": "Exception",
    "failure": "Exception",
    "cancelled": "Exception",
    "error": None,
}
STATUSES = json.loads((FIXTURES / "statuses.json").read_text(encoding="utf-8"))


def event(status: str, detail: str = "unknown", event_id: str = "evt_x") -> dict:
    body = json.loads((FIXTURES / "tracker_updated_event.json").read_text(encoding="utf-8"))
    body["id"] = event_id
    body["result"].update(status=status, status_detail=detail)
    return body


@pytest.mark.parametrize("status", STATUSES["status"])
def test_every_easypost_status_maps(status: str) -> None:
    update = parse_easypost(event(status))
    assert isinstance(update, TrackingUpdate) and update.tag == EXPECTED[status]
    # Tracking that ran out is Expired whatever the status.
    expired = parse_easypost(event(status, "expired"))
    assert isinstance(expired, TrackingUpdate) and expired.tag == "Expired"


def test_the_published_tracker_updated_event() -> None:
    update = parse_easypost(json.loads((FIXTURES / "tracker_updated_event.json").read_bytes()))
    assert isinstance(update, TrackingUpdate)
    assert (update.event_id, update.tracking_number, update.tag) == ("evt_1", "1", "InTransit")
    assert update.estimated_delivery == dt.date(2024, 8, 5) and update.delivered_at is None
    assert len(update.checkpoints) == 7
    first, second = update.checkpoints[:2]
    assert (first.time, first.tag, first.message, first.location) == (
        dt.datetime(2024, 7, 31, 15, 0, tzinfo=dt.UTC),
        "InfoReceived",
        "Shipment information sent to FedEx",
        "US",
    )
    assert (second.tag, second.location) == ("InTransit", "ORLANDO, FL, US")


def test_other_events_and_test_mode_are_ignored() -> None:
    batch = parse_easypost(json.loads(vector_body(VECTORS[0])))
    assert batch == IgnoredEvent("batch.created", "evt_123...", "not a tracking update: batch.created")
    # A tracker.created event: the published envelope with the published Tracker as its result (OURS).
    created = json.loads((FIXTURES / "tracker_created_event_envelope.json").read_bytes())
    created["result"] = json.loads((FIXTURES / "tracker_create_response.json").read_bytes())
    ignored = parse_easypost(created)
    assert isinstance(ignored, IgnoredEvent) and "test mode" in ignored.reason
    created["mode"] = created["result"]["mode"] = "production"
    update = parse_easypost(created)
    assert isinstance(update, TrackingUpdate) and (update.tracking_number, update.tag) == ("EZ1000000001", "InfoReceived")
    assert update.checkpoints[1].location == "HOUSTON, TX"


# --- through the gateway ---------------------------------------------------------------------


@pytest.fixture
async def client(demo_gateway: TestClient) -> TestClient:
    return demo_gateway


def parcel_event(event_id: str, status: str, when: str) -> bytes:
    """The published tracker.updated event, for Alex's parcel, with one more scan (OURS)."""
    body = event(status, event_id=event_id)
    tracker = body["result"]
    tracker["tracking_code"] = TRACKING
    detail = dict(tracker["tracking_details"][-1], status=status, datetime=when, message=f"{status} scan")
    tracker["tracking_details"] = [d for d in tracker["tracking_details"] if d["datetime"] < when] + [detail]
    return json.dumps(body, separators=(",", ":")).encode()


async def post(client: TestClient, body: bytes, key: str, store: str = STORE):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/webhooks/tracking/easypost/{store}", data=body, headers={"X-Hmac-Signature": easypost_signature(key, body)}
    )


async def test_easypost_webhook(client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    integrations = StoreIntegrations(demo_sessions)
    first = (await integrations.replace_key(STORE, "easypost")).secret
    assert first is not None
    delivered = parcel_event("evt_d1", "delivered", "2026-11-27T21:40:00Z")

    wrong = await post(client, delivered, "not-the-key")
    assert wrong.status == 401 and (await wrong.json())["code"] == "webhook_signature_wrong"
    unsigned = await client.post(f"/webhooks/tracking/easypost/{STORE}", data=delivered)
    assert unsigned.status == 401
    assert await parcel_state(demo_sessions, TRACKING) == ("InTransit", 0, 0)

    # The key is replaced: the previous one still signs during its grace period.
    second = (await integrations.replace_key(STORE, "easypost")).secret
    assert second is not None and second != first
    response = await post(client, delivered, first)
    assert response.status == 200 and await response.json() == {"result": "applied"}
    assert await parcel_state(demo_sessions, TRACKING) == ("Delivered", 1, 1)
    async with demo_sessions() as session:
        shipment = await session.scalar(select(Shipment).where(Shipment.tracking_number == TRACKING))
        assert shipment is not None and shipment.delivered_at == dt.datetime(2026, 11, 27, 21, 40, tzinfo=dt.UTC)

    again = await post(client, delivered, second)
    assert await again.json() == {"result": "duplicate"}
    older = await post(client, parcel_event("evt_d0", "out_for_delivery", "2026-11-27T13:05:00Z"), second)
    assert await older.json() == {"result": "stale"}
    batch = vector_body(VECTORS[0])
    ignored = await post(client, batch, second)
    assert ignored.status == 202
    assert await ignored.json() == {"result": "ignored", "reason": "not a tracking update: batch.created"}
    assert await parcel_state(demo_sessions, TRACKING) == ("Delivered", 2, 1)
    async with demo_sessions() as session:
        row = await session.scalar(select(StoreIntegration).where(StoreIntegration.provider == "easypost"))
        # The two refusals were the same within a minute: kept once.
        assert row is not None and [p["status"] for p in row.recent_problems] == [202, 401]


async def test_easypost_bad_input(client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    key = (await StoreIntegrations(demo_sessions).replace_key(STORE, "easypost")).secret
    assert key is not None
    no_key_yet = await post(client, parcel_event("evt_b1", "delivered", "2026-11-27T21:40:00Z"), key, "bloomkids-baby")
    assert no_key_yet.status == 401
    unknown = await post(client, b"{}", key, "no-such-store")
    assert unknown.status == 404
    broken = json.loads(parcel_event("evt_b2", "delivered", "2026-11-27T21:40:00Z"))
    broken["result"]["tracking_details"][0]["datetime"] = "yesterday"
    response = await post(client, json.dumps(broken).encode(), key)
    assert response.status == 400 and (await response.json())["code"] == "update_time_invalid"
    huge = b'{"padding": "' + b"x" * (1024 * 1024) + b'"}'
    oversized = await post(client, huge, key)
    assert oversized.status == 413 and (await oversized.json())["code"] == "http_body_too_large"
    assert await parcel_state(demo_sessions, TRACKING) == ("InTransit", 0, 0)
