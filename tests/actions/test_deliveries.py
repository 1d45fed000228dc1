"""The delivery confirmation the store sends when a parcel is delivered."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions import deliveries as delivery_actions
from actions.deliveries import ShipmentNotice
from bot.chat.conversations import ConversationService
from bot.core.models import Store
from bot.orders.lookup import OrderService
from bot.shipping.tracking_updates import Checkpoint, TrackingUpdate, TrackingUpdates

STORE = "yangteng-auto"
TRACKING = "9400111899223100000000"


@pytest.fixture(autouse=True)
def service(demo_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery_actions, "order_service", lambda: OrderService(demo_sessions))


async def deliver(sessions: async_sessionmaker[AsyncSession]) -> None:
    when = dt.datetime(2026, 11, 27, 21, 40, tzinfo=dt.UTC)
    update = TrackingUpdate("evt-1", TRACKING, "Delivered", [Checkpoint(when, "Delivered", "Delivered", "New York, NY")])
    assert (await TrackingUpdates(sessions).apply(STORE, "aftership", update)).delivered_now


def tracker(conversation_id: str, tracking_number: str = TRACKING) -> Tracker:
    entities = [{"entity": "order_id", "value": "FZ-20931"}, {"entity": "tracking_number", "value": tracking_number}]
    return Tracker.from_dict(
        {
            "sender_id": conversation_id,
            "slots": {},
            "latest_message": {"intent": {"name": "EXTERNAL_package_delivered"}, "entities": entities, "text": None},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


async def run(
    conversation_id: str,
    tracking_number: str = TRACKING,
    action: type[ShipmentNotice] = delivery_actions.ActionSendDeliveryConfirmation,
) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await action().run(dispatcher, tracker(conversation_id, tracking_number), {})
    # The store wrote to its own shopper about this order: the chat now knows it.
    assert events == ([SlotSet("verified_order_number", "FZ-20931")] if dispatcher.messages else [])
    return dispatcher.messages


async def test_confirmation_names_the_items_and_attaches_the_manual(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await deliver(demo_sessions)
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    messages = await run(chat.conversation_id)
    first = messages[0]["text"]
    assert first.startswith("Hi Alex, good news from Yangteng Auto Parts: your order FZ-20931 was delivered")
    assert "1 × Aluminium oil pan" in first
    assert "Fri 27 Nov, 16:40 (America/New_York)" in first
    attachments = [m["custom"]["attachment"] for m in messages if m.get("custom")]
    assert attachments[0] == {
        "type": "pdf",
        "url": "https://yangteng-auto.example/manuals/op-1001.pdf",
        "title": "Aluminium oil pan — installation manual (PDF)",
    }
    assert attachments[1]["type"] == "video" and attachments[1]["url"].endswith("op-1001-install.mp4")


async def test_nothing_for_a_shipment_that_is_not_delivered(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    assert await run(chat.conversation_id) == []


async def test_nothing_for_another_shoppers_conversation(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    """Entities can be typed by anyone; the conversation's owner decides."""
    await deliver(demo_sessions)
    other = await ConversationService(demo_sessions).for_shopper(STORE, "someone-else@example.com")
    assert await run(other.conversation_id) == []
    anonymous, _ = await ConversationService(demo_sessions).start(STORE)
    assert await run(anonymous.conversation_id) == []
    elsewhere = await ConversationService(demo_sessions).for_shopper("summit-outdoor", "alex@example.com")
    assert await run(elsewhere.conversation_id) == []


async def hold_in_customs(sessions: async_sessionmaker[AsyncSession]) -> None:
    when = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    update = TrackingUpdate(
        "evt-customs",
        TRACKING,
        "Exception",
        [Checkpoint(when, "Exception", "Held by customs: import duty due", "Newark, NJ")],
    )
    assert (await TrackingUpdates(sessions).apply(STORE, "aftership", update)).result == "applied"


