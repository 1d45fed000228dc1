"""The conversation service on SQLite and PostgreSQL: one conversation per identified shopper and store."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ConversationService
from bot.core.models import Conversation
from tests.conftest import signed_shopper

STORE = "yangteng-auto"


async def test_the_worker_and_the_widget_opening_at_once_share_one_conversation(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A delivery (the worker) and a page load (the widget) race to open Alex's conversation."""
    service = ConversationService(demo_sessions)
    await service.ensure_shopper_secrets()
    shopper = signed_shopper(await service.shopper_secret(STORE) or "", "alex@example.com")
    by_worker = [service.for_shopper(STORE, "Alex@Example.com") for _ in range(6)]
    by_widget = [service.start(STORE, shopper["email"], shopper["signature"], shopper["ts"]) for _ in range(6)]
    opened = await asyncio.gather(*by_worker, *by_widget)
    worker_chats, widget_chats = opened[:6], [chat for chat, _token in opened[6:]]
    assert len({chat.conversation_id for chat in [*worker_chats, *widget_chats]}) == 1
    async with demo_sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.shopper_email == "alex@example.com")
        )
    assert count == 1


async def test_anonymous_visitors_each_get_their_own(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    service = ConversationService(demo_sessions)
    first, _ = await service.start(STORE)
    second, _ = await service.start(STORE)
    assert first.conversation_id != second.conversation_id


async def test_the_same_shopper_at_another_store_is_another_conversation(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    service = ConversationService(demo_sessions)
    here = await service.for_shopper(STORE, "alex@example.com")
    there = await service.for_shopper("summit-outdoor", "alex@example.com")
    assert here.conversation_id != there.conversation_id
    assert (await service.for_shopper(STORE, "alex@example.com")).conversation_id == here.conversation_id
