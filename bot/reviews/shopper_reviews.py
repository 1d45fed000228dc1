"""What a shopper gives and asks for after delivery: which of their orders a review is for, their
rating and words, their opt-out from invitations, and the store's review link; and, for the
seller, the store's review-invitation log as CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.chat.conversations import UnknownStore
from bot.core.clock import utc_now
from bot.core.db import dialect_insert
from bot.core.models import (
    Conversation,
    Order,
    OrderStatus,
    Review,
    ReviewLogEntry,
    ReviewOptOut,
    Shipment,
    Store,
)
from bot.orders.lookup import order_lookup_key
from bot.seller.templates import first_name, render, store_templates

#: Shoppers' review text is kept to this many characters.
MAX_REVIEW_CHARS = 2000
_UTC = dt.UTC


@dataclass(frozen=True)
class ReviewableOrder:
    store_id: str
    order_id: int
    order_number: str
    skus: list[str]
    item_names: list[str]
    shopper_email: str
    shopper_name: str = ""


def fill_review_url(template: str, order_number: str, sku: str | None) -> str:
    """The store's review link with ``{order_number}`` and ``{sku}`` filled in, URL-encoded.
    str.replace, never str.format: the template is the seller's text."""
    return template.replace("{order_number}", quote(order_number, safe="")).replace("{sku}", quote(sku or "", safe=""))


def _csv_cell(value: str) -> str:
    """Seller data that a spreadsheet would run as a formula is kept as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _opt_out_key(shopper_email: str) -> str:
    # One form per address, whoever writes it (the chat, an email's unsubscribe link, an order's import).
    return shopper_email.strip().lower()


async def opt_out_of_reviews(session: AsyncSession, store_id: str, shopper_email: str, now: dt.datetime) -> bool:
    """Never ask this shopper for a review again, in the chat or by email; True if this opted them out."""
    inserted = await session.scalar(
        dialect_insert(session, ReviewOptOut)
        .values(store_id=store_id, shopper_email=_opt_out_key(shopper_email), created_at=now)
        .on_conflict_do_nothing(index_elements=["store_id", "shopper_email"])
        .returning(ReviewOptOut.shopper_email)
    )
    return inserted is not None


async def opted_out_of_reviews(session: AsyncSession, store_id: str, shopper_email: str) -> bool:
    found = await session.scalar(
        select(ReviewOptOut.shopper_email).where(
            ReviewOptOut.store_id == store_id, ReviewOptOut.shopper_email == _opt_out_key(shopper_email)
        )
    )
    return found is not None


class ReviewService:
    """The chat's side: which order a review is for, ratings, opt-outs, the review link, the log."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def order_for_review(self, conversation_id: str, order_number: str | None) -> ReviewableOrder | None:
        """The identified shopper's delivered order (the latest one if no number is given), or None."""
        async with self._sessions() as session:
            conversation = await session.scalar(select(Conversation).where(Conversation.id == conversation_id))
            if conversation is None or not conversation.shopper_email:
                return None
            store_id, email = conversation.store_id, conversation.shopper_email
            delivered = (
                select(Shipment.order_id, Shipment.delivered_at)
                .where(Shipment.store_id == store_id, Shipment.delivered_at.is_not(None))
                .subquery()
            )
            query = (
                select(Order)
                .join(delivered, delivered.c.order_id == Order.id)
                .where(
                    Order.store_id == store_id,
                    Order.shopper_email == email,
                    Order.status == OrderStatus.delivered.value,
                )
                .options(selectinload(Order.items))
                .order_by(delivered.c.delivered_at.desc(), Order.id.desc())
                .limit(1)
            )
            if order_number is not None:
                key = order_lookup_key(order_number)
                if not key:
                    return None
                query = query.where(Order.lookup_key == key)
            order = await session.scalar(query)
            if order is None:
                return None
            return ReviewableOrder(
                store_id=order.store_id,
                order_id=order.id,
                order_number=order.order_number,
                skus=[item.sku for item in order.items],
                item_names=[item.name for item in order.items],
                shopper_email=order.shopper_email,
                shopper_name=order.shopper_name,
            )

    async def message(self, order: ReviewableOrder, template: str) -> str:
        """One of the store's templates (``review_invitation``, ``review_thanks``) filled in for the order.
        Read when a message is written, so the seller's latest words are used."""
        async with self._sessions() as session:
            store_name = await session.scalar(select(Store.name).where(Store.id == order.store_id)) or ""
            templates = await store_templates(session, order.store_id)
        return render(
            templates[template],
            {
                "shopper_first_name": first_name(order.shopper_name),
                "store_name": store_name,
                "order_number": order.order_number,
                "item_names": ", ".join(order.item_names),
            },
        )

    async def record_review(self, store_id: str, conversation_id: str | None, order_id: int, rating: int, text: str) -> None:
        """Keep the shopper's rating (1 to 5) and words; a second rating for the order replaces the first."""
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValueError(f"a rating is a whole number from 1 to 5, not {rating!r}")
        words = (text or "").strip()[:MAX_REVIEW_CHARS]
        now = utc_now()
        async with self._sessions() as session, session.begin():
            owner = await session.scalar(select(Order.id).where(Order.id == order_id, Order.store_id == store_id))
            if owner is None:
                raise LookupError(f"no order {order_id} in store {store_id!r}")
            insert = dialect_insert(session, Review).values(
                store_id=store_id,
                order_id=order_id,
                conversation_id=conversation_id,
                rating=rating,
                text=words,
                created_at=now,
            )
            await session.execute(
                insert.on_conflict_do_update(
                    index_elements=["store_id", "order_id"],
                    set_={"rating": rating, "text": words, "conversation_id": conversation_id, "created_at": now},
                )
            )

    async def opt_out(self, store_id: str, shopper_email: str) -> bool:
        """Never ask this shopper for a review again; True if this call opted them out."""
        async with self._sessions() as session, session.begin():
            return await opt_out_of_reviews(session, store_id, shopper_email, utc_now())

    async def is_opted_out(self, store_id: str, shopper_email: str) -> bool:
        async with self._sessions() as session:
            return await opted_out_of_reviews(session, store_id, shopper_email)

    async def review_link(self, store_id: str, order_number: str, sku: str | None) -> str | None:
        """The store's review URL for the order (and product), or None if the store has none."""
        async with self._sessions() as session:
            template = await session.scalar(select(Store.review_url).where(Store.id == store_id))
        return fill_review_url(template, order_number, sku) if template else None

    async def export_log(self, store_id: str) -> str:
        """The store's review log as CSV (``at,order_number,action,reason``, UTC times), oldest first."""
        async with self._sessions() as session:
            if await session.scalar(select(Store.id).where(Store.id == store_id)) is None:
                raise UnknownStore(store_id)
            rows = (
                await session.execute(
                    select(ReviewLogEntry.at, ReviewLogEntry.order_number, ReviewLogEntry.action, ReviewLogEntry.reason)
                    .where(ReviewLogEntry.store_id == store_id)
                    .order_by(ReviewLogEntry.at, ReviewLogEntry.id)
                )
            ).all()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["at", "order_number", "action", "reason"])
        for at, order_number, action, reason in rows:
            when = at.astimezone(_UTC).isoformat().replace("+00:00", "Z")
            writer.writerow([when, _csv_cell(order_number), action, reason])
        return out.getvalue()
