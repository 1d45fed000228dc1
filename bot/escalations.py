"""Escalations: conversations that need a person from the store.

The bot records them (a reason, the order if known, a one-line summary for
the agents' queue, the shopper's own words and a priority); the agent console
works through them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import utc_now
from bot.business_hours import BadBusinessHours, describe_duration, describe_return, opening, parse_business_hours
from bot.models import (
    AgentMembership,
    AgentSession,
    Conversation,
    Escalation,
    EscalationStatus,
    Order,
    Store,
)
from bot.orders import order_lookup_key
from bot.templates import DEFAULT_TEMPLATES, render, saved_settings, store_templates

#: Why a conversation needs a person, and how soon: a parcel that never came
#: or came broken leaves the shopper with nothing, so it goes first.
PRIORITY_BY_REASON = {
    "not_received": "high",
    "damaged": "high",
    "missing_parts": "normal",
    "wrong_item": "normal",
    "shopper_request": "normal",
    "not_understood": "normal",
    "identity_check_failed": "normal",
}
#: Most urgent first in the agents' queue.
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2}
REASON_TITLES = {
    "not_received": "Marked delivered, not received",
    "damaged": "Arrived damaged",
    "missing_parts": "Parts missing",
    "wrong_item": "Wrong item received",
    "shopper_request": "Shopper asked for a person",
    "not_understood": "The bot did not understand twice",
    "identity_check_failed": "Identity check failed three times",
}
#: An agent whose console has checked in this recently counts as online.
ONLINE_WITHIN = dt.timedelta(seconds=90)
ACTIVE_STATUSES = (EscalationStatus.open.value, EscalationStatus.claimed.value)
SUMMARY_CHARS = 200
DETAILS_CHARS = 4000


@dataclass(frozen=True)
class RecordedEscalation:
    id: int
    reason: str
    priority: str
    order_number: str | None
    #: The conversation's own store: where the case is queued, and whose people answer.
    store_id: str = ""

    @property
    def reference(self) -> str:
        return f"E-{self.id}"


@dataclass(frozen=True)
class Availability:
    """Whether a person from the store can answer now, and if not, when."""

    store_name: str
    agents_online: int
    open_now: bool
    next_open_at: dt.datetime | None
    reply_time_minutes: int
    timezone: str

    #: The store's message templates now (handoff_connecting, handoff_waiting, out_of_hours).
    templates: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TEMPLATES))

    def notice(self, now: dt.datetime, reference: str = "") -> str:
        """What the bot honestly tells the shopper will happen next, in the store's words."""
        values = {"store_name": self.store_name, "reply_time": describe_duration(self.reply_time_minutes), "reference": reference}
        if self.agents_online:
            return render(self.templates["handoff_connecting"], values)
        if self.open_now:
            return render(self.templates["handoff_waiting"], values)
        if self.next_open_at is None:
            return (
                f"The team at {self.store_name} is offline right now. The chat stays open: the answer will appear "
                "here, even if you close the page and come back later."
            )
        values["back_in"] = describe_return(now, self.next_open_at, self.timezone)
        return render(self.templates["out_of_hours"], values)


def summarise(reason: str, order_number: str | None, details: str) -> str:
    """The queue's one line: what, which order, and the start of the shopper's words."""
    title = REASON_TITLES.get(reason, reason.replace("_", " ").capitalize())
    line = f"{title} · order {order_number}" if order_number else title
    words = " ".join(details.split())
    if words:
        line += f": {words}"
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1] + "…"


class EscalationOff(RuntimeError):
    """The store chose not to take this kind of case in the chat (its escalation settings)."""


async def reasons_on(session: AsyncSession, store_id: str) -> set[str]:
    """The reasons the store escalates; all of them until the seller changes that."""
    saved = (await saved_settings(session, store_id)).get("escalation")
    reasons = saved.get("reasons") if isinstance(saved, dict) else None
    on = set(reasons) if isinstance(reasons, list) else set(PRIORITY_BY_REASON)
    return on | {"shopper_request"}  # a shopper who asks for a person always gets one


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
            if reason not in await reasons_on(session, conversation.store_id):
                raise EscalationOff(reason)
            order = await self._order(session, conversation.store_id, order_number) if order_number else None
            known_number = order.order_number if order is not None else None
            same = await session.scalar(
                select(Escalation).where(
                    Escalation.conversation_id == conversation_id,
                    Escalation.store_id == conversation.store_id,
                    Escalation.reason == reason,
                    Escalation.status.in_(ACTIVE_STATUSES),
                )
            )
            if same is not None:
                # Asking again while a person is already on the way adds the new
                # words to the same case rather than a second queue entry.
                if details and details not in same.details:
                    same.details = (same.details + "\n" + details)[:DETAILS_CHARS] if same.details else details[:DETAILS_CHARS]
                if same.order_id is None and order is not None:
                    same.order_id, same.summary = order.id, summarise(reason, known_number, same.details)
                same.updated_at = utc_now()
                return RecordedEscalation(same.id, reason, same.priority, known_number, conversation.store_id)
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
            return RecordedEscalation(escalation.id, reason, escalation.priority, known_number, conversation.store_id)

    @staticmethod
    async def _order(session: AsyncSession, store_id: str, order_number: str) -> Order | None:
        return await session.scalar(
            select(Order).where(Order.store_id == store_id, Order.lookup_key == order_lookup_key(order_number))
        )

    async def availability(self, store_id: str, now: dt.datetime | None = None) -> Availability | None:
        """Who can answer the store's shoppers now; ``None`` for an unknown store."""
        now = now or utc_now()
        async with self._sessions() as session:
            store = await session.get(Store, store_id)
            if store is None:
                return None
            online = await session.scalar(
                select(func.count(func.distinct(AgentSession.agent_id)))
                .join(AgentMembership, AgentMembership.agent_id == AgentSession.agent_id)
                .where(
                    AgentMembership.store_id == store_id,
                    AgentSession.last_seen_at > now - ONLINE_WITHIN,
                    AgentSession.expires_at > now,
                )
            )
            templates = await store_templates(session, store_id)
        try:
            spans = parse_business_hours(store.business_hours)
        except BadBusinessHours:
            spans = parse_business_hours(None)  # checked on save; never leave a shopper without an answer
        hours = opening(spans, store.timezone, now)
        return Availability(
            store.name, int(online or 0), hours.open_now, hours.next_open_at, store.reply_time_minutes, store.timezone,
            templates,
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
