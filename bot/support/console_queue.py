"""The agent console's queue: the cases waiting for a person in the agent's stores, and what changed.

The most urgent case comes first, and a flood of old spam can neither hide a new case nor
keep agents busy closing it one by one; the live feed tells every open console what to
refresh, so agents see a new case or message without reloading.

Every query takes the agent's stores and filters on them: an agent never
sees, or changes, another store's cases.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import utc_now
from bot.core.models import Agent, Conversation, Escalation, EscalationStatus, Order, Store, iso_utc
from bot.core.refusals import Refusal
from bot.support.console_sessions import SignedInAgent
from bot.support.escalations import ACTIVE_STATUSES, PRIORITY_RANK, REASON_TITLES

#: The queue comes in pages of this many cases (at most QUEUE_PAGE_MAX when asked).
QUEUE_PAGE = 50
QUEUE_PAGE_MAX = 200
#: The queue's orders, both most urgent first: then newest first, or longest waiting first.
QUEUE_ORDERS = ("newest", "oldest")
#: At most this many cases closed as spam in one request.
SPAM_BATCH_MAX = 200
_CURSOR = re.compile(r"^(\d{1,2})\.(\d{1,17})\.(\d{1,10})$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


class BadQueueRequest(Refusal, ValueError):
    """A queue page or a spam batch asked for with parameters that make no sense; the message says why."""


@dataclass(frozen=True)
class QueueCursor:
    """Where the next page of the queue starts: after this case, in the queue's order."""

    rank: int
    created_at: dt.datetime
    id: int

    def __str__(self) -> str:
        return f"{self.rank}.{(self.created_at - _EPOCH) // _MICROSECOND}.{self.id}"

    @classmethod
    def parse(cls, text: str) -> QueueCursor:
        match = _CURSOR.match(text)
        if match is None:
            raise BadQueueRequest("queue_cursor_invalid")
        rank, micros, ident = (int(part) for part in match.groups())
        if ident >= 2**31:  # what the id column can hold
            raise BadQueueRequest("queue_cursor_invalid")
        try:
            return cls(rank, _EPOCH + micros * _MICROSECOND, ident)
        except OverflowError:
            raise BadQueueRequest("queue_cursor_invalid") from None


#: A case's place in the queue: urgent, high, then normal (and anything else last).
_PRIORITY_RANK = case(PRIORITY_RANK, value=Escalation.priority, else_=len(PRIORITY_RANK))


@dataclass(frozen=True)
class Change:
    """Something an agent's console should refresh: the queue, or one conversation."""

    kind: str  # "queue" or "conversation"
    store_id: str
    conversation_id: str
    #: When it changed, so a feed that looks back a little can skip what it already sent.
    at: dt.datetime


