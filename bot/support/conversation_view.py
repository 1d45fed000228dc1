"""The agent console's view of one conversation: everything an agent needs to help the shopper.

The transcript, the order (items, shipments and their tracking), the case's escalations, the
team's internal notes and the store's canned replies, in one answer.

Every query takes the agent's stores and filters on them: an agent never
sees another store's conversations (another store's looks like no conversation at all).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.core.clock import utc_now
from bot.core.models import (
    Agent,
    CannedReply,
    Conversation,
    ConversationNote,
    Escalation,
    Message,
    Order,
    Photo,
    Shipment,
    Store,
    iso_utc,
)
from bot.photos.conversation_photos import photo_json
from bot.support.console_queue import escalation_json, escalation_select, with_wait
from bot.support.console_sessions import SignedInAgent

TRANSCRIPT_LIMIT = 500
QUEUE_LIMIT = 500


class NotFound(LookupError):
    """No such conversation in the agent's stores (another store's looks the same)."""


def note_json(note: ConversationNote) -> dict[str, Any]:
    """An internal note as the conversation view shows it."""
    return {"id": note.id, "author": note.author, "text": note.text, "created_at": iso_utc(note.created_at)}


class ConversationView:
    """One conversation as an agent sees it, and the store-scoped lookup of a conversation that
    every change to one starts with (:meth:`locate`)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @staticmethod
    async def _escalations(session: AsyncSession, where: Any) -> list[dict[str, Any]]:
        """One conversation's escalations, oldest first."""
        rows = (
            await session.execute(
                escalation_select().where(where).order_by(Escalation.created_at, Escalation.id).limit(QUEUE_LIMIT * 2)
            )
        ).all()
        return [escalation_json(*row) for row in rows]

    @staticmethod
    async def locate(session: AsyncSession, agent: SignedInAgent, conversation_id: str) -> Conversation:
        """The conversation, in the caller's transaction, if it is one of the agent's stores';
        :class:`NotFound` otherwise (another store's looks like none at all)."""
        conversation = await session.scalar(
            select(Conversation).where(Conversation.id == conversation_id, Conversation.store_id.in_(agent.store_ids))
        )
        if conversation is None:
            raise NotFound(conversation_id)
        return conversation

    async def conversation(
        self, agent: SignedInAgent, conversation_id: str, now: dt.datetime | None = None
    ) -> dict[str, Any]:
        """Everything the conversation view shows: transcript, order, escalations with their photos,
        notes, canned replies."""
        now = now or utc_now()
        async with self._sessions() as session:
            conversation = await self.locate(session, agent, conversation_id)
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
            case_photos: dict[int, list[dict[str, Any]]] = {e["id"]: [] for e in escalations}
            if case_photos:
                for photo in await session.scalars(
                    select(Photo)
                    .where(Photo.store_id == store_id, Photo.escalation_id.in_(case_photos))
                    .order_by(Photo.created_at, Photo.id)
                ):
                    case_photos[photo.escalation_id or 0].append(photo_json(photo))
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
            # Each case with its photos: the agent's gallery (open one with /agent/api/photos/{id}).
            "escalations": [{**with_wait(e, now), "photos": case_photos[e["id"]]} for e in escalations],
            "order": self._order_json(order) if order else None,
            "notes": [note_json(n) for n in notes],
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
