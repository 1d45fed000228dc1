"""Who is talking to which store, as the trusted caller told Rasa in message metadata."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.core.config import get_settings
from bot.core.db import get_sessionmaker
from bot.guides.in_chat import GuideService
from bot.guides.product_matching import ProductMatcher
from bot.orders.identity_checks import IdentityChecks, LockoutPolicy
from bot.orders.lookup import OrderService
from bot.photos.conversation_photos import ConversationPhotos
from bot.photos.storage import photo_storage
from bot.reviews.shopper_reviews import ReviewService
from bot.seller.store_settings import StoreSettingsService
from bot.shipping.deliveries import Outgoing
from bot.support.escalations import EscalationLimits, EscalationService


@dataclass(frozen=True)
class ChatContext:
    store_id: str | None
    #: Set only when the store vouched for the shopper (signed identity).
    shopper_email: str | None
    #: The shopper's client address as the gateway saw it (IPv4, or IPv6 /64); ``None`` for
    #: messages that did not come from a shopper's browser (the worker's intents).
    client_key: str | None = None


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
    # The address is this message's own, never the session's first: it is who is asking now.
    client_key = ((tracker.latest_message or {}).get("metadata") or {}).get("client_key")
    return ChatContext(
        store_id=store_id if isinstance(store_id, str) and store_id else None,
        shopper_email=email.strip().lower() if isinstance(email, str) and "@" in email else None,
        client_key=client_key if isinstance(client_key, str) and client_key else None,
    )


@lru_cache(maxsize=1)
def order_service() -> OrderService:
    """One service per action-server process, over the process's session factory."""
    return OrderService(get_sessionmaker())


@lru_cache(maxsize=1)
def identity_checks() -> IdentityChecks:
    """The identity check and its lockout, counted in the store database."""
    return IdentityChecks(get_sessionmaker(), order_service(), LockoutPolicy.from_settings(get_settings()))


@lru_cache(maxsize=1)
def guide_service() -> GuideService:
    return GuideService(get_sessionmaker())


@lru_cache(maxsize=1)
def product_matcher() -> ProductMatcher:
    return ProductMatcher(get_sessionmaker())


@lru_cache(maxsize=1)
def escalation_service() -> EscalationService:
    return EscalationService(get_sessionmaker(), EscalationLimits.from_settings(get_settings()))


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


@lru_cache(maxsize=1)
def conversation_photos() -> ConversationPhotos:
    """The conversations' photos: the actions file them with cases, and never open them."""
    sessions = get_sessionmaker()
    return ConversationPhotos(sessions, photo_storage(get_settings(), sessions))