def with_wait(escalation: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """An escalation as the console shows it: its time as text, and how long it has been waiting."""
    created: dt.datetime = escalation["created_at"]
    return {
        **escalation,
        "created_at": iso_utc(created),
        "waiting_seconds": max(0, int((now - created).total_seconds())),
    }


def escalation_select(*extra: Any) -> Select[Any]:
    """An escalation with its store's name, its order's number and its claimer's name."""
    return (
        select(Escalation, Store.name, Order.order_number, Agent.name, *extra)
        .join(Store, Store.id == Escalation.store_id)
        .outerjoin(Order, and_(Order.id == Escalation.order_id, Order.store_id == Escalation.store_id))
        .outerjoin(Agent, Agent.id == Escalation.claimed_by)
    )


def escalation_json(e: Escalation, store_name: str, order_number: str | None, claimed_name: str | None) -> dict[str, Any]:
    """A row of :func:`escalation_select` as the queue and the conversation view show it."""
    return {
        "id": e.id,
        "reference": f"E-{e.id}",
        "store_id": e.store_id,
        "store_name": store_name,
        "conversation_id": e.conversation_id,
        "reason": e.reason,
        "reason_title": REASON_TITLES.get(e.reason, e.reason.replace("_", " ").capitalize()),
        "priority": e.priority,
        "summary": e.summary,
        "details": e.details,
        "order_number": order_number,
        "status": e.status,
        "created_at": e.created_at,
        "claimed_by": {"id": e.claimed_by, "name": claimed_name} if e.claimed_by else None,
    }


class ConsoleQueue:
    """The queue of the agent's stores, closing cases as spam, and what changed for the live feed."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # --- reading ---

    async def queue(
        self,
        agent: SignedInAgent,
        now: dt.datetime | None = None,
        *,
        limit: int = QUEUE_PAGE,
        cursor: str | None = None,
        order: str = "newest",
    ) -> dict[str, Any]:
        """One page of the open and claimed escalations of the agent's stores.

        Most urgent first, then the newest (``order="newest"``, the default: a flood of
        old spam never hides a new case) or the longest waiting (``"oldest"``). Pages
        follow one another with ``next_cursor``; ``total`` and ``waiting`` count them all.
        """
        now = now or utc_now()
        if order not in QUEUE_ORDERS:
            raise BadQueueRequest("queue_order_invalid", orders=", ".join(QUEUE_ORDERS))
        if not 1 <= limit <= QUEUE_PAGE_MAX:
            raise BadQueueRequest("queue_limit_out_of_range", max=QUEUE_PAGE_MAX)
        mine = and_(Escalation.store_id.in_(agent.store_ids), Escalation.status.in_(ACTIVE_STATUSES))
        newest = order == "newest"
        where = mine
        if cursor:
            after = QueueCursor.parse(cursor)
            later = Escalation.created_at < after.created_at if newest else Escalation.created_at > after.created_at
            next_id = Escalation.id < after.id if newest else Escalation.id > after.id
            where = and_(
                mine,
                or_(
                    _PRIORITY_RANK > after.rank,  # noqa: SIM300 - a SQL expression, the column side first
                    and_(
                        _PRIORITY_RANK == after.rank,  # noqa: SIM300
                        or_(later, and_(Escalation.created_at == after.created_at, next_id)),
                    ),
                ),
            )
        by_time = (Escalation.created_at.desc(), Escalation.id.desc()) if newest else (Escalation.created_at, Escalation.id)
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    escalation_select(_PRIORITY_RANK).where(where).order_by(_PRIORITY_RANK, *by_time).limit(limit + 1)
                )
            ).all()
            counts = (
                await session.execute(
                    select(func.count(), func.count().filter(Escalation.status == EscalationStatus.open.value)).where(mine)
                )
            ).one()
        page = rows[:limit]
        next_cursor = None
        if len(rows) > limit:
            last = page[-1]
            next_cursor = str(QueueCursor(last[-1], last[0].created_at, last[0].id))
        return {
            "escalations": [with_wait(escalation_json(*row[:4]), now) for row in page],
            "next_cursor": next_cursor,
            "total": int(counts[0]),
            "waiting": int(counts[1]),
        }

    async def close_as_spam(self, agent: SignedInAgent, escalation_ids: Collection[int]) -> list[tuple[int, str, str]]:
        """Close waiting (unclaimed) cases of the agent's stores as spam, in one statement.

        Returns (id, store, conversation) of each case closed; any other id (another store's,
        claimed, closed already, unknown) is left as it is. The shopper is told nothing.
        """
        ids = sorted(set(escalation_ids))
        if not ids:
            return []
        if len(ids) > SPAM_BATCH_MAX:
            raise BadQueueRequest("spam_batch_too_large", max=SPAM_BATCH_MAX)
        now = utc_now()
        async with self._sessions() as session, session.begin():
            closed = (
                await session.execute(
                    update(Escalation)
                    .where(
                        Escalation.id.in_(ids),
                        Escalation.store_id.in_(agent.store_ids),
                        Escalation.status == EscalationStatus.open.value,
                    )
                    .values(status=EscalationStatus.spam.value, closed_at=now, updated_at=now)
                    .returning(Escalation.id, Escalation.store_id, Escalation.conversation_id)
                    .execution_options(synchronize_session=False)
                )
            ).all()
        return sorted((row[0], row[1], row[2]) for row in closed)

    # --- the live feed ---

    async def changes_since(self, store_ids: Collection[str], since: dt.datetime) -> list[Change]:
        """What changed in these stores after ``since``: escalations (the queue) and transcripts."""
        if not store_ids:
            return []
        async with self._sessions() as session:
            escalated = (
                await session.execute(
                    select(Escalation.store_id, Escalation.conversation_id, func.max(Escalation.updated_at))
                    .where(Escalation.store_id.in_(store_ids), Escalation.updated_at > since)
                    .group_by(Escalation.store_id, Escalation.conversation_id)
                )
            ).all()
            talked = (
                await session.execute(
                    select(
                        Conversation.store_id, Conversation.id, Conversation.last_message_at, Conversation.handled_since
                    ).where(
                        Conversation.store_id.in_(store_ids),
                        or_(Conversation.last_message_at > since, Conversation.handled_since > since),
                    )
                )
            ).all()
        changes = [Change("queue", store, conversation, at) for store, conversation, at in escalated]
        changes += [Change("conversation", store, conversation, at) for store, conversation, at in escalated]
        changes += [
            Change("conversation", store, conversation, max(t for t in (said, handled) if t is not None))
            for store, conversation, said, handled in talked
        ]
        return changes
