"""The escalation service: reasons, priorities, summaries, and one store's orders only."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ConversationService
from bot.core.models import Escalation
from bot.support.escalations import PRIORITY_BY_REASON, EscalationService, summarise


def test_summary_is_one_short_line() -> None:
    line = summarise("missing_parts", "#1047", "the   straps\nare missing " + "x" * 400)
    assert line.startswith("Parts missing · order #1047: the straps are missing x")
    assert len(line) == 200 and line.endswith("…") and "\n" not in line
    assert summarise("shopper_request", None, "") == "Shopper asked for a person"


def test_a_parcel_that_never_came_or_came_broken_goes_first() -> None:
    assert PRIORITY_BY_REASON["not_received"] == PRIORITY_BY_REASON["damaged"] == "high"
    assert PRIORITY_BY_REASON["wrong_item"] == PRIORITY_BY_REASON["missing_parts"] == "normal"


async def test_an_order_number_of_another_store_is_kept_out(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    # Alex has order 114-2083917-5531842 at Summit Trail Outdoor, not at Yangteng.
    chat = await ConversationService(demo_sessions).for_shopper("yangteng-auto", "alex@example.com")
    recorded = await EscalationService(demo_sessions).record(
        chat.conversation_id, "wrong_item", "a jacket?", "114-2083917-5531842"
    )
    assert recorded is not None and recorded.order_number is None
    async with demo_sessions() as session:
        escalation = (await session.scalars(select(Escalation))).one()
    assert escalation.store_id == "yangteng-auto" and escalation.order_id is None
    assert escalation.summary == "Wrong item received: a jacket?"
    assert [e.id for e in await EscalationService(demo_sessions).for_store("yangteng-auto")] == [escalation.id]
    assert await EscalationService(demo_sessions).for_store("summit-outdoor") == []


async def test_an_unknown_reason_is_refused(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper("yangteng-auto", "alex@example.com")
    with pytest.raises(ValueError):
        await EscalationService(demo_sessions).record(chat.conversation_id, "angry", "")
