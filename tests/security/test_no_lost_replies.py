"""Issue 13, item 6: a failing action loses neither a reply nor a job.

The real gateway, Rasa server, action server and worker. The action server is killed in the
middle of a burst of signed "Delivered" webhooks and of a chat, then started again: every
shipment gets exactly one confirmation in its shopper's transcript, and the shopper who wrote
during the outage is told the assistant isn't answering, then gets the answer, once.

Before this item, Rasa answered 200 with no messages while the action server was down: the
worker marked the confirmations done with nothing sent, and the chat got silence.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from bot.chat import replies
from bot.chat.conversations import ConversationService
from bot.chat.rasa_client import RasaClient, replies_after, transcript_message, triggered_by
from bot.chat.unanswered import UNANSWERED_TURN
from bot.core.clock import utc_now
from bot.core.config import Settings
from bot.core.db import create_engine, create_sessionmaker
from bot.core.models import JobStatus, Order, ScheduledJob, Shipment, Store, TrackingTag
from bot.seller.store_settings import StoreSettingsService
from bot.shipping.tracking_updates import DELIVERY_CONFIRMATION, aftership_signature
from tests.engine import running_engine

pytestmark = pytest.mark.engine

SECRET = "whsec-no-lost-replies"
ACTION_SERVER = "action server"
#: Not delivered yet, and a delivery can follow: every one gets a confirmation.
UNDELIVERED = {"InTransit", "OutForDelivery", "InfoReceived", "Exception", "AttemptFail", "AvailableForPickup"}


async def _db(settings: Settings, work: Any) -> Any:
    db = create_engine(settings.database_url)
    try:
        return await work(create_sessionmaker(db))
    finally:
        await db.dispose()


async def _shipments_to_deliver(settings: Settings) -> list[tuple[str, str, str]]:
    """(store, tracking number, shopper email) of every shipment on its way, all stores; and each
    store's webhook secret set, as a store's carrier integration has it."""

    async def work(sessions):  # type: ignore[no-untyped-def]
        async with sessions() as session, session.begin():
            await session.execute(update(Store).values(webhook_secret=SECRET))
            rows = (
                await session.execute(
                    select(Shipment.store_id, Shipment.tracking_number, Order.shopper_email)
                    .join(Order, Order.id == Shipment.order_id)
                    .where(Shipment.status.in_(UNDELIVERED))
                    .order_by(Shipment.id)
                )
            ).all()
        return [tuple(row) for row in rows]

    return await _db(settings, work)


def delivered_body(tracking_number: str) -> bytes:
    when = utc_now().isoformat().replace("+00:00", "Z")
    return json.dumps(
        {
            "event": "tracking_update",
            "event_id": f"delivered-{tracking_number}",
            "msg": {
                "tracking_number": tracking_number,
                "slug": "usps",
                "tag": TrackingTag.Delivered.value,
                "checkpoints": [
                    {"checkpoint_time": when, "tag": "Delivered", "message": "Delivered", "location": "Front door"}
                ],
            },
        }
    ).encode()


async def _deliver(http: aiohttp.ClientSession, settings: Settings, store: str, tracking_number: str) -> None:
    body = delivered_body(tracking_number)
    async with http.post(
        f"{settings.gateway_url}/webhooks/tracking/aftership/{store}",
        data=body,
        headers={"Content-Type": "application/json", "aftership-hmac-sha256": aftership_signature(SECRET, body)},
    ) as response:
        assert response.status == 200, await response.text()


async def _closings(settings: Settings, shoppers: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """How many delivery confirmations each shopper's transcript holds (each one ends with the same closing line)."""

    async def work(sessions):  # type: ignore[no-untyped-def]
        service = ConversationService(sessions)
        counts = {}
        for store, email in shoppers:
            chat = await service.for_shopper(store, email)
            messages = await service.messages_after(chat, 0, limit=1000)
            counts[(store, email)] = sum(1 for m in messages if m.sender == "store" and m.text == replies.DELIVERY_CLOSING)
        return counts

    return await _db(settings, work)


async def _jobs(settings: Settings, kind: str) -> list[tuple[str, int]]:
    async def work(sessions):  # type: ignore[no-untyped-def]
        async with sessions() as session:
            return list(
                (
                    await session.execute(
                        select(ScheduledJob.status, ScheduledJob.attempts).where(ScheduledJob.kind == kind)
                    )
                ).all()
            )

    return await _db(settings, work)


