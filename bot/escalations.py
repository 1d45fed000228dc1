"""Escalations: conversations that need a person from the store.

The bot records them (a reason, the order if known, a one-line summary for
the agents' queue, the shopper's own words and a priority); the agent console
works through them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Conversation, Escalation, Order
from bot.orders import order_lookup_key

#: Why a conversation needs a person, and how soon: a parcel that never came
#: or came broken leaves the shopper with nothing, so it goes first.
PRIORITY_BY_REASON = {
    "not_received": "high",
    "damaged": "high",
    "missing_parts": "normal",
    "wrong_item": "normal",
    "shopper_request": "normal",
}
REASON_TITLES = {
    "not_received": "Marked delivered, not received",
    "damaged": "Arrived damaged",
    "missing_parts": "Parts missing",
    "wrong_item": "Wrong item received",
    "shopper_request": "Shopper asked for a person",
}
SUMMARY_CHARS = 200
DETAILS_CHARS = 4000


@dataclass(frozen=True)
class RecordedEscalation:
    id: int
    reason: str
    priority: str
    order_number: str | None

    @property
    def reference(self) -> str:
        return f"E-{self.id}"


def summarise(reason: str, order_number: str | None, details: str) -> str:
    """The queue's one line: what, which order, and the start of the shopper's words."""
    title = REASON_TITLES.get(reason, reason.replace("_", " ").capitalize())
    line = f"{title} · order {order_number}" if order_number else title
    words = " ".join(details.split())
    if words:
        line += f": {words}"
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1] + "…"


class EscalationService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(
        self, conversation_id: str, reason: str, details: str = "", order_number: str | None = None
    ) -> RecordedEscalation | None:
        """Record an escalation for this conversation's store; ``None`` if the
        conversation is unknown (the gateway creates every real one).

        The order must be the conversation store's own: a number from another
        store is kept out of the record.
        """
        if reason not in PRIORITY_BY_REASON:
            raise ValueError(f"unknown escalation reason {reason!r}")
        async with self._sessions() as session, session.begin():
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                return None
            order = await self._order(session, conversation.store_id, order_number) if order_number else None
            known_number = order.order_number if order is not None else None
            escalation = Escalation(
                store_id=conversation.store_id,
                conversation_id=conversation_id,
                order_id=order.id if order is not None else None,
                reason=reason,
                priority=PRIORITY_BY_REASON[reason],
                summary=summarise(reason, known_number, details),
                details=details[:DETAILS_CHARS],
            )
            session.add(escalation)
            await session.flush()
            return RecordedEscalation(escalation.id, reason, escalation.priority, known_number)

    @staticmethod
    async def _order(session: AsyncSession, store_id: str, order_number: str) -> Order | None:
        return await session.scalar(
            select(Order).where(Order.store_id == store_id, Order.lookup_key == order_lookup_key(order_number))
        )

    async def for_store(self, store_id: str) -> list[Escalation]:
        """A store's escalations, oldest first (the agent console's queue builds on this)."""
        async with self._sessions() as session:
            return list(
                (
                    await session.scalars(
                        select(Escalation).where(Escalation.store_id == store_id).order_by(Escalation.created_at, Escalation.id)
                    )
                ).all()
            )
