"""bot/seller/shopper_erasure.py: a shopper's conversations at one store go, with their messages,
photos (the bytes on disk too), cases, notes, emails and jobs, and the shopper's reviews; the store's
orders, its review log and the shopper's opt-outs stay, and so does every other store's and every
other shopper's data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import (
    Conversation,
    ConversationNote,
    ConversationToken,
    EmailInbound,
    EmailNotification,
    EmailSuppression,
    Escalation,
    Message,
    Order,
    Photo,
    Review,
    ReviewLogEntry,
    ReviewOptOut,
    ScheduledJob,
)
from bot.photos.conversation_photos import ConversationPhotos
from bot.photos.storage import DiskStorage
from bot.seller.shopper_erasure import ErasureRefused, ErasureReport, ShopperErasure

STORE, OTHER_STORE = "yangteng-auto", "bloomkids-baby"
SHOPPER, SOMEONE_ELSE = "erase.me@example.com", "keep.me@example.com"
PREPARED = SimpleNamespace(jpeg=b"\xff\xd8 full jpeg", thumbnail=b"\xff\xd8 thumb", width=1200, height=900)
PLACED = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)

Sessions = async_sessionmaker[AsyncSession]


def _order(store: str, number: str, email: str) -> Order:
    return Order(
        store_id=store,
        order_number=number,
        lookup_key=number.replace("-", ""),
        shopper_name="Erin Example",
        shopper_email=email,
        shipping_postcode="10001",
        shipping_country="US",
        placed_at=PLACED,
        status="delivered",
    )


async def _conversation(session: AsyncSession, conversation_id: str, store: str, **emails: str) -> None:
    """A conversation with everything that hangs off one: two messages, a token, a case, a note, an
    email sent about it and one that came back."""
    session.add(Conversation(id=conversation_id, store_id=store, last_seq=2, **emails))
    await session.flush()
    session.add_all(
        [
            Message(store_id=store, conversation_id=conversation_id, seq=1, sender="shopper", text="my pan arrived dented"),
            Message(store_id=store, conversation_id=conversation_id, seq=2, sender="bot", text="Sorry to hear that"),
            ConversationToken(token_hash=f"hash-{conversation_id}", store_id=store, conversation_id=conversation_id),
            Escalation(
                store_id=store,
                conversation_id=conversation_id,
                reason="damaged",
                priority="high",
                summary="dented pan",
                details="dented on the left side",
            ),
            ConversationNote(store_id=store, conversation_id=conversation_id, author="Li", text="send a new one"),
            EmailNotification(
                store_id=store,
                conversation_id=conversation_id,
                to_address=emails.get("shopper_email") or emails.get("contact_email") or "",
                message_id=f"<{conversation_id}@mail.example>",
                kind="agent_reply",
                first_seq=2,
                last_seq=2,
            ),
            EmailInbound(
                store_id=store, conversation_id=conversation_id, message_id=f"<re-{conversation_id}@x>", kind="reply"
            ),
        ]
    )


def _job(store: str, kind: str, key: str, payload: dict[str, Any]) -> ScheduledJob:
    return ScheduledJob(store_id=store, kind=kind, key=key, payload=payload, due_at=PLACED)


@pytest.fixture
async def shoppers(demo_sessions: Sessions, tmp_path: Path) -> tuple[ShopperErasure, ConversationPhotos]:
    """SHOPPER at STORE in two conversations (signed in as ``c_1``; anonymous, having proved an order,
    as ``proved``), SOMEONE_ELSE at STORE (``cx1``, whose id ``c_1`` matches as a LIKE pattern), and
    SHOPPER at OTHER_STORE (``other``); a photo in each, reviews, jobs, opt-outs."""
    async with demo_sessions() as session, session.begin():
        await _conversation(session, "c_1", STORE, shopper_email=SHOPPER)
        await _conversation(session, "proved", STORE, contact_email=SHOPPER)
        await _conversation(session, "cx1", STORE, shopper_email=SOMEONE_ELSE)
        await _conversation(session, "other", OTHER_STORE, shopper_email=SHOPPER)
        orders = [
            _order(STORE, "EZ-1", SHOPPER),
            _order(STORE, "EZ-2", SOMEONE_ELSE),
            _order(OTHER_STORE, "EZ-3", SHOPPER),
            _order(STORE, "EZ-4", SHOPPER),
        ]
        session.add_all(orders)
        await session.flush()
        session.add_all(
            [
                Review(store_id=STORE, order_id=orders[0].id, conversation_id="c_1", rating=2, text="dented"),
                # Left on the shopper's order from a conversation since deleted: still the shopper's words.
                Review(store_id=STORE, order_id=orders[3].id, conversation_id=None, rating=4, text="fine"),
                Review(store_id=STORE, order_id=orders[1].id, conversation_id="cx1", rating=5, text="great"),
                Review(store_id=OTHER_STORE, order_id=orders[2].id, conversation_id="other", rating=3, text="ok"),
                ReviewLogEntry(
                    store_id=STORE, order_id=orders[0].id, order_number="EZ-1", action="sent", reason="delivered"
                ),
                ReviewOptOut(store_id=STORE, shopper_email=SHOPPER),
                EmailSuppression(store_id=STORE, address=SHOPPER, reason="complained"),
                _job(STORE, "unanswered_turn", "unanswered_turn:c_1:1", {"conversation_id": "c_1", "text": "dented"}),
                _job(STORE, "unread_email", "unread_email:proved:2", {"conversation_id": "proved"}),
                _job(STORE, "unanswered_turn", "unanswered_turn:cx1:1", {"conversation_id": "cx1", "text": "hi"}),
                _job(OTHER_STORE, "unread_email", "unread_email:other:2", {"conversation_id": "other"}),
                _job(STORE, "review_invitation", "review_invitation:x", {"order_id": orders[0].id}),
            ]
        )
    photos = ConversationPhotos(demo_sessions, DiskStorage(tmp_path / "photos"), per_conversation_per_day=0)
    for conversation_id, store in [
        ("c_1", STORE),
        ("c_1", STORE),
        ("proved", STORE),
        ("cx1", STORE),
        ("other", OTHER_STORE),
    ]:
        await photos.add(store, conversation_id, "shopper", PREPARED)
    return ShopperErasure(demo_sessions, photos), photos


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_a_shoppers_conversations_photos_and_reviews_at_one_store_are_erased(
    shoppers: tuple[ShopperErasure, ConversationPhotos], demo_sessions: Sessions, tmp_path: Path
) -> None:
    erasure, _ = shoppers
    files_before = sorted(p.name for p in (tmp_path / "photos").rglob("*.jpg"))
    assert len(files_before) == 10  # five photos, each with its thumbnail

    report = await erasure.erase(STORE, "  Erase.Me@Example.COM ")  # as a seller may type it
    assert report == ErasureReport(conversations=2, photos=3, reviews=2)

    async with demo_sessions() as session:
        remaining = set(await session.scalars(select(Conversation.id)))
        assert {"c_1", "proved"} & remaining == set()
        assert {"cx1", "other"} <= remaining
        for model in (Message, ConversationToken, Escalation, ConversationNote, EmailNotification, EmailInbound, Photo):
            kept = set(await session.scalars(select(model.conversation_id)))  # type: ignore[attr-defined]
            assert kept == {"cx1", "other"}, model
        photo_ids = set(await session.scalars(select(Photo.id)))
        reviews = {(r.store_id, r.text) for r in await session.scalars(select(Review))}
        assert reviews == {(STORE, "great"), (OTHER_STORE, "ok")}
        jobs = set(await session.scalars(select(ScheduledJob.key)))
        assert jobs == {"unanswered_turn:cx1:1", "unread_email:other:2", "review_invitation:x"}
        # Kept: the store's orders (its accounting), its review log, and what stops it contacting the shopper.
        assert await _count(session, Order, Order.store_id == STORE, Order.shopper_email == SHOPPER) == 2
        assert await _count(session, ReviewLogEntry, ReviewLogEntry.order_number == "EZ-1") == 1
        assert await _count(session, ReviewOptOut, ReviewOptOut.shopper_email == SHOPPER) == 1
        assert await _count(session, EmailSuppression, EmailSuppression.address == SHOPPER) == 1

    # The bytes on disk of the erased photos went with them; the others' are still there.
    files = sorted(p.name for p in (tmp_path / "photos").rglob("*.jpg"))
    assert sorted(f.split(".")[0] for f in files) == sorted([photo_id for photo_id in photo_ids for _ in range(2)])
    assert len(files) == 4

    # Nothing is left to erase; the same shopper at the other store is that store's to erase.
    assert await erasure.erase(STORE, SHOPPER) == ErasureReport(0, 0, 0)
    assert await erasure.erase(OTHER_STORE, SHOPPER) == ErasureReport(conversations=1, photos=1, reviews=1)
    async with demo_sessions() as session:
        assert set(await session.scalars(select(Conversation.id).where(Conversation.id.in_(["cx1", "other"])))) == {"cx1"}


@pytest.mark.parametrize(
    "email", [None, 42, "", "   ", "no-at-sign", "@example.com", "erin@", "two words@example.com", "a@" + "b" * 320]
)
async def test_an_erasure_needs_an_email_address(
    shoppers: tuple[ShopperErasure, ConversationPhotos], demo_sessions: Sessions, email: object
) -> None:
    erasure, _ = shoppers
    with pytest.raises(ErasureRefused) as refused:
        await erasure.erase(STORE, email)
    assert (refused.value.code, refused.value.params) == ("erasure_email_invalid", {"max": 320})
    async with demo_sessions() as session:
        assert await _count(session, Conversation, Conversation.store_id == STORE) >= 3


async def test_an_unknown_store_is_a_lookup_error(shoppers: tuple[ShopperErasure, ConversationPhotos]) -> None:
    erasure, _ = shoppers
    with pytest.raises(LookupError):
        await erasure.erase("no-such-store", SHOPPER)


async def test_a_photo_added_while_erasing_is_erased_with_its_bytes(
    shoppers: tuple[ShopperErasure, ConversationPhotos], demo_sessions: Sessions, tmp_path: Path
) -> None:
    erasure, photos = shoppers
    real_erase = photos.erase_conversation
    added: list[str] = []

    async def erase_then_a_photo_arrives(store_id: str, conversation_id: str) -> int:
        erased = await real_erase(store_id, conversation_id)
        if not added:  # the shopper's widget sends one more photo just after the first round
            added.append((await photos.add(STORE, "c_1", "shopper", PREPARED)).id)
        return erased

    photos.erase_conversation = erase_then_a_photo_arrives  # type: ignore[method-assign]
    report = await erasure.erase(STORE, SHOPPER)
    assert report.photos == 4
    assert not [p for p in (tmp_path / "photos").rglob(f"{added[0]}*")]
