"""Erasing a shopper's data at one store, when the shopper asks the store to (a GDPR-style request
the store's seller passes on through the seller API or ``python -m bot erase-shopper``).

For one store and one email address, what is deleted:

- every conversation of the store with that shopper: signed in with the address (``shopper_email``)
  or having proved an order of that address (``contact_email``). With each go its messages, the
  tokens that open it, the emails sent about it and the mail that came back to it, its escalations
  (with the shopper's own words) and the agents' notes on it, by the database's cascade;
- the photos of those conversations, rows and bytes: erased through
  :meth:`ConversationPhotos.erase_conversation` before the conversation is deleted, since the
  cascade would take the rows but leave the bytes kept on disk or in S3;
- the ratings and words the shopper left (``reviews``), in those conversations or on the store's
  orders for that address;
- the jobs about those conversations (an unanswered message's retry holds its text, an unread
  email's job the burst to send), whatever their state.

What is kept, and why:

- the store's orders with that address (and their items and shipments): the store's accounting
  and warranty records, which it must keep, and which came from its own shop system anyway;
- the review-invitation log: the seller's compliance record, which names orders, not shoppers;
- the address in ``review_opt_outs`` and ``email_suppressions``: they exist so that the store never
  asks or emails that shopper again, which erasing them would undo;
- another store's data with the same address: each store answers for its own shoppers.

Not erased here: Rasa's tracker store (a separate database, Rasa's own) keeps each conversation's
events, the shopper's messages among them, under the conversation's random id
(docs/seller-console-and-api.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.unanswered import UNANSWERED_TURN
from bot.core.db import rows_changed
from bot.core.models import Conversation, Order, Photo, Review, ScheduledJob, Store
from bot.core.refusals import Refusal
from bot.email.unread_messages import UNREAD_EMAIL
from bot.photos.conversation_photos import ConversationPhotos

log = logging.getLogger(__name__)

#: Job kinds whose key starts with ``<kind>:<conversation id>:``: the jobs about one conversation.
CONVERSATION_JOB_KINDS = (UNANSWERED_TURN, UNREAD_EMAIL)
#: The longest address the store database keeps (``conversations.shopper_email``).
MAX_EMAIL_CHARS = 320
#: A photo added to a conversation while it was being erased is erased in another round, at most this many.
ROUNDS = 3


class ErasureRefused(Refusal, ValueError):
    """The request names no usable email address."""


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure deleted, counted."""

    conversations: int
    photos: int
    reviews: int

    def as_json(self) -> dict[str, int]:
        return {"conversations": self.conversations, "photos": self.photos, "reviews": self.reviews}


def erasure_address(email: object) -> str:
    """The address as the store database keeps it (trimmed, lower case); :class:`ErasureRefused` if
    it is not one."""
    if not isinstance(email, str):
        raise ErasureRefused("erasure_email_invalid", max=MAX_EMAIL_CHARS)
    address = email.strip().lower()
    local, at, domain = address.partition("@")
    if not (local and at and domain) or len(address) > MAX_EMAIL_CHARS or any(c.isspace() for c in address):
        raise ErasureRefused("erasure_email_invalid", max=MAX_EMAIL_CHARS)
    return address


class ShopperErasure:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], photos: ConversationPhotos) -> None:
        self._sessions = sessions
        self._photos = photos

    async def erase(self, store_id: str, email: object) -> ErasureReport:
        """Erase the shopper with this address at this store (see the module); :class:`ErasureRefused`
        for no usable address, :class:`LookupError` for no such store. Erasing again finds nothing."""
        address = erasure_address(email)
        async with self._sessions() as session:
            if await session.scalar(select(Store.id).where(Store.id == store_id)) is None:
                raise LookupError(store_id)
            conversation_ids = list(
                (
                    await session.scalars(
                        select(Conversation.id).where(
                            Conversation.store_id == store_id,
                            or_(Conversation.shopper_email == address, Conversation.contact_email == address),
                        )
                    )
                ).all()
            )
        photos = 0
        for _ in range(ROUNDS):
            for conversation_id in conversation_ids:
                photos += await self._photos.erase_conversation(store_id, conversation_id)
            async with self._sessions() as session, session.begin():
                if conversation_ids and await self._photos_left(session, store_id, conversation_ids):
                    continue  # a photo arrived meanwhile: its bytes must go before its row does
                reviews = await self._delete_rest(session, store_id, address, conversation_ids)
                break
        else:
            raise RuntimeError(f"photos kept arriving in the conversations being erased at {store_id}")
        report = ErasureReport(len(conversation_ids), photos, reviews)
        # The address stays out of the log (personal data); the counts are the seller's audit.
        log.info("erased a shopper's data at %s: %s", store_id, report.as_json())
        return report

    @staticmethod
    async def _photos_left(session: AsyncSession, store_id: str, conversation_ids: list[str]) -> bool:
        left = await session.scalar(
            select(Photo.id).where(Photo.store_id == store_id, Photo.conversation_id.in_(conversation_ids)).limit(1)
        )
        return left is not None

    @staticmethod
    async def _delete_rest(session: AsyncSession, store_id: str, address: str, conversation_ids: list[str]) -> int:
        """In one transaction: the reviews, the conversations' jobs, the conversations (and what cascades)."""
        orders = select(Order.id).where(Order.store_id == store_id, Order.shopper_email == address)
        reviews = rows_changed(
            await session.execute(
                delete(Review).where(
                    Review.store_id == store_id,
                    or_(Review.order_id.in_(orders), Review.conversation_id.in_(conversation_ids)),
                )
            )
        )
        for conversation_id in conversation_ids:
            for kind in CONVERSATION_JOB_KINDS:
                await session.execute(
                    delete(ScheduledJob).where(
                        ScheduledJob.store_id == store_id,
                        ScheduledJob.kind == kind,
                        # autoescape: a conversation id may hold "_", which LIKE reads as any character.
                        ScheduledJob.key.startswith(f"{kind}:{conversation_id}:", autoescape=True),
                    )
                )
        if conversation_ids:
            await session.execute(
                delete(Conversation).where(Conversation.store_id == store_id, Conversation.id.in_(conversation_ids))
            )
        return reviews
