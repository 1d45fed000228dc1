"""bot/photos/conversation_photos.py: a photo is served only to its conversation and its store, within
the daily limit, attached to its own conversation's message and case, and deleted with its bytes on
erasure, after the store's retention, and when the message it was added for is not taken."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import frozen_at, utc_now
from bot.core.models import Conversation, Escalation, Message, Photo, PhotoBlob
from bot.photos.conversation_photos import ConversationPhotos, PhotoLimitReached, storage_key
from bot.photos.storage import DatabaseStorage

STORE, OTHER_STORE = "yangteng-auto", "bloomkids-baby"
#: Shaped like bot/photos/images.py's PreparedPhoto.
PREPARED = SimpleNamespace(jpeg=b"\xff\xd8 full jpeg", thumbnail=b"\xff\xd8 thumb", width=1200, height=900, source="png")


@pytest.fixture
async def photos(demo_sessions: async_sessionmaker[AsyncSession]) -> ConversationPhotos:
    async with demo_sessions() as session, session.begin():
        session.add_all(
            [
                Conversation(id="c1", store_id=STORE),
                Conversation(id="c2", store_id=STORE),
                Conversation(id="c-other", store_id=OTHER_STORE),
            ]
        )
    return ConversationPhotos(demo_sessions, DatabaseStorage(demo_sessions), per_conversation_per_day=3)


async def test_a_photo_is_served_to_its_conversation_and_its_store_only(photos: ConversationPhotos) -> None:
    photo = await photos.add(STORE, "c1", "shopper", PREPARED)
    assert (photo.width, photo.height, photo.byte_size) == (1200, 900, len(PREPARED.jpeg))
    assert len(photo.id) >= 32

    assert await photos.image(photo.id, "full", store_ids=None, conversation_id="c1") == PREPARED.jpeg
    assert (
        await photos.image(photo.id, "thumbnail", store_ids={OTHER_STORE, STORE}, conversation_id=None) == PREPARED.thumbnail
    )
    for store_ids, conversation_id in [
        (None, "c2"),  # another conversation of the same store
        ({OTHER_STORE}, None),  # another store's agent
        ({OTHER_STORE}, "c1"),  # both scopes must hold
        (set(), None),
        (None, None),  # no scope opens nothing
    ]:
        assert await photos.image(photo.id, "full", store_ids=store_ids, conversation_id=conversation_id) is None
    guessed = photo.id[:-1] + ("A" if photo.id[-1] != "A" else "B")
    assert await photos.image(guessed, "full", store_ids={STORE}, conversation_id="c1") is None

    with pytest.raises(LookupError):  # a conversation of another store
        await photos.add(STORE, "c-other", "shopper", PREPARED)


async def test_a_conversation_adds_at_most_its_daily_photos(photos: ConversationPhotos) -> None:
    now = utc_now()
    with frozen_at(now):
        for _ in range(3):
            await photos.add(STORE, "c1", "shopper", PREPARED)
        with pytest.raises(PhotoLimitReached) as refused:
            await photos.add(STORE, "c1", "agent", PREPARED)
        assert (refused.value.code, refused.value.params) == ("photo_limit_reached", {"limit": 3})
        await photos.add(STORE, "c2", "shopper", PREPARED)  # another conversation has its own
    with frozen_at(now + dt.timedelta(days=1, seconds=1)):
        await photos.add(STORE, "c1", "shopper", PREPARED)


async def test_photos_attach_to_a_message_and_a_case_of_their_own_conversation(
    photos: ConversationPhotos, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    own = await photos.add(STORE, "c1", "shopper", PREPARED)
    foreign = await photos.add(STORE, "c2", "shopper", PREPARED)
    async with demo_sessions() as session, session.begin():
        message = Message(store_id=STORE, conversation_id="c1", seq=1, sender="shopper", text="")
        case = Escalation(store_id=STORE, conversation_id="c1", reason="damaged", priority="high", summary="dented pan")
        session.add_all([message, case])
    assert await photos.attach([own.id, foreign.id], message_id=message.id, escalation_id=case.id) == 1
    async with demo_sessions() as session:
        rows = {p.id: (p.message_id, p.escalation_id) for p in await session.scalars(select(Photo))}
    assert rows == {own.id: (message.id, case.id), foreign.id: (None, None)}


async def test_discarding_unsent_photos_spares_those_a_message_carries_and_other_conversations(
    photos: ConversationPhotos, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    unsent, sent = await photos.add(STORE, "c1", "shopper", PREPARED), await photos.add(STORE, "c1", "shopper", PREPARED)
    elsewhere = await photos.add(STORE, "c2", "shopper", PREPARED)
    async with demo_sessions() as session, session.begin():
        session.add(Message(store_id=STORE, conversation_id="c1", seq=1, sender="shopper", text=""))
    assert await photos.attach_to_message(STORE, "c1", 1, [sent.id]) == 1
    named = [unsent.id, sent.id, elsewhere.id]
    assert await photos.discard_unsent(OTHER_STORE, "c1", named) == 0  # another store's scope deletes nothing
    assert await photos.discard_unsent(STORE, "c1", named) == 1
    async with demo_sessions() as session:
        assert set(await session.scalars(select(Photo.id))) == {sent.id, elsewhere.id}
        keys = set(await session.scalars(select(PhotoBlob.key)))
    assert storage_key(unsent.id, "full") not in keys and storage_key(sent.id, "full") in keys


async def test_erasing_a_conversation_deletes_its_photos_and_their_bytes(
    photos: ConversationPhotos, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    erased = [await photos.add(STORE, "c1", "shopper", PREPARED) for _ in range(2)]
    kept = await photos.add(STORE, "c2", "shopper", PREPARED)

    assert await photos.erase_conversation(STORE, "c1") == 2
    async with demo_sessions() as session:
        assert set(await session.scalars(select(Photo.id))) == {kept.id}
        keys = set(await session.scalars(select(PhotoBlob.key)))
    assert keys == {storage_key(kept.id, "full"), storage_key(kept.id, "thumbnail")}
    assert await photos.image(erased[0].id, "full", store_ids={STORE}, conversation_id=None) is None

    # A conversation deleted takes its photo rows with it.
    async with demo_sessions() as session, session.begin():
        await session.execute(delete(Conversation).where(Conversation.id == "c2"))
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Photo)) == 0


async def test_retention_deletes_only_the_stores_photos_older_than_its_setting(
    photos: ConversationPhotos, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    now = utc_now()
    added = {}
    for name, store, conversation, age_days in [
        ("over a year", STORE, "c1", 366),
        ("ten days", STORE, "c2", 10),
        ("today", STORE, "c1", 0),
        ("other store's, old", OTHER_STORE, "c-other", 400),
    ]:
        with frozen_at(now - dt.timedelta(days=age_days)):
            added[name] = (await photos.add(store, conversation, "shopper", PREPARED)).id

    with frozen_at(now):
        assert await photos.purge_older_than(STORE) == 1  # the store's default: 365 days
        assert await photos.purge_older_than(STORE, days=5) == 1
    async with demo_sessions() as session:
        left = set(await session.scalars(select(Photo.id)))
        blobs = set(await session.scalars(select(PhotoBlob.key)))
    assert left == {added["today"], added["other store's, old"]}
    assert blobs == {storage_key(photo_id, variant) for photo_id in left for variant in ("full", "thumbnail")}
