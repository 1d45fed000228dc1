"""Who is talking to which store, as the trusted caller told Rasa in message metadata."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.db import get_sessionmaker
from bot.deliveries import Outgoing
from bot.escalations import EscalationService
from bot.guides import GuideService
from bot.orders import OrderService
from bot.reviews import ReviewService
from bot.store_settings import StoreSettingsService


@dataclass(frozen=True)
class ChatContext:
    store_id: str | None
    #: Set only when the store vouched for the shopper (signed identity).
    shopper_email: str | None


def chat_context(tracker: Tracker) -> ChatContext:
    """Read the store and shopper from this message's metadata.

    Metadata is per message; the ``session_started_metadata`` slot keeps the
    first message's, for events (like button payloads) that carry none.
    """
    metadata: dict[str, Any] = (tracker.latest_message or {}).get("metadata") or {}
    if not metadata.get("store_id"):
        metadata = tracker.get_slot("session_started_metadata") or {}
    store_id = metadata.get("store_id")
    email = metadata.get("shopper_email")
    return ChatContext(
        store_id=store_id if isinstance(store_id, str) and store_id else None,
        shopper_email=email.strip().lower() if isinstance(email, str) and "@" in email else None,
    )


@lru_cache(maxsize=1)
def order_service() -> OrderService:
    """One service per action-server process, over the process's session factory."""
    return OrderService(get_sessionmaker())


@lru_cache(maxsize=1)
def guide_service() -> GuideService:
    return GuideService(get_sessionmaker())


@lru_cache(maxsize=1)
def escalation_service() -> EscalationService:
    return EscalationService(get_sessionmaker())


def say(dispatcher: CollectingDispatcher, messages: list[Outgoing]) -> None:
    """Utter composed messages; an attachment travels as a custom (JSON) message."""
    for message in messages:
        if message.attachment:
            dispatcher.utter_message(text=message.text, json_message={"attachment": message.attachment})
        else:
            dispatcher.utter_message(text=message.text, buttons=message.buttons)


@lru_cache(maxsize=1)
def review_service() -> ReviewService:
    return ReviewService(get_sessionmaker())


@lru_cache(maxsize=1)
def settings_service() -> StoreSettingsService:
    return StoreSettingsService(get_sessionmaker())
