"""End to end after delivery, through the real Rasa server, action server and
worker: the confirmation, the shopper's answers (a damaged item, the guide),
the install video and the review invitation when the clock moves on, a
five-star rating, and repeated webhooks that send nothing new."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.chat import replies
from bot.chat.conversations import ChatSession, ConversationService, StoredMessage
from bot.chat.rasa_client import RasaClient
from bot.core.config import Settings
from bot.core.db import create_engine, create_sessionmaker
from bot.core.jobs import JobQueue
from bot.core.models import Escalation, JobStatus, Review, ReviewLogEntry, ScheduledJob
from bot.photos.conversation_photos import ConversationPhotos
from bot.photos.retention import PHOTO_RETENTION, RetentionPurges
from bot.photos.storage import photo_storage
from bot.reviews.invitations import ReviewInvitations
from bot.runtime.stack import Stack
from bot.runtime.worker import Worker
from bot.shipping.deliveries import DeliveryNotices
from tests.engine import bot_cli

pytestmark = pytest.mark.engine

STORE = "yangteng-auto"
ALEX = {"store_id": STORE, "shopper_email": "alex@example.com"}
DELIVERED_AT = dt.datetime(2026, 11, 27, 21, 40, tzinfo=dt.UTC)


def delivered(event_id: str, tracking: str = "9400111899223100000000", store: str = STORE) -> tuple[str, ...]:
    return (
        "tracking-event",
        "--store",
        store,
        "--tracking-number",
        tracking,
        "--tag",
        "Delivered",
        "--message",
        "Delivered, in/at mailbox",
        "--time",
        DELIVERED_AT.isoformat(),
        "--event-id",
        event_id,
    )


#: The conftest engine fixture starts these processes too.
ENGINE_PROCESSES = {"with_worker": True}


async def wait_for(read: Callable[[], Any], ready: Callable[[Any], bool], seconds: float = 60) -> Any:
    value = await read()
    for _ in range(int(seconds * 2)):
        if ready(value):
            return value
        await asyncio.sleep(0.5)
        value = await read()
    assert ready(value), value
    return value


async def run_worker_at(settings: Settings, moment: dt.datetime) -> int:
    """One pass of a worker whose clock reads ``moment``: the test's way to move time on. How many
    jobs it ran, not counting the stores' daily photo purges (bot/photos/retention.py): the module's
    worker queued those at the real time, so they come due as the clock moves on, and run here as
    in any worker."""
    db = create_engine(settings.database_url)
    try:
        sessions = create_sessionmaker(db)
        async with aiohttp.ClientSession() as http:
            rasa = RasaClient(settings, http)
            worker = Worker(
                JobQueue(sessions, "clock-test", clock=lambda: moment),
                DeliveryNotices(sessions, rasa),
                reviews=ReviewInvitations(sessions, rasa),
                retention=RetentionPurges(sessions, ConversationPhotos(sessions, photo_storage(settings, sessions))),
            )
            purges_before = await _purges_done(sessions)
            ran = await worker.run_due()
            return ran - (await _purges_done(sessions) - purges_before)
    finally:
        await db.dispose()


async def _purges_done(sessions: Any) -> int:
    async with sessions() as session:
        done = select(func.count()).where(ScheduledJob.kind == PHOTO_RETENTION, ScheduledJob.status == JobStatus.done.value)
        return int(await session.scalar(done) or 0)


class Shopper:
    def __init__(self, settings: Settings, email: str, store: str = STORE) -> None:
        self.settings, self.email, self.store = settings, email, store
        self.db = create_engine(settings.database_url)
        self.sessions = create_sessionmaker(self.db)
        self.service = ConversationService(self.sessions)

    async def chat(self) -> ChatSession:
        return await self.service.for_shopper(self.store, self.email)

    async def transcript(self) -> list[StoredMessage]:
        return await self.service.messages_after(await self.chat())

    async def say(self, text: str) -> list[dict[str, Any]]:
        async with aiohttp.ClientSession() as http:
            return await RasaClient(self.settings, http).send_message(
                (await self.chat()).conversation_id, text, {"store_id": self.store, "shopper_email": self.email}
            )

    async def count(self, model: Any, *where: Any) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    async def close(self) -> None:
        await self.db.dispose()


@pytest.fixture
async def alex(engine: tuple[Stack, Settings]) -> Any:
    shopper = Shopper(engine[1], "alex@example.com")
    yield shopper
    await shopper.close()


async def test_delivery_then_review_invitation_once_then_a_five_star_rating(
    engine: tuple[Stack, Settings], alex: Shopper
) -> None:
    settings = engine[1]
    assert bot_cli(settings, *delivered("usps-1")).returncode == 0

    # 1. The confirmation, with the PDF manual, reaches the transcript.
    messages = await wait_for(alex.transcript, lambda ms: any(m.attachment for m in ms) and len(ms) >= 4)
    assert messages[0].sender == "store" and "your order FZ-20931 was delivered" in messages[0].text
    assert any(m.attachment and m.attachment["type"] == "pdf" for m in messages)
    confirmation_count = len(messages)

    # The invitation is scheduled in the database, due 7 days after delivery (the store's default).
    async with alex.sessions() as session:
        job = (await session.scalars(select(ScheduledJob).where(ScheduledJob.kind == "review_invitation"))).one()
    assert job.due_at == DELIVERED_AT + dt.timedelta(days=7)
    assert await run_worker_at(settings, DELIVERED_AT + dt.timedelta(days=3)) == 0  # not yet due

    # 2. The clock moves past the due time: the invitation arrives, exactly once.
    due = DELIVERED_AT + dt.timedelta(days=7, minutes=1)
    assert await run_worker_at(settings, due) == 1
    assert await run_worker_at(settings, due + dt.timedelta(hours=1)) == 0
    messages = await alex.transcript()
    invitations = [m for m in messages if "honest review of order FZ-20931" in m.text]
    assert len(invitations) == 1 and invitations[0].sender == "store"
    assert [b["title"] for b in invitations[0].buttons][-1] == "No thanks, don't ask again"
    assert await alex.count(ReviewLogEntry, ReviewLogEntry.action == "sent") == 1

    # 3. The shopper rates 5 and adds a few words: both are stored.
    reply = await alex.say('/leave_review{"rating":"5"}')
    assert "add a few words" in reply[0]["text"]
    reply = await alex.say("Super fast delivery, great price, beautifully packed! Happy to buy here.")
    assert reply[0]["text"].startswith("Thank you for your review")
    assert "https://yangteng-auto.example/reviews/new?order=FZ-20931&sku=OP-1001" in reply[0]["text"]
    async with alex.sessions() as session:
        review = (await session.scalars(select(Review))).one()
    assert (review.rating, review.text) == (5, "Super fast delivery, great price, beautifully packed! Happy to buy here.")

    # 4. The webhook repeats, and another "Delivered" scan arrives: nothing new is sent or scheduled.
    assert "duplicate" in bot_cli(settings, *delivered("usps-1")).stdout
    assert bot_cli(settings, *delivered("usps-2")).returncode == 0
    await asyncio.sleep(2)
    assert await run_worker_at(settings, due + dt.timedelta(days=2)) == 0
    store_messages = [m for m in await alex.transcript() if m.sender == "store"]
    assert len(store_messages) == confirmation_count + 1
    assert await alex.count(ScheduledJob, ScheduledJob.kind == "review_invitation") == 1


async def test_after_the_confirmation_the_shopper_reports_damage_and_gets_the_guide(engine: tuple[Stack, Settings]) -> None:
    settings = engine[1]
    jessica = Shopper(settings, "jessica.carter@example.org")
    try:
        # Jessica's second parcel (the gasket and brake pads) arrives.
        assert bot_cli(settings, *delivered("fedex-1", tracking="784512369138")).returncode == 0
        await wait_for(jessica.transcript, lambda ms: len(ms) >= 4)

        reply = await jessica.say("the box arrived damaged")
        assert reply[0]["text"].startswith("I'm sorry it arrived damaged")  # the order is known: no questions about it
        reply = await jessica.say("The pan is dented on one corner, photo: https://photos.example/dent.jpg")
        assert [r["text"] for r in reply] == [replies.ASK_PROBLEM_PHOTOS["damaged"]]  # photos help; Skip is offered
        assert reply[0]["buttons"] == [replies.SKIP_PHOTOS_BUTTON]
        reply = await jessica.say(replies.SKIP_PHOTOS_BUTTON["payload"])
        assert "passed this to the store's team with your order FZ-20588" in reply[0]["text"]
        async with jessica.sessions() as session:
            escalation = (await session.scalars(select(Escalation))).one()
        assert (escalation.reason, escalation.priority) == ("damaged", "high")
        assert "https://photos.example/dent.jpg" in escalation.details

        reply = await jessica.say("how do I install the brake pads?")
        texts = [r.get("text") or "" for r in reply]
        assert texts[0] == "Here's how to install the Ceramic front brake pads."
        assert any(r.get("custom", {}).get("attachment", {}).get("type") == "pdf" for r in reply)
        assert any(t.startswith("The steps:\n1. ") for t in texts)
        reply = await jessica.say("I'm stuck at step 4")
        assert reply[0]["text"].startswith("Step 4 of 7 for the Ceramic front brake pads:")
        assert any(r.get("custom", {}).get("attachment", {}).get("type") == "video" for r in reply)
    finally:
        await jessica.close()


async def test_a_store_that_sends_the_video_later(engine: tuple[Stack, Settings]) -> None:
    settings = engine[1]
    jessica = Shopper(settings, "jessica.carter@example.org", store="bloomkids-baby")
    try:
        # BloomKids sends the install video 2 hours after the confirmation.
        assert (
            bot_cli(settings, *delivered("usps-bk-1", tracking="9400111899223103815603", store="bloomkids-baby")).returncode
            == 0
        )
        messages = await wait_for(jessica.transcript, lambda ms: len(ms) >= 3)
        assert "was delivered" in messages[0].text
        # The stroller's manual now; no video yet.
        assert [m.attachment["type"] for m in messages if m.attachment] == ["pdf"]
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2, minutes=1)
        assert await run_worker_at(settings, later) >= 1
        messages = await jessica.transcript()
        videos = [m for m in messages if m.attachment and m.attachment["type"] == "video"]
        assert [v.attachment["title"] for v in videos] == [
            "Installing the Compact travel stroller",
            "Installing the Stroller rain cover",
        ]
        assert any(m.text == "Hi Jessica, ready to install? This video shows every step." for m in messages)
    finally:
        await jessica.close()
