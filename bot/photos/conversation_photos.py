"""The photos of conversations: adding one (within the daily limit), serving it only to those who may
see it, attaching it to a message or a case, and deleting photos on erasure and after retention.

Every query is scoped by the store or the conversation asking; a photo id alone opens nothing.
Rows live in ``photos``; the bytes in a :class:`~bot.photos.storage.PhotoStorage`, under keys made
from the photo's id, which this module alone knows, so it deletes both together.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Sequence
from typing import Literal, Protocol

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import utc_now
from bot.core.db import rows_changed
from bot.core.models import Conversation, Escalation, EscalationStatus, Message, Photo, Store
from bot.core.refusals import Refusal
from bot.photos.images import PhotoRefused
from bot.photos.storage import PhotoStorage

log = logging.getLogger(__name__)

Variant = Literal["full", "thumbnail"]
Sender = Literal["shopper", "agent"]
#: Photos deleted per transaction when a retention purge or an erasure has many.
DELETE_BATCH = 500


class PreparedImage(Protocol):
    """What bot/photos/images.py's ``prepare_photo`` gives (``PreparedPhoto``): a JPEG with no
    metadata left, its thumbnail, and its size."""

    @property
    def jpeg(self) -> bytes: ...
    @property
    def thumbnail(self) -> bytes: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


class PhotoLimitReached(PhotoRefused):
    """The conversation added as many photos in the last day as ``PHOTOS_PER_CONVERSATION_PER_DAY`` allows."""

    def __init__(self, limit: int) -> None:
        super().__init__("photo_limit_reached", limit=limit)


class PhotosNotSendable(Refusal, ValueError):
    """A message names a photo that is not an unsent upload of its own conversation."""

    def __init__(self) -> None:
        super().__init__("message_photos_unknown")


#: The cases a photo sent now supports: the ones still waiting for, or with, a person.
OPEN_CASE = (EscalationStatus.open.value, EscalationStatus.claimed.value)


def photo_json(photo: Photo) -> dict[str, object]:
    """A photo as a message's attachment and the agents' gallery name it: the id opens it (for
    those who may see it), the size lets a page lay it out before it arrives."""
    return {"id": photo.id, "width": photo.width, "height": photo.height}


class PhotoStorageUnavailable(PhotoRefused):
    """The photo was fine, but the storage did not take its bytes (nothing was kept)."""

    def __init__(self) -> None:
        super().__init__("photo_storage_unavailable")


def storage_key(photo_id: str, variant: Variant) -> str:
    return f"{photo_id}.jpg" if variant == "full" else f"{photo_id}.thumb.jpg"


def _keys(photo_ids: Sequence[str]) -> list[str]:
    return [storage_key(photo_id, variant) for photo_id in photo_ids for variant in ("full", "thumbnail")]


class ConversationPhotos:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], storage: PhotoStorage, per_conversation_per_day: int = 30
    ) -> None:
        self._sessions = sessions
        self._storage = storage
        #: 0: no limit.
        self._per_day = per_conversation_per_day

    async def add(self, store_id: str, conversation_id: str, sender: Sender, prepared: PreparedImage) -> Photo:
        """Keep a prepared photo in the conversation. :class:`PhotoLimitReached` past the daily limit;
        :class:`LookupError` if the conversation is not the store's."""
        async with self._sessions() as session, session.begin():
            # A write to the conversation's row before its photos are counted: it holds the row (the
            # whole database on SQLite) until this commits, so that two uploads at once cannot both
            # take the last place. A plain SELECT would let both count the same number.
            owner = await session.scalar(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.store_id == store_id)
                .values(last_seq=Conversation.last_seq)
                .returning(Conversation.id)
            )
            if owner is None:
                raise LookupError(conversation_id)
            if self._per_day:
                since = utc_now() - dt.timedelta(days=1)
                today = await session.scalar(
                    select(func.count())
                    .select_from(Photo)
                    .where(Photo.conversation_id == conversation_id, Photo.created_at > since)
                )
                if (today or 0) >= self._per_day:
                    raise PhotoLimitReached(self._per_day)
            photo = Photo(
                id=secrets.token_urlsafe(24),
                store_id=store_id,
                conversation_id=conversation_id,
                sender=sender,
                width=prepared.width,
                height=prepared.height,
                byte_size=len(prepared.jpeg),
                thumbnail_size=len(prepared.thumbnail),
                created_at=utc_now(),
            )
            session.add(photo)
        # The row first: with DatabaseStorage a blob and its row then share no transaction, and a
        # photo whose bytes failed to arrive is taken away again rather than left to serve nothing.
        try:
            await self._storage.put(storage_key(photo.id, "full"), prepared.jpeg)
            await self._storage.put(storage_key(photo.id, "thumbnail"), prepared.thumbnail)
        except Exception as exc:
            # A disk that is full or an object store that is down: the sender is told to try again,
            # and nothing half-kept stays behind. If the storage cannot even delete now, the row
            # stays, unsent, naming what to delete: the retention purge tries again later.
            try:
                await self._delete([photo.id])
            except Exception:
                log.exception("photo %s… not cleaned up after its storage failed; retention will", photo.id[:6])
            raise PhotoStorageUnavailable from exc
        except BaseException:
            await self._delete([photo.id])
            raise
        return photo

    async def unsent(self, store_id: str, conversation_id: str, photo_ids: Sequence[str]) -> list[Photo]:
        """The conversation's photos named, in the order named, if every one is an upload of this
        conversation not yet sent in a message; else :class:`PhotosNotSendable` (a photo of
        another conversation answers exactly as one that does not exist)."""
        async with self._sessions() as session:
            found = {
                photo.id: photo
                for photo in await session.scalars(
                    select(Photo).where(
                        Photo.id.in_(photo_ids),
                        Photo.store_id == store_id,
                        Photo.conversation_id == conversation_id,
                        Photo.message_id.is_(None),
                    )
                )
            }
        if len(found) != len(set(photo_ids)):
            raise PhotosNotSendable
        return [found[photo_id] for photo_id in dict.fromkeys(photo_ids)]

    async def discard_unsent(self, store_id: str, conversation_id: str, photo_ids: Sequence[str]) -> int:
        """Delete, rows and bytes, the photos named that are the conversation's and still in no
        message: added for a message that was then not taken (an emailed reply whose turn failed).
        A photo a message already carries stays with it. How many were deleted."""
        if not photo_ids:
            return 0
        return await self._delete_where(
            Photo.id.in_(photo_ids),
            Photo.store_id == store_id,
            Photo.conversation_id == conversation_id,
            Photo.message_id.is_(None),
        )

    async def attach_to_message(self, store_id: str, conversation_id: str, seq: int, photo_ids: Sequence[str]) -> int:
        """Attach photos to the conversation's message ``seq`` that carried them, and to its open
        case if it has one (the agents' gallery). How many were attached."""
        async with self._sessions() as session, session.begin():
            message_id = await session.scalar(
                select(Message.id).where(
                    Message.store_id == store_id, Message.conversation_id == conversation_id, Message.seq == seq
                )
            )
            if message_id is None:
                return 0
            case_id = await self._open_case(session, store_id, conversation_id)
            return await self._set(session, photo_ids, conversation_id, message_id=message_id, escalation_id=case_id)

    async def open_case(self, store_id: str, conversation_id: str) -> int | None:
        """The conversation's latest case still open (or with a person), which photos sent now join."""
        async with self._sessions() as session:
            return await self._open_case(session, store_id, conversation_id)

    @staticmethod
    async def _open_case(session: AsyncSession, store_id: str, conversation_id: str) -> int | None:
        return await session.scalar(
            select(Escalation.id)
            .where(
                Escalation.store_id == store_id,
                Escalation.conversation_id == conversation_id,
                Escalation.status.in_(OPEN_CASE),
            )
            .order_by(Escalation.created_at.desc(), Escalation.id.desc())
            .limit(1)
        )

    async def file_with_case(self, store_id: str, conversation_id: str, escalation_id: int) -> int:
        """A report just recorded takes the photos the shopper sent in this conversation that no case
        holds yet (sent in its photo step, or before the report began). How many it took."""
        async with self._sessions() as session, session.begin():
            case_conversation = await session.scalar(
                select(Escalation.conversation_id).where(Escalation.id == escalation_id, Escalation.store_id == store_id)
            )
            if case_conversation != conversation_id:
                return 0
            result = await session.execute(
                update(Photo)
                .where(
                    Photo.store_id == store_id,
                    Photo.conversation_id == conversation_id,
                    Photo.sender == "shopper",
                    Photo.message_id.is_not(None),
                    Photo.escalation_id.is_(None),
                )
                .values(escalation_id=escalation_id)
            )
            return rows_changed(result)

    async def of_case(self, store_id: str, escalation_id: int) -> list[Photo]:
        """The case's photos, oldest first (the agents' gallery)."""
        async with self._sessions() as session:
            return list(
                await session.scalars(
                    select(Photo)
                    .where(Photo.store_id == store_id, Photo.escalation_id == escalation_id)
                    .order_by(Photo.created_at, Photo.id)
                )
            )

    async def image(
        self, photo_id: str, variant: Variant, *, store_ids: set[str] | None, conversation_id: str | None
    ) -> bytes | None:
        """The photo's JPEG (or thumbnail) for a conversation's shopper (``conversation_id``) or for the
        agents of ``store_ids``; None for a photo that is not theirs, or none at all (the same answer,
        so that nobody learns which ids exist). Asked with neither scope, it answers None."""
        if store_ids is None and conversation_id is None:
            return None
        query = select(Photo.id).where(Photo.id == photo_id)
        if store_ids is not None:
            query = query.where(Photo.store_id.in_(store_ids))
        if conversation_id is not None:
            query = query.where(Photo.conversation_id == conversation_id)
        async with self._sessions() as session:
            if await session.scalar(query) is None:
                return None
        return await self._storage.get(storage_key(photo_id, variant))

    async def attach(self, photo_ids: Sequence[str], message_id: int | None = None, escalation_id: int | None = None) -> int:
        """Attach photos to the message that carried them and/or the case they support; only photos of
        that message's (or case's) own conversation are attached. How many were."""
        if not photo_ids or (message_id is None and escalation_id is None):
            return 0
        attached = 0
        async with self._sessions() as session, session.begin():
            if message_id is not None:
                conversation_id = await session.scalar(select(Message.conversation_id).where(Message.id == message_id))
                attached = await self._set(session, photo_ids, conversation_id, message_id=message_id)
            if escalation_id is not None:
                conversation_id = await session.scalar(
                    select(Escalation.conversation_id).where(Escalation.id == escalation_id)
                )
                attached = max(attached, await self._set(session, photo_ids, conversation_id, escalation_id=escalation_id))
        return attached

    @staticmethod
    async def _set(
        session: AsyncSession, photo_ids: Sequence[str], conversation_id: str | None, **values: int | None
    ) -> int:
        if conversation_id is None:
            return 0
        result = await session.execute(
            update(Photo).where(Photo.id.in_(photo_ids), Photo.conversation_id == conversation_id).values(**values)
        )
        return rows_changed(result)

    async def erase_conversation(self, store_id: str, conversation_id: str) -> int:
        """Delete every photo of the conversation, rows and bytes (a shopper's data erased): call it
        before the conversation itself is deleted, whose cascade would take the rows but not the
        bytes kept outside the database. How many photos were deleted."""
        return await self._delete_where(Photo.store_id == store_id, Photo.conversation_id == conversation_id)

    async def purge_older_than(self, store_id: str, days: int | None = None) -> int:
        """Delete the store's photos older than ``days``, by default the store's retention setting
        (``data_retention_days``). How many were deleted."""
        if days is None:
            async with self._sessions() as session:
                days = await session.scalar(select(Store.data_retention_days).where(Store.id == store_id))
            if days is None:
                return 0
        before = utc_now() - dt.timedelta(days=days)
        return await self._delete_where(Photo.store_id == store_id, Photo.created_at < before)

    async def _delete_where(self, *conditions: ColumnElement[bool]) -> int:
        deleted = 0
        while True:
            async with self._sessions() as session:
                photo_ids = list((await session.scalars(select(Photo.id).where(*conditions).limit(DELETE_BATCH))).all())
            if not photo_ids:
                return deleted
            await self._delete(photo_ids)
            deleted += len(photo_ids)

    async def _delete(self, photo_ids: list[str]) -> None:
        # The bytes first: if this stops half-way, the rows still name what is left to delete.
        await self._storage.delete(_keys(photo_ids))
        async with self._sessions() as session, session.begin():
            await session.execute(delete(Photo).where(Photo.id.in_(photo_ids)))
