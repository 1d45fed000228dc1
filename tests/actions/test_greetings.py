"""The greeting, in the store's words, by the shopper's first name when the store vouched for them."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions import greetings
from bot.seller.store_settings import StoreSettingsService
from bot.seller.templates import DEFAULT_TEMPLATES

STORE = "yangteng-auto"


@pytest.fixture(autouse=True)
def service(demo_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(greetings, "settings_service", lambda: StoreSettingsService(demo_sessions))


def tracker(metadata: dict[str, str]) -> Tracker:
    return Tracker.from_dict(
        {
            "sender_id": "greeting-test",
            "slots": {},
            "latest_message": {"intent": {"name": "greet"}, "entities": [], "text": "hi", "metadata": metadata},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


async def greet(metadata: dict[str, str]) -> str:
    dispatcher = CollectingDispatcher()
    assert await greetings.ActionGreet().run(dispatcher, tracker(metadata), {}) == []
    (message,) = dispatcher.messages
    return str(message["text"])


async def test_a_store_that_changed_nothing_greets_with_the_default(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await greet({"store_id": STORE}) == DEFAULT_TEMPLATES["greeting"]
    assert await greet({}) == DEFAULT_TEMPLATES["greeting"]  # no store at all (the terminal chat)


async def test_the_sellers_greeting_applies_to_the_next_hello(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await StoreSettingsService(demo_sessions).update(
        STORE, {"templates": {"greeting": "您好 {shopper_first_name}！欢迎来到 {store_name}。"}}, "Lin Wei"
    )
    assert (
        await greet({"store_id": STORE, "shopper_email": "alex@example.com"}) == "您好 Alex！欢迎来到 Yangteng Auto Parts。"
    )
    assert await greet({"store_id": STORE}) == "您好 there！欢迎来到 Yangteng Auto Parts。"  # anonymous: no name
    # Another store is not affected.
    assert await greet({"store_id": "bloomkids-baby"}) == DEFAULT_TEMPLATES["greeting"]
