"""Escalations: conversations that need a person from the store.

The bot records them (a reason, the order if known, a one-line summary for
the agents' queue, the shopper's own words and a priority); the agent console
works through them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import utc_now
from bot.core.db import dialect_insert
from bot.core.models import (
    AgentMembership,
    AgentSession,
    Conversation,
    Escalation,
    EscalationAllowance,
    EscalationStatus,
    Order,
    Store,
)
from bot.orders.lookup import order_lookup_key
from bot.seller.templates import DEFAULT_TEMPLATES, render, saved_settings, store_templates
from bot.support.business_hours import BadBusinessHours, describe_duration, describe_return, opening, parse_business_hours

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
    "identity_check_failed": "Identity check locked after repeated failures",
}
#: An agent whose console has checked in this recently counts as online.
ONLINE_WITHIN = dt.timedelta(seconds=90)
ACTIVE_STATUSES = (EscalationStatus.open.value, EscalationStatus.claimed.value)
SUMMARY_CHARS = 200
DETAILS_CHARS = 4000
#: The windows the limits on new cases count in (EscalationLimits).
CONVERSATION_WINDOW = dt.timedelta(days=1)
ADDRESS_WINDOW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class EscalationLimits:
    """How many new cases may reach the agents' queue: a flood of spam cases from new
    conversations (two requests each) must not bury the real ones. 0 turns a limit off."""

    per_conversation_per_day: int = 3
    per_address_per_hour: int = 10

    @classmethod
    def from_settings(cls, settings: Any) -> EscalationLimits:
        return cls(settings.escalations_per_conversation_per_day, settings.escalations_per_address_per_hour)


class EscalationLimited(RuntimeError):
    """Over the limits, with no open case in the conversation to add the request to."""

    def __init__(self, retry_after: dt.timedelta) -> None:
        super().__init__(f"no new escalation for {retry_after}")
        self.retry_after = retry_after


def window_start(now: dt.datetime, window: dt.timedelta) -> dt.datetime:
    """The start of the fixed window (of the given length, counted from the epoch) holding ``now``."""
    seconds = int(window.total_seconds())
    return dt.datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, dt.UTC)


@dataclass(frozen=True)
class RecordedEscalation:
    id: int
    reason: str
    priority: str
    order_number: str | None
    #: The conversation's own store: where the case is queued, and whose people answer.
    store_id: str = ""
    #: True when the limits allowed no new case and the request was added to the case
    #: already open in this conversation (the shopper is told so, with its reference).
    already_open: bool = False

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
        values = {
            "store_name": self.store_name,
            "reply_time": describe_duration(self.reply_time_minutes),
            "reference": reference,
        }
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


def _add_details(case: Escalation, details: str, order: Order | None) -> None:
    """The shopper's new words (and the order, once known) into a case already open."""
    if details and details not in case.details:
        case.details = (case.details + "\n" + details)[:DETAILS_CHARS] if case.details else details[:DETAILS_CHARS]
    if case.order_id is None and order is not None:
        case.order_id, case.summary = order.id, summarise(case.reason, order.order_number, case.details)
    case.updated_at = utc_now()


class EscalationService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], limits: EscalationLimits | None = None) -> None:
        self._sessions = sessions
        self._limits = limits or EscalationLimits()

    async def record(
        self,
        conversation_id: str,
        reason: str,
        details: str = "",
        order_number: str | None = None,
        client_key: str | None = None,
    ) -> RecordedEscalation | None:
        """Record an escalation for this conversation's store; ``None`` if the
        conversation is unknown (the gateway creates every real one).

        The order must be the conversation store's own: a number from another
        store is kept out of the record.

        A new case counts against the conversation's and the client address's
        (``client_key``) limits. Over either, the request is added to the case
        already open in the conversation (``already_open``), or, with none open,
        refused with :class:`EscalationLimited`.
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
                _add_details(same, details, order)
                return RecordedEscalation(same.id, reason, same.priority, known_number, conversation.store_id)
            retry_after = await self._count_new_case(session, conversation_id, client_key)
            if retry_after is not None:
                open_case = await session.scalar(
                    select(Escalation)
                    .where(
                        Escalation.conversation_id == conversation_id,
                        Escalation.store_id == conversation.store_id,
                        Escalation.status.in_(ACTIVE_STATUSES),
                    )
                    .order_by(Escalation.created_at.desc(), Escalation.id.desc())
                    .limit(1)
                )
                if open_case is None:
                    raise EscalationLimited(retry_after)
                _add_details(open_case, details, order)
                return RecordedEscalation(
                    open_case.id,
                    open_case.reason,
                    open_case.priority,
                    known_number,
                    conversation.store_id,
                    already_open=True,
                )
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

    async def _count_new_case(
        self, session: AsyncSession, conversation_id: str, client_key: str | None
    ) -> dt.timedelta | None:
        """Count one new case for the conversation and the address; ``None`` if both allow it,
        else how long until the exhausted window ends (nothing is then counted).

        Each count is one conditional upsert (``… ON CONFLICT DO UPDATE … WHERE count < limit``):
        atomic on PostgreSQL (row lock) and SQLite (one writer), across every process.
        """
        now = utc_now()
        # Ended windows go, a few at a time; rows another transaction holds are skipped
        # (PostgreSQL), so the clean-up never waits or deadlocks.
        columns = (EscalationAllowance.scope, EscalationAllowance.key, EscalationAllowance.window_start)
        ended = select(*columns).where(EscalationAllowance.expires_at <= now).limit(100).with_for_update(skip_locked=True)
        await session.execute(delete(EscalationAllowance).where(tuple_(*columns).in_(ended)))
        counted: list[tuple[str, str, dt.datetime]] = []
        for scope, key, window, limit in (
            ("conversation", conversation_id, CONVERSATION_WINDOW, self._limits.per_conversation_per_day),
            ("address", client_key, ADDRESS_WINDOW, self._limits.per_address_per_hour),
        ):
            if not key or limit <= 0:
                continue
            start = window_start(now, window)
            insert = dialect_insert(session, EscalationAllowance).values(
                scope=scope, key=key[:128], window_start=start, count=1, expires_at=start + window
            )
            allowed = await session.scalar(
                insert.on_conflict_do_update(
                    index_elements=["scope", "key", "window_start"],
                    set_={"count": EscalationAllowance.count + 1},
                    where=EscalationAllowance.count < limit,
                ).returning(EscalationAllowance.count)
            )
            if allowed is None:
                for taken in counted:  # the other window gave its allowance back
                    await session.execute(
                        update(EscalationAllowance)
                        .where(
                            EscalationAllowance.scope == taken[0],
                            EscalationAllowance.key == taken[1],
                            EscalationAllowance.window_start == taken[2],
                        )
                        .values(count=EscalationAllowance.count - 1)
                    )
                return start + window - now
            counted.append((scope, key[:128], start))
        return None

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
            store.name,
            int(online or 0),
            hours.open_now,
            hours.next_open_at,
            store.reply_time_minutes,
            store.timezone,
            templates,
        )

    async def for_store(self, store_id: str) -> list[Escalation]:
        """A store's escalations, oldest first (the agent console's queue builds on this)."""
        async with self._sessions() as session:
            return list(
                (
                    await session.scalars(
                        select(Escalation)
                        .where(Escalation.store_id == store_id)
                        .order_by(Escalation.created_at, Escalation.id)
                    )
                ).all()
            )