async def _confirmation_of(settings: Settings, store: str, email: str) -> tuple[list[tuple[str, Any]], str, str]:
    """The store's messages in the shopper's transcript, the key of their delivery job, the conversation."""

    async def work(sessions):  # type: ignore[no-untyped-def]
        chat = await ConversationService(sessions).for_shopper(store, email)
        messages = await ConversationService(sessions).messages_after(chat, 0, limit=1000)
        async with sessions() as session:
            shipment_ids = (
                await session.scalars(
                    select(Shipment.id)
                    .join(Order, Order.id == Shipment.order_id)
                    .where(Order.store_id == store, Order.shopper_email == email)
                )
            ).all()
            [key] = (
                await session.scalars(
                    select(ScheduledJob.key).where(
                        ScheduledJob.key.in_([f"{DELIVERY_CONFIRMATION}:{sid}" for sid in shipment_ids])
                    )
                )
            ).all()
        return [(m.text, m.attachment) for m in messages if m.sender == "store"], key, chat.conversation_id

    return await _db(settings, work)


async def _say(http: aiohttp.ClientSession, settings: Settings, chat: dict[str, str], text: str) -> list[dict[str, Any]]:
    async with http.post(
        f"{settings.gateway_url}/api/v1/conversations/{chat['conversation_id']}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {chat['token']}"},
    ) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["messages"]


async def _transcript(http: aiohttp.ClientSession, settings: Settings, chat: dict[str, str]) -> list[dict[str, Any]]:
    async with http.get(
        f"{settings.gateway_url}/api/v1/conversations/{chat['conversation_id']}/messages",
        headers={"Authorization": f"Bearer {chat['token']}"},
    ) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["messages"]


async def test_killing_the_action_server_mid_burst_and_mid_chat_loses_nothing_and_doubles_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with running_engine(tmp_path, with_gateway=True, with_worker=True) as (stack, settings):
        shipments = await _shipments_to_deliver(settings)
        assert len(shipments) >= 12
        expected = collections.Counter((store, email) for store, _, email in shipments)
        first, rest = shipments[:4], shipments[4:]

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
            async with http.post(f"{settings.gateway_url}/api/v1/stores/yangteng-auto/conversations", json={}) as response:
                assert response.status == 201
                chat = await response.json()

            for store, tracking_number, _ in first:
                await _deliver(http, settings, store, tracking_number)
            await asyncio.sleep(1)  # the worker is busy with these when the action server dies

            stack.kill(ACTION_SERVER)
            for store, tracking_number, _ in rest:
                await _deliver(http, settings, store, tracking_number)

            # The shopper writes while the action server is down (the greeting is a custom action).
            answer = await _say(http, settings, chat, "hello")
            assert [m["sender"] for m in answer] == ["shopper", "bot"]
            assert answer[1]["text"] == replies.ASSISTANT_SILENT

            # Confirmations that met the outage are waiting for another attempt, not done and not lost.
            await asyncio.sleep(8)
            assert any(attempts > 1 for _, attempts in await _jobs(settings, DELIVERY_CONFIRMATION))
            stack.restart(ACTION_SERVER)

            deadline = time.monotonic() + 420
            counts: dict[tuple[str, str], int] = {}
            while time.monotonic() < deadline:
                counts = await _closings(settings, set(expected))
                statuses = {status for status, _ in await _jobs(settings, DELIVERY_CONFIRMATION)}
                if counts == dict(expected) and statuses == {JobStatus.done.value}:
                    break
                await asyncio.sleep(2)
            assert counts == dict(expected), "every shipment gets exactly one confirmation"
            assert {status for status, _ in await _jobs(settings, DELIVERY_CONFIRMATION)} == {JobStatus.done.value}

            # What a retry would use if storing had failed: the real tracker holds this job's
            # messages after its trigger, exactly as the transcript has them.
            store, email = next(shopper for shopper, count in expected.items() if count == 1)
            stored, key, conversation_id = await _confirmation_of(settings, store, email)
            replayed = replies_after(await RasaClient(settings, http).events(conversation_id), triggered_by(key))
            assert replayed is not None
            assert [(m.text, m.attachment) for m in (transcript_message(r, "store") for r in replayed)] == stored

            # The unanswered "hello" was asked again: the greeting arrives, once.
            while time.monotonic() < deadline:
                transcript = await _transcript(http, settings, chat)
                if len(transcript) >= 3:
                    break
                await asyncio.sleep(1)
            await asyncio.sleep(3)  # nothing more comes
            transcript = await _transcript(http, settings, chat)
            assert [m["sender"] for m in transcript] == ["shopper", "bot", "bot"]
            assert transcript[2]["text"] == await _db(
                settings, lambda sessions: StoreSettingsService(sessions).greeting("yangteng-auto", None)
            )
            assert [status for status, _ in await _jobs(settings, UNANSWERED_TURN)] == [JobStatus.done.value]

            # And the conversation goes on as usual.
            answer = await _say(http, settings, chat, "where is my order?")
            assert len(answer) >= 2 and answer[1]["sender"] == "bot"
            assert answer[1]["text"] != replies.ASSISTANT_SILENT

        # The same counts a while later: no retry sent anything twice.
        await asyncio.sleep(3)
        assert await _closings(settings, set(expected)) == dict(expected)
