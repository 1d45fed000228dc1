"""Handoff: an agent takes a conversation over from the bot and gives it back.

The lifecycle of an escalation is open → claimed → handed back or resolved.
Claiming sets ``conversations.handled_by`` with a conditional update, so two
agents can never both hold one conversation, and pauses the conversation in
Rasa (ConversationPaused): the bot is silent while Rasa keeps recording the
shopper's messages. Handing back or resolving resumes it.

Every query takes the agent's stores and filters on them: an agent never
sees, or changes, another store's conversations.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.chat.conversations import ChatSession, ConversationService, NewMessage, StoredMessage
from bot.chat.rasa_client import RasaClient
from bot.core.clock import utc_now
from bot.core.db import rows_changed
from bot.core.models import (
    Agent,
    CannedReply,
    Conversation,
    ConversationNote,
    Escalation,
    EscalationStatus,
    Message,
    Order,
    Shipment,
    Store,
    iso_utc,
)
from bot.core.refusals import Refusal
from bot.support.agents import SignedInAgent
from bot.support.escalations import ACTIVE_STATUSES, PRIORITY_RANK, REASON_TITLES

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 2000
MAX_NOTE_CHARS = 4000
TRANSCRIPT_LIMIT = 500
QUEUE_LIMIT = 500
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
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class NotFound(LookupError):
    """No such conversation in the agent's stores (another store's looks the same)."""


class Conflict(Refusal, RuntimeError):
    """The conversation is not in the state the request needs; the message says why."""


class EngineUnavailable(RuntimeError):
    """Rasa did not take the pause or resume; nothing was changed."""


class BadText(Refusal, ValueError):
    """A reply or note that is not text an agent can send."""


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


def clean_text(text: Any, limit: int) -> str:
    if not isinstance(text, str):
        raise BadText("text_not_string")
    cleaned = _CONTROL.sub("", text).strip()
    if not cleaned:
        raise BadText("text_empty")
    if len(cleaned) > limit:
        raise BadText("text_too_long", limit=limit)
    return cleaned


@dataclass(frozen=True)
class Change:
    """Something an agent's console should refresh: the queue, or one conversation."""

    kind: str  # "queue" or "conversation"
    store_id: str
    conversation_id: str
    #: When it changed, so a feed that looks back a little can skip what it already sent.
    at: dt.datetime