async def run_exception(conversation_id: str) -> list[dict[str, Any]]:
    return await run(conversation_id, action=delivery_actions.ActionSendExceptionNotice)


async def test_a_store_that_sends_the_video_later_leaves_it_out_then_sends_it(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with demo_sessions() as session, session.begin():
        (await session.get(Store, STORE)).install_video_delay_minutes = 90
    await deliver(demo_sessions)
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    confirmation = await run(chat.conversation_id)
    assert [m["custom"]["attachment"]["type"] for m in confirmation if m.get("custom")] == ["pdf"]
    follow_up = await run(chat.conversation_id, action=delivery_actions.ActionSendInstallVideo)
    assert follow_up[0]["text"] == "Hi Alex, ready to install? This video shows every step."
    assert [m["custom"]["attachment"] for m in follow_up if m.get("custom")] == [
        {
            "type": "video",
            "url": "https://yangteng-auto.example/videos/op-1001-install.mp4",
            "title": "Installing the Aluminium oil pan",
        }
    ]


async def test_no_install_video_before_delivery_or_for_others(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    assert await run(chat.conversation_id, action=delivery_actions.ActionSendInstallVideo) == []
    await deliver(demo_sessions)
    other = await ConversationService(demo_sessions).for_shopper(STORE, "someone-else@example.com")
    assert await run(other.conversation_id, action=delivery_actions.ActionSendInstallVideo) == []


async def test_a_customs_hold_says_what_to_do_and_offers_help(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await hold_in_customs(demo_sessions)
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    notice, offer = await run_exception(chat.conversation_id)
    assert notice["text"].startswith(
        "Hi Alex, an update on your order FZ-20931: the USPS parcel 9400111899223100000000 is held up"
    )
    assert "(Held by customs: import duty due, Newark, NJ)" in notice["text"]
    assert "paying promptly" in notice["text"]
    assert [b["payload"] for b in offer["buttons"]] == ["/track_order", "/request_human"]


async def test_no_exception_notice_for_a_parcel_in_transit_or_for_others(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    assert await run_exception(chat.conversation_id) == []  # still InTransit
    await hold_in_customs(demo_sessions)
    other = await ConversationService(demo_sessions).for_shopper(STORE, "someone-else@example.com")
    assert await run_exception(other.conversation_id) == []


async def test_the_sellers_changed_words_are_used_on_the_very_next_message(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    from bot.seller.store_settings import StoreSettingsService

    await deliver(demo_sessions)
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    before = await run(chat.conversation_id)
    assert before[0]["text"].startswith("Hi Alex, good news from Yangteng Auto Parts")
    await StoreSettingsService(demo_sessions).update(
        STORE,
        {
            "templates": {
                "delivery_confirmation": "{shopper_first_name}，您的订单 {order_number} 已于 {delivered_at} 送达：{item_names}。",
            }
        },
        "Lin Wei",
    )
    after = await run(chat.conversation_id)  # no restart, no retraining: the next message
    assert (
        after[0]["text"] == "Alex，您的订单 FZ-20931 已于 Fri 27 Nov, 16:40 (America/New_York) 送达：1 × Aluminium oil pan。"
    )
    assert after[1:] == before[1:]  # the manual, the video and the closing stay as they were


async def test_the_customs_notice_uses_the_sellers_words(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    from bot.seller.store_settings import StoreSettingsService

    await StoreSettingsService(demo_sessions).update(
        STORE,
        {
            "templates": {
                "exception_customs": "{order_number}: {carrier} says {latest_scan}. {{Track}}: {tracking_url}",
            }
        },
        "Lin Wei",
    )
    await hold_in_customs(demo_sessions)
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    notice, offer = await run_exception(chat.conversation_id)
    assert notice["text"].startswith("FZ-20931: USPS says Held by customs: import duty due, Newark, NJ. {Track}: https://")
    assert "Track it:" not in notice["text"]  # the seller placed the link; it is not added twice
    assert [b["payload"] for b in offer["buttons"]] == ["/track_order", "/request_human"]