class HandoffService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], conversations: ConversationService, rasa: RasaClient
    ) -> None:
        self._sessions = sessions
        self._conversations = conversations
        self._rasa = rasa

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
                    self._escalation_select(_PRIORITY_RANK).where(where).order_by(_PRIORITY_RANK, *by_time).limit(limit + 1)
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
            "escalations": [self._with_wait(self._escalation_json(*row[:4]), now) for row in page],
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

    @staticmethod
    def _with_wait(escalation: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        created: dt.datetime = escalation["created_at"]
        return {
            **escalation,
            "created_at": iso_utc(created),
            "waiting_seconds": max(0, int((now - created).total_seconds())),
        }

    @staticmethod
    def _escalation_select(*extra: Any) -> Select[Any]:
        """An escalation with its store's name, its order's number and its claimer's name."""
        return (
            select(Escalation, Store.name, Order.order_number, Agent.name, *extra)
            .join(Store, Store.id == Escalation.store_id)
            .outerjoin(Order, and_(Order.id == Escalation.order_id, Order.store_id == Escalation.store_id))
            .outerjoin(Agent, Agent.id == Escalation.claimed_by)
        )

    @staticmethod
    def _escalation_json(
        e: Escalation, store_name: str, order_number: str | None, claimed_name: str | None
    ) -> dict[str, Any]:
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

    @classmethod
    async def _escalations(cls, session: AsyncSession, where: Any) -> list[dict[str, Any]]:
        """One conversation's escalations, oldest first."""
        rows = (
            await session.execute(
                cls._escalation_select().where(where).order_by(Escalation.created_at, Escalation.id).limit(QUEUE_LIMIT * 2)
            )
        ).all()
        return [cls._escalation_json(*row) for row in rows]

    async def _conversation(self, session: AsyncSession, agent: SignedInAgent, conversation_id: str) -> Conversation:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.id == conversation_id, Conversation.store_id.in_(agent.store_ids))
        )
        if conversation is None:
            raise NotFound(conversation_id)
        return conversation

    async def conversation(
        self, agent: SignedInAgent, conversation_id: str, now: dt.datetime | None = None
    ) -> dict[str, Any]:
        """Everything the conversation view shows: transcript, order, escalations, notes, canned replies."""
        now = now or utc_now()
        async with self._sessions() as session:
            conversation = await self._conversation(session, agent, conversation_id)
            store_id = conversation.store_id
            store_name = await session.scalar(select(Store.name).where(Store.id == store_id))
            handler = await session.get(Agent, conversation.handled_by) if conversation.handled_by else None
            messages = list(
                (
                    await session.scalars(
                        select(Message)
                        .where(Message.conversation_id == conversation_id, Message.store_id == store_id)
                        .order_by(Message.seq.desc())
                        .limit(TRANSCRIPT_LIMIT)
                    )
                ).all()
            )[::-1]
            escalations = await self._escalations(
                session, and_(Escalation.conversation_id == conversation_id, Escalation.store_id == store_id)
            )
            order = await self._order_for(session, conversation, escalations)
            notes = (
                await session.scalars(
                    select(ConversationNote)
                    .where(ConversationNote.conversation_id == conversation_id, ConversationNote.store_id == store_id)
                    .order_by(ConversationNote.created_at, ConversationNote.id)
                )
            ).all()
            canned = (
                await session.scalars(
                    select(CannedReply).where(CannedReply.store_id == store_id).order_by(CannedReply.title)
                )
            ).all()
        return {
            "conversation": {
                "id": conversation.id,
                "store_id": store_id,
                "store_name": store_name,
                "shopper_email": conversation.shopper_email,
                "shopper_name": order.shopper_name if order else None,
                "handled_by": {"id": handler.id, "name": handler.name} if handler else None,
                "mine": conversation.handled_by == agent.id,
            },
            "messages": [
                {
                    "seq": m.seq,
                    "sender": m.sender,
                    "author": m.author,
                    "text": m.text,
                    "buttons": list(m.buttons or []),
                    "attachment": m.attachment,
                    "created_at": iso_utc(m.created_at),
                }
                for m in messages
            ],
            "escalations": [self._with_wait(e, now) for e in escalations],
            "order": self._order_json(order) if order else None,
            "notes": [self._note_json(n) for n in notes],
            "canned_replies": [{"id": c.id, "title": c.title, "text": c.text} for c in canned],
        }

    @staticmethod
    async def _order_for(
        session: AsyncSession, conversation: Conversation, escalations: list[dict[str, Any]]
    ) -> Order | None:
        """The order the escalation names, else the identified shopper's latest order with the store."""
        load = (selectinload(Order.items), selectinload(Order.shipments).selectinload(Shipment.events))
        numbers = [e["order_number"] for e in reversed(escalations) if e["order_number"]]
        if numbers:
            return await session.scalar(
                select(Order).where(Order.store_id == conversation.store_id, Order.order_number == numbers[0]).options(*load)
            )
        if conversation.shopper_email:
            return await session.scalar(
                select(Order)
                .where(Order.store_id == conversation.store_id, Order.shopper_email == conversation.shopper_email)
                .order_by(Order.placed_at.desc())
                .limit(1)
                .options(*load)
            )
        return None

    @staticmethod
    def _order_json(order: Order) -> dict[str, Any]:
        return {
            "order_number": order.order_number,
            "status": order.status,
            "placed_at": iso_utc(order.placed_at),
            "shopper_name": order.shopper_name,
            "items": [{"sku": i.sku, "name": i.name, "quantity": i.quantity} for i in order.items],
            "shipments": [
                {
                    "carrier": s.carrier,
                    "tracking_number": s.tracking_number,
                    "tracking_url": s.tracking_url,
                    "status": s.status,
                    "estimated_delivery": iso_utc(s.estimated_delivery),
                    "delivered_at": iso_utc(s.delivered_at),
                    "events": [
                        {"occurred_at": iso_utc(e.occurred_at), "location": e.location, "tag": e.tag, "message": e.message}
                        for e in sorted(s.events, key=lambda e: e.occurred_at, reverse=True)
                    ],
                }
                for s in order.shipments
            ],
        }

    @staticmethod
    def _note_json(note: ConversationNote) -> dict[str, Any]:
        return {"id": note.id, "author": note.author, "text": note.text, "created_at": iso_utc(note.created_at)}

    # --- taking over and giving back ---

    async def claim(self, agent: SignedInAgent, conversation_id: str) -> None:
        """Take the conversation over: only one agent ever wins, and the bot goes quiet."""
        now = utc_now()
        async with self._sessions() as session, session.begin():
            conversation = await self._conversation(session, agent, conversation_id)
            won = await session.execute(
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.store_id == conversation.store_id,
                    Conversation.handled_by.is_(None),
                )
                .values(handled_by=agent.id, handled_since=now)
                .execution_options(synchronize_session=False)
            )
            if rows_changed(won) != 1:
                holder = await session.scalar(
                    select(Agent.name)
                    .join(Conversation, Conversation.handled_by == Agent.id)
                    .where(Conversation.id == conversation_id)
                )
                raise Conflict("conversation_claimed_by", holder=holder) if holder else Conflict("conversation_claimed")
            await session.execute(
                update(Escalation)
                .where(
                    Escalation.conversation_id == conversation_id,
                    Escalation.store_id == conversation.store_id,
                    Escalation.status.in_(ACTIVE_STATUSES),
                )
                .values(status=EscalationStatus.claimed.value, claimed_by=agent.id, claimed_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            store_name = await session.scalar(select(Store.name).where(Store.id == conversation.store_id))
            await self._conversations.append_in(
                session,
                self._chat(conversation),
                [NewMessage("store", f"{agent.name} from {store_name} has joined the chat.")],
            )
            # Inside the transaction: if Rasa refuses, the claim is undone and the bot keeps answering.
            await self._engine(self._rasa.pause(conversation_id))

    async def release(self, agent: SignedInAgent, conversation_id: str, outcome: EscalationStatus) -> None:
        """Hand the conversation back to the bot (``handed_back``) or close its case (``resolved``)."""
        now = utc_now()
        async with self._sessions() as session, session.begin():
            conversation = await self._conversation(session, agent, conversation_id)
            released = await session.execute(
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.store_id == conversation.store_id,
                    Conversation.handled_by == agent.id,
                )
                .values(handled_by=None, handled_since=None)
                .execution_options(synchronize_session=False)
            )
            if rows_changed(released) != 1:
                raise Conflict("conversation_not_yours")
            await session.execute(
                update(Escalation)
                .where(
                    Escalation.conversation_id == conversation_id,
                    Escalation.store_id == conversation.store_id,
                    Escalation.status.in_(ACTIVE_STATUSES),
                )
                .values(status=outcome.value, closed_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            text = (
                f"{agent.name} has handed you back to the assistant. Ask me anything, or ask for a person again at any time."
                if outcome is EscalationStatus.handed_back
                else f"{agent.name} has marked this resolved. If you need anything else, just write here."
            )
            await self._conversations.append_in(session, self._chat(conversation), [NewMessage("store", text)])
            await self._engine(self._rasa.resume(conversation_id))

    @staticmethod
    async def _engine(call: Any) -> None:
        try:
            await call
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise EngineUnavailable(str(exc)) from exc

    @staticmethod
    def _chat(conversation: Conversation) -> ChatSession:
        return ChatSession(conversation.id, conversation.store_id, conversation.shopper_email)

    # --- writing ---

    async def reply(self, agent: SignedInAgent, conversation_id: str, text: Any) -> tuple[str, StoredMessage]:
        """The agent's answer: into the transcript (the shopper's widget shows it) and Rasa's tracker.
        Returns the conversation's store and the stored message."""
        body = clean_text(text, MAX_REPLY_CHARS)
        async with self._sessions() as session, session.begin():
            conversation = await self._conversation(session, agent, conversation_id)
            # Locks the row on PostgreSQL, so a concurrent hand-back cannot slip in between.
            holder = await session.scalar(
                select(Conversation.handled_by).where(Conversation.id == conversation_id).with_for_update()
            )
            if holder != agent.id:
                raise Conflict("claim_before_reply")
            [stored] = await self._conversations.append_in(
                session, self._chat(conversation), [NewMessage("agent", body, author=agent.name)]
            )
        try:
            await self._rasa.append_events(
                conversation_id, [{"event": "bot", "text": body, "metadata": {"agent": agent.name, "agent_id": agent.id}}]
            )
        except (TimeoutError, aiohttp.ClientError):
            # The shopper has it (the transcript is what the widget shows); Rasa's copy is history only.
            log.warning("Rasa did not record agent reply in %s", conversation_id, exc_info=True)
        return conversation.store_id, stored

    async def note(self, agent: SignedInAgent, conversation_id: str, text: Any) -> tuple[str, dict[str, Any]]:
        """An internal note (never in the shopper's transcript); returns the store and the note."""
        body = clean_text(text, MAX_NOTE_CHARS)
        async with self._sessions() as session, session.begin():
            conversation = await self._conversation(session, agent, conversation_id)
            note = ConversationNote(
                store_id=conversation.store_id,
                conversation_id=conversation_id,
                agent_id=agent.id,
                author=agent.name,
                text=body,
            )
            session.add(note)
            await session.flush()
            return conversation.store_id, self._note_json(note)

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
