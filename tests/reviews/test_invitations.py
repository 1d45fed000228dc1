"""Review invitations: one per delivered order, never gated, every decision logged.

The decision rules are tested on the pure function; the worker's side runs
against the store database (SQLite and PostgreSQL) with a stand-in for the
Rasa client (the real Rasa runs in the end-to-end tests).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import inspect
import io
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ConversationService, UnknownStore
from bot.chat.rasa_client import JOB_ENTITY
from bot.core.jobs import JobQueue, enqueue
from bot.core.models import (
    Escalation,
    JobStatus,
    Message,
    Order,
    OrderItem,
    Review,
    ReviewLogEntry,
    ScheduledJob,
    Shipment,
    Store,
)
from bot.reviews.invitation_rules import InvitationDecision, decide_invitation, review_due_at
from bot.reviews.invitations import (
    REVIEW_DUE,
    REVIEW_INVITATION,
    REVIEW_REMINDER,
    ReviewInvitations,
    schedule_review_invitation,
)
from bot.reviews.shopper_reviews import ReviewService
from bot.shipping.tracking_updates import Checkpoint, TrackingUpdate, TrackingUpdates

STORE = "yangteng-auto"
OTHER_STORE = "bloomkids-baby"
NEW_YORK = "America/New_York"
#: FZ-20412, Alex Miller (New York), delivered in the demo data.
DELIVERED_ORDER = "FZ-20412"
DELIVERED_AT = dt.datetime(2026, 10, 19, 18, 40, tzinfo=dt.UTC)
DUE = DELIVERED_AT + dt.timedelta(days=7)  # 2026-10-26 14:40 in New York (EDT)
#: FZ-20931, Alex Miller, in transit in the demo data.
IN_TRANSIT = "9400111899223100000000"


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def decide(now: dt.datetime, **changes: Any) -> InvitationDecision:
    facts: dict[str, Any] = dict(
        delivered_at=DELIVERED_AT,
        order_status="delivered",
        opted_out=False,
        already_invited=False,
        shopper_timezone=NEW_YORK,
    )
    facts.update(changes)
    return decide_invitation(now, **facts)


# --- The rules, on the decision function ---------------------------------------------------------


def test_an_eligible_order_is_sent_exactly_when_due() -> None:
    assert decide(DUE) == InvitationDecision("send", "eligible", None)


def test_an_opted_out_shopper_is_skipped() -> None:
    assert decide(DUE, opted_out=True) == InvitationDecision("skip", "opted_out")


def test_an_order_already_invited_is_skipped() -> None:
    assert decide(DUE, already_invited=True) == InvitationDecision("skip", "already_invited")


def test_a_cancelled_order_is_skipped() -> None:
    assert decide(DUE, order_status="cancelled") == InvitationDecision("skip", "order_cancelled")


def test_a_returned_order_is_skipped() -> None:
    assert decide(DUE, order_status="returned") == InvitationDecision("skip", "order_returned")


def test_the_window_closes_30_days_after_delivery() -> None:
    assert decide(DELIVERED_AT + dt.timedelta(days=30)).action == "send"  # 13:40 in New York
    assert decide(DELIVERED_AT + dt.timedelta(days=31)) == InvitationDecision("skip", "window_passed")
    assert decide(DELIVERED_AT + dt.timedelta(days=30, seconds=1)).reason == "window_passed"


def test_never_before_five_days_after_delivery() -> None:
    decision = decide(DELIVERED_AT + dt.timedelta(days=2))
    assert decision == InvitationDecision("defer", "too_early", DELIVERED_AT + dt.timedelta(days=5))
    # A window opening at night in New York (01:00 local) waits for the morning.
    night = utc("2026-10-20T05:00:00Z")
    assert decide(night, delivered_at=night).until == utc("2026-10-25T12:00:00Z")


@pytest.mark.parametrize(
    "now, until",
    [
        ("2026-10-27T02:30:00Z", "2026-10-27T12:00:00Z"),  # 22:30 local → 08:00 the next morning
        ("2026-10-27T07:00:00Z", "2026-10-27T12:00:00Z"),  # 03:00 local → 08:00 the same morning
        ("2026-10-27T01:00:00Z", "2026-10-27T12:00:00Z"),  # 21:00 local: quiet hours have begun
        ("2026-11-01T02:30:00Z", "2026-11-01T13:00:00Z"),  # 22:30 EDT → 08:00 EST (clocks went back)
    ],
)
def test_quiet_hours_defer_to_eight_in_the_morning_local_time(now: str, until: str) -> None:
    assert decide(utc(now)) == InvitationDecision("defer", "quiet_hours", utc(until))


def test_quiet_hours_end_at_eight_and_begin_at_nine() -> None:
    assert decide(utc("2026-10-27T12:00:00Z")).action == "send"  # 08:00 local
    assert decide(utc("2026-10-27T00:59:59Z")).action == "send"  # 20:59:59 local


def test_other_timezones_are_respected() -> None:
    # 2026-10-27T02:30Z is 13:30 in Sydney: fine there, at night in New York.
    assert decide(utc("2026-10-27T02:30:00Z"), shopper_timezone="Australia/Sydney").action == "send"
    # 12:00Z is 23:00 in Sydney (AEDT): deferred to 08:00 Sydney = 21:00Z.
    assert decide(utc("2026-10-27T12:00:00Z"), shopper_timezone="Australia/Sydney") == InvitationDecision(
        "defer", "quiet_hours", utc("2026-10-27T21:00:00Z")
    )


def test_without_a_timezone_there_are_no_quiet_hours() -> None:
    assert decide(utc("2026-10-27T02:30:00Z"), shopper_timezone=None).action == "send"
    assert decide(utc("2026-10-27T02:30:00Z"), shopper_timezone="Mars/Olympus_Mons").action == "send"


def test_a_deferral_past_the_window_is_skipped_next_time() -> None:
    late_delivery = utc("2026-10-20T03:00:00Z")  # 23:00 in New York: the window closes at 22:00 on day 30
    evening = utc("2026-11-19T02:30:00Z")  # 21:30 local on day 30
    first = decide(evening, delivered_at=late_delivery)
    assert first == InvitationDecision("defer", "quiet_hours", utc("2026-11-19T13:00:00Z"))
    assert decide(first.until, delivered_at=late_delivery) == InvitationDecision("skip", "window_passed")


def test_nothing_about_sentiment_can_reach_the_decision() -> None:
    """No review gating: complaints, ratings and moods are not inputs at all."""
    parameters = set(inspect.signature(decide_invitation).parameters)
    assert parameters == {"now", "delivered_at", "order_status", "opted_out", "already_invited", "shopper_timezone"}
    with pytest.raises(TypeError):
        decide(DUE, rating=1)  # type: ignore[call-arg]


def test_the_invitation_is_due_the_stores_delay_after_delivery_within_5_to_30_days() -> None:
    assert review_due_at(DELIVERED_AT, 3) == DELIVERED_AT + dt.timedelta(days=5)
    assert review_due_at(DELIVERED_AT, 45) == DELIVERED_AT + dt.timedelta(days=30)
    assert review_due_at(DELIVERED_AT, 7) == DELIVERED_AT + dt.timedelta(days=7)
    assert review_due_at(DELIVERED_AT, None) == DELIVERED_AT + dt.timedelta(days=7)
    assert review_due_at(DELIVERED_AT) == DELIVERED_AT + dt.timedelta(days=7)
    assert review_due_at(DELIVERED_AT, 12) == DELIVERED_AT + dt.timedelta(days=12)


# --- Helpers for the database tests ----------------------------------------------------------------


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class FakeRasa:
    """Answers ``trigger_intent`` like Rasa does, and counts the calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls.append((conversation_id, intent, entities))
        await asyncio.sleep(0.005)  # let racing workers interleave
        return [
            {
                "recipient_id": conversation_id,
                "text": f"How is everything with order {entities['order_id']}?",
                "buttons": [{"title": "⭐⭐⭐⭐⭐", "payload": '/rate{"rating": 5}'}],
            },
            {"recipient_id": conversation_id, "text": "Reply 'stop' and we won't ask again."},
        ]


async def order_by_number(sessions: async_sessionmaker[AsyncSession], number: str, store: str = STORE) -> Order:
    async with sessions() as session:
        order = await session.scalar(select(Order).where(Order.store_id == store, Order.order_number == number))
    assert order is not None
    return order


async def schedule(
    sessions: async_sessionmaker[AsyncSession],
    number: str,
    store: str = STORE,
    delivered_at: dt.datetime = DELIVERED_AT,
    delay: int = 7,
) -> Order:
    order = await order_by_number(sessions, number, store)
    async with sessions() as session, session.begin():
        assert await schedule_review_invitation(session, order, delivered_at, delay, at=delivered_at)
    return order


async def log_rows(sessions: async_sessionmaker[AsyncSession], store: str = STORE) -> list[tuple[str, str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(ReviewLogEntry.order_number, ReviewLogEntry.action, ReviewLogEntry.reason)
            .where(ReviewLogEntry.store_id == store)
            .order_by(ReviewLogEntry.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def review_jobs(sessions: async_sessionmaker[AsyncSession]) -> list[ScheduledJob]:
    async with sessions() as session:
        return list(
            (
                await session.scalars(
                    select(ScheduledJob).where(ScheduledJob.kind == REVIEW_INVITATION).order_by(ScheduledJob.id)
                )
            ).all()
        )


async def transcript(sessions: async_sessionmaker[AsyncSession], email: str = "alex@example.com"):  # type: ignore[no-untyped-def]
    service = ConversationService(sessions)
    chat = await service.for_shopper(STORE, email)
    return chat, await service.messages_after(chat)


# --- Scheduling on delivery --------------------------------------------------------------------------


def delivered(event_id: str, when: str = "2026-11-27T21:40:00Z") -> TrackingUpdate:
    return TrackingUpdate(
        event_id=event_id,
        tracking_number=IN_TRANSIT,
        tag="Delivered",
        checkpoints=[Checkpoint(utc(when), "Delivered", "Delivered, in/at mailbox", "New York, NY 10027")],
    )


async def set_store(sessions: async_sessionmaker[AsyncSession], store: str = STORE, **values: Any) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(Store).where(Store.id == store).values(**values))


async def test_a_delivered_order_schedules_one_invitation(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await set_store(demo_sessions, review_delay_days=12)
    updates = TrackingUpdates(demo_sessions)
    assert (await updates.apply(STORE, "aftership", delivered("d1"))).delivered_now
    await updates.apply(STORE, "aftership", delivered("d1"))  # the webhook again
    await updates.apply(STORE, "json", delivered("d2", "2026-11-27T22:00:00Z"))  # a second Delivered scan
    order = await order_by_number(demo_sessions, "FZ-20931")
    [job] = await review_jobs(demo_sessions)
    assert job.store_id == STORE and job.key == f"review_invitation:{order.id}"
    assert job.payload == {"order_id": order.id} and job.status == JobStatus.pending.value
    assert job.due_at == utc("2026-12-09T21:40:00Z")  # delivered + the store's 12 days
    assert await log_rows(demo_sessions) == [("FZ-20931", "scheduled", "delivered")]


async def test_the_stores_delay_is_used_and_clamped(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await set_store(demo_sessions, review_delay_days=2)
    await TrackingUpdates(demo_sessions).apply(STORE, "aftership", delivered("d1"))
    [job] = await review_jobs(demo_sessions)
    assert job.due_at == utc("2026-12-02T21:40:00Z")  # 5 days, not 2


async def test_scheduling_twice_adds_nothing(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    order = await schedule(demo_sessions, DELIVERED_ORDER)
    async with demo_sessions() as session, session.begin():
        assert not await schedule_review_invitation(session, order, DELIVERED_AT, 12)
    [job] = await review_jobs(demo_sessions)
    assert job.due_at == DUE
    assert await log_rows(demo_sessions) == [(DELIVERED_ORDER, "scheduled", "delivered")]


# --- The worker's side ---------------------------------------------------------------------------------


async def run_due(sessions: async_sessionmaker[AsyncSession], queue: JobQueue, rasa: FakeRasa) -> list[int]:
    invitations = ReviewInvitations(sessions, rasa)  # type: ignore[arg-type]
    handlers = {REVIEW_INVITATION: invitations.send_invitation, REVIEW_REMINDER: invitations.send_reminder}
    return [await handlers[job.kind](job, queue) for job in await queue.claim()]


async def test_the_invitation_is_sent_once_as_the_stores_message(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await schedule(demo_sessions, DELIVERED_ORDER)
    rasa, clock = FakeRasa(), Clock(DUE - dt.timedelta(minutes=1))
    queue = JobQueue(demo_sessions, "w1", clock)
    assert await run_due(demo_sessions, queue, rasa) == []  # not due yet
    clock.now = DUE
    [job] = await queue.claim()
    invitations = ReviewInvitations(demo_sessions, rasa)  # type: ignore[arg-type]
    assert await invitations.send_invitation(job, queue) == 2
    chat, messages = await transcript(demo_sessions)
    # The job's key marks the trigger in Rasa's tracker, so that a retry never sends it twice.
    assert rasa.calls == [(chat.conversation_id, REVIEW_DUE, {"order_id": DELIVERED_ORDER, JOB_ENTITY: job.key})]
    assert [m.sender for m in messages] == ["store", "store"]
    assert messages[0].text == f"How is everything with order {DELIVERED_ORDER}?"
    assert messages[0].buttons == [{"title": "⭐⭐⭐⭐⭐", "payload": '/rate{"rating": 5}'}]
    assert [j.status for j in await review_jobs(demo_sessions)] == [JobStatus.done.value]
    assert await log_rows(demo_sessions) == [
        (DELIVERED_ORDER, "scheduled", "delivered"),
        (DELIVERED_ORDER, "sent", "eligible"),
    ]

    # The same job run again (a redelivery), and a second job for the order: nothing more goes out.
    assert await invitations.send_invitation(job, queue) == 0
    order = await order_by_number(demo_sessions, DELIVERED_ORDER)
    async with demo_sessions() as session, session.begin():
        await enqueue(session, STORE, REVIEW_INVITATION, "review_invitation:again", {"order_id": order.id}, DUE)
    assert await run_due(demo_sessions, queue, rasa) == [0]
    assert len(rasa.calls) == 1
    assert len((await transcript(demo_sessions))[1]) == 2
    assert (await log_rows(demo_sessions))[2:] == [
        (DELIVERED_ORDER, "skipped", "already_invited"),
        (DELIVERED_ORDER, "skipped", "already_invited"),
    ]
    assert {j.status for j in await review_jobs(demo_sessions)} == {JobStatus.done.value}


async def test_a_sender_that_loses_the_race_logs_a_skip(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    """Another run commits its 'sent' row while this one waits for Rasa: the unique index decides."""
    order = await schedule(demo_sessions, DELIVERED_ORDER)

    class Overtaken(FakeRasa):
        async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any]) -> list[dict[str, Any]]:
            async with demo_sessions() as session, session.begin():
                session.add(
                    ReviewLogEntry(
                        store_id=STORE,
                        order_id=order.id,
                        order_number=order.order_number,
                        action="sent",
                        reason="eligible",
                        at=DUE,
                    )
                )
            return await super().trigger_intent(conversation_id, intent, entities)

    queue = JobQueue(demo_sessions, "w1", Clock(DUE))
    assert await run_due(demo_sessions, queue, Overtaken()) == [0]
    assert (await transcript(demo_sessions))[1] == []  # this run's replies were not stored
    assert await log_rows(demo_sessions) == [
        (DELIVERED_ORDER, "scheduled", "delivered"),
        (DELIVERED_ORDER, "sent", "eligible"),
        (DELIVERED_ORDER, "skipped", "already_invited"),
    ]
    assert [j.status for j in await review_jobs(demo_sessions)] == [JobStatus.done.value]


async def test_quiet_hours_put_the_job_back_until_morning(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await schedule(demo_sessions, DELIVERED_ORDER)
    night, morning = utc("2026-10-27T02:30:00Z"), utc("2026-10-27T12:00:00Z")  # 22:30 and 08:00 in New York
    rasa, clock = FakeRasa(), Clock(night)
    queue = JobQueue(demo_sessions, "w1", clock)
    assert await run_due(demo_sessions, queue, rasa) == [0]
    assert rasa.calls == []
    [job] = await review_jobs(demo_sessions)
    assert (job.status, job.due_at, job.claimed_by, job.attempts) == (JobStatus.pending.value, morning, None, 0)
    assert (await log_rows(demo_sessions))[-1] == (DELIVERED_ORDER, "deferred", "quiet_hours")
    assert await queue.claim() == []  # still night
    clock.now = morning
    assert await run_due(demo_sessions, queue, rasa) == [2]
    assert len(rasa.calls) == 1
    assert [a for _, a, _ in await log_rows(demo_sessions)] == ["scheduled", "deferred", "sent"]


async def test_while_a_person_holds_the_chat_the_invitation_waits_for_the_hand_back(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    from sqlalchemy import update

    from bot.chat.conversations import AGENT_HOLD_RETRY
    from bot.core.models import Agent, Conversation
    from bot.support.accounts import AgentAccounts

    order = await schedule(demo_sessions, DELIVERED_ORDER)
    await AgentAccounts(demo_sessions).add("lin@yangteng.example", "Lin", "a-long-password", [STORE])
    chat = await ConversationService(demo_sessions).for_shopper(STORE, order.shopper_email)
    async with demo_sessions() as session, session.begin():
        agent_id = await session.scalar(select(Agent.id))
        await session.execute(
            update(Conversation).where(Conversation.id == chat.conversation_id).values(handled_by=agent_id)
        )
    rasa, clock = FakeRasa(), Clock(DUE)
    queue = JobQueue(demo_sessions, "w1", clock)
    assert await run_due(demo_sessions, queue, rasa) == [0]
    assert rasa.calls == []
    [job] = await review_jobs(demo_sessions)
    assert (job.status, job.due_at) == (JobStatus.pending.value, DUE + AGENT_HOLD_RETRY)
    assert (await log_rows(demo_sessions))[-1] == (DELIVERED_ORDER, "deferred", "agent_handling")
    async with demo_sessions() as session, session.begin():
        await session.execute(update(Conversation).where(Conversation.id == chat.conversation_id).values(handled_by=None))
    clock.now = DUE + AGENT_HOLD_RETRY
    assert await run_due(demo_sessions, queue, rasa) == [2]
    assert [a for _, a, _ in await log_rows(demo_sessions)] == ["scheduled", "deferred", "sent"]


@pytest.mark.parametrize(
    "number, prepare, now, reason",
    [
        (DELIVERED_ORDER, "opt_out", DUE, "opted_out"),
        # The store's order spells the address with capitals; the opt-out (by chat or email) is one address.
        (DELIVERED_ORDER, "opt_out_order_in_capitals", DUE, "opted_out"),
        (DELIVERED_ORDER, None, DELIVERED_AT + dt.timedelta(days=31), "window_passed"),
        ("FZ-20347", None, DUE, "order_returned"),
        (DELIVERED_ORDER, "cancel", DUE, "order_cancelled"),
    ],
)
async def test_a_skip_is_logged_and_finishes_the_job(
    demo_sessions: async_sessionmaker[AsyncSession], number: str, prepare: str | None, now: dt.datetime, reason: str
) -> None:
    order = await schedule(demo_sessions, number)
    if prepare == "opt_out":
        assert await ReviewService(demo_sessions).opt_out(STORE, "Alex@Example.com")
    elif prepare == "opt_out_order_in_capitals":
        async with demo_sessions() as session, session.begin():
            await session.execute(update(Order).where(Order.id == order.id).values(shopper_email="ALEX@Example.COM"))
        assert await ReviewService(demo_sessions).opt_out(STORE, "alex@example.com")
    elif prepare == "cancel":
        async with demo_sessions() as session, session.begin():
            await session.execute(update(Order).where(Order.id == order.id).values(status="cancelled"))
    rasa = FakeRasa()
    queue = JobQueue(demo_sessions, "w1", Clock(now))
    assert await run_due(demo_sessions, queue, rasa) == [0]
    assert rasa.calls == []
    assert await log_rows(demo_sessions) == [(number, "scheduled", "delivered"), (number, "skipped", reason)]
    [job] = await review_jobs(demo_sessions)
    assert job.status == JobStatus.done.value
    assert await queue.claim(now=now + dt.timedelta(days=60)) == []


async def test_complaints_and_low_ratings_do_not_stop_the_invitation(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """No review gating, end to end: an open complaint and a 1-star rating change nothing."""
    order = await schedule(demo_sessions, DELIVERED_ORDER)
    chat, _ = await transcript(demo_sessions)
    async with demo_sessions() as session, session.begin():
        session.add(
            Escalation(
                store_id=STORE,
                conversation_id=chat.conversation_id,
                order_id=order.id,
                reason="damaged",
                priority="high",
                summary="Oil pan arrived cracked",
                details="It leaks. Terrible.",
            )
        )
    await ReviewService(demo_sessions).record_review(STORE, chat.conversation_id, order.id, 1, "Arrived cracked")
    rasa = FakeRasa()
    assert await run_due(demo_sessions, JobQueue(demo_sessions, "w1", Clock(DUE)), rasa) == [2]
    assert [(c, intent, entities["order_id"]) for c, intent, entities in rasa.calls] == [
        (chat.conversation_id, REVIEW_DUE, DELIVERED_ORDER)
    ]
    assert (await log_rows(demo_sessions))[-1] == (DELIVERED_ORDER, "sent", "eligible")


async def test_racing_workers_send_each_invitation_exactly_once(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    count = 24
    async with demo_sessions() as session, session.begin():
        orders = [
            Order(
                store_id=STORE,
                order_number=f"FZ-9{n:04d}",
                lookup_key=f"FZ-9{n:04d}",
                shopper_name=f"Shopper {n}",
                shopper_email=f"shopper{n}@example.com",
                shopper_timezone=None,
                shipping_postcode="10027",
                shipping_country="US",
                placed_at=DELIVERED_AT - dt.timedelta(days=5),
                status="delivered",
                items=[OrderItem(store_id=STORE, sku="OP-1001", name="Aluminium oil pan")],
                shipments=[
                    Shipment(
                        store_id=STORE,
                        carrier="USPS",
                        tracking_number=f"TN{n}",
                        status="Delivered",
                        delivered_at=DELIVERED_AT,
                    )
                ],
            )
            for n in range(count)
        ]
        session.add_all(orders)
        await session.flush()
        for order in orders:
            assert await schedule_review_invitation(session, order, DELIVERED_AT, 7, at=DELIVERED_AT)
    rasa = FakeRasa()
    invitations = ReviewInvitations(demo_sessions, rasa)  # type: ignore[arg-type]
    queues = [JobQueue(demo_sessions, f"worker-{n}", Clock(DUE)) for n in range(2)]
    ran: dict[str, int] = {q.worker_id: 0 for q in queues}

    async def drain(queue: JobQueue) -> None:
        while jobs := await queue.claim(limit=3):
            await asyncio.gather(*(invitations.send_invitation(job, queue) for job in jobs))
            ran[queue.worker_id] += len(jobs)

    await asyncio.gather(*(drain(q) for q in queues))
    assert sum(ran.values()) == count
    triggered = [entities["order_id"] for _, _, entities in rasa.calls]
    assert sorted(triggered) == sorted(o.order_number for o in orders)
    async with demo_sessions() as session:
        sent = (
            await session.execute(
                select(ReviewLogEntry.order_id, func.count())
                .where(ReviewLogEntry.action == "sent")
                .group_by(ReviewLogEntry.order_id)
            )
        ).all()
        messages = await session.scalar(select(func.count()).select_from(Message))
    assert sorted(order_id for order_id, _ in sent) == sorted(o.id for o in orders)
    assert all(n == 1 for _, n in sent)
    assert messages == 2 * count
    assert {j.status for j in await review_jobs(demo_sessions)} == {JobStatus.done.value}


# --- The chat's side -------------------------------------------------------------------------------------


async def test_a_rating_is_1_to_5_and_a_second_one_replaces_the_first(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    service = ReviewService(demo_sessions)
    order = await order_by_number(demo_sessions, DELIVERED_ORDER)
    for bad in (0, 6, -1, True):
        with pytest.raises(ValueError):
            await service.record_review(STORE, None, order.id, bad, "")  # type: ignore[arg-type]
    await service.record_review(STORE, None, order.id, 2, "  Fits, but a bolt was missing  ")
    await service.record_review(STORE, None, order.id, 5, "x" * 3000)
    async with demo_sessions() as session:
        [review] = (await session.scalars(select(Review))).all()
    assert (review.store_id, review.order_id, review.rating, review.text) == (STORE, order.id, 5, "x" * 2000)
    other = await order_by_number(demo_sessions, "#1024", OTHER_STORE)
    with pytest.raises(LookupError):  # another store's order
        await service.record_review(STORE, None, other.id, 4, "")


async def test_opting_out_is_idempotent_and_per_store(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    service = ReviewService(demo_sessions)
    assert not await service.is_opted_out(STORE, "alex@example.com")
    assert await service.opt_out(STORE, " Alex@Example.com ") is True
    assert await service.opt_out(STORE, "alex@example.com") is False
    assert await service.is_opted_out(STORE, "ALEX@example.com")
    assert not await service.is_opted_out(OTHER_STORE, "alex@example.com")


async def test_the_review_link_fills_in_quoted_values(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    service = ReviewService(demo_sessions)
    await set_store(demo_sessions, review_url=None)
    await set_store(demo_sessions, OTHER_STORE, review_url=None)
    assert await service.review_link(STORE, "FZ-20412", "OP-1001") is None  # no review URL set
    await set_store(
        demo_sessions, review_url="https://shop.example/review?order={order_number}&sku={sku}&ref={0}{__class__}"
    )
    link = await service.review_link(STORE, "#1024 &x=1", "AB C/1?")
    assert link == "https://shop.example/review?order=%231024%20%26x%3D1&sku=AB%20C%2F1%3F&ref={0}{__class__}"
    assert (
        await service.review_link(STORE, "FZ-20412", None)
        == "https://shop.example/review?order=FZ-20412&sku=&ref={0}{__class__}"
    )
    assert await service.review_link(OTHER_STORE, "FZ-20412", None) is None


async def test_the_order_to_review_belongs_to_the_conversations_shopper(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    service = ReviewService(demo_sessions)
    conversations = ConversationService(demo_sessions)
    alex = await conversations.for_shopper(STORE, "alex@example.com")
    found = await service.order_for_review(alex.conversation_id, None)
    assert found is not None
    assert (found.store_id, found.order_number, found.shopper_email) == (STORE, DELIVERED_ORDER, "alex@example.com")
    assert found.skus and len(found.skus) == len(found.item_names)
    assert await service.order_for_review(alex.conversation_id, " fz-20412") == found
    assert await service.order_for_review(alex.conversation_id, "FZ-20931") is None  # not delivered yet
    assert await service.order_for_review(alex.conversation_id, "#1024") is None  # another store's
    priya = await conversations.for_shopper(STORE, "priya.sharma@example.org")
    assert await service.order_for_review(priya.conversation_id, DELIVERED_ORDER) is None  # Alex's order
    assert await service.order_for_review(priya.conversation_id, None) is None  # hers was returned
    anonymous, _ = await conversations.start(STORE)
    assert await service.order_for_review(anonymous.conversation_id, DELIVERED_ORDER) is None
    assert await service.order_for_review("no-such-conversation", None) is None
    # Once FZ-20931 arrives, it is the latest delivered order.
    await TrackingUpdates(demo_sessions).apply(STORE, "aftership", delivered("d1"))
    latest = await service.order_for_review(alex.conversation_id, None)
    assert latest is not None and latest.order_number == "FZ-20931"


async def test_the_log_export_holds_only_the_stores_rows(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await schedule(demo_sessions, DELIVERED_ORDER)
    await schedule(demo_sessions, "#1024", OTHER_STORE, utc("2026-10-15T18:25:00Z"))
    await run_due(demo_sessions, JobQueue(demo_sessions, "w1", Clock(DUE)), FakeRasa())
    service = ReviewService(demo_sessions)
    rows = list(csv.reader(io.StringIO(await service.export_log(STORE))))
    assert rows[0] == ["at", "order_number", "action", "reason"]
    assert [row[1:] for row in rows[1:]] == [
        [DELIVERED_ORDER, "scheduled", "delivered"],
        [DELIVERED_ORDER, "sent", "eligible"],
    ]
    assert rows[2][0] == "2026-10-26T18:40:00Z"
    times = [utc(row[0]) for row in rows[1:]]
    assert all(t.tzinfo is not None for t in times)
    other = list(csv.reader(io.StringIO(await service.export_log(OTHER_STORE))))
    # #1024 was due 2026-10-22 18:25Z (14:25 in Toronto): sent in the same run.
    assert [row[1:] for row in other[1:]] == [["#1024", "scheduled", "delivered"], ["#1024", "sent", "eligible"]]
    assert "FZ-" not in await service.export_log(OTHER_STORE)
    with pytest.raises(UnknownStore):
        await service.export_log("no-such-store")


@pytest.mark.slow  # runs `python -m bot` in a process of its own
def test_the_review_log_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.engine import DEMO_DATA, bot_cli, engine_settings

    settings = engine_settings(tmp_path)
    for args in (("migrate",), ("import", str(DEMO_DATA))):
        assert bot_cli(settings, *args).returncode == 0
    assert (
        bot_cli(
            settings,
            "tracking-event",
            "--store",
            STORE,
            "--tracking-number",
            IN_TRANSIT,
            "--tag",
            "Delivered",
            "--time",
            "2026-11-27T21:40:00Z",
            "--event-id",
            "e1",
        ).returncode
        == 0
    )
    result = bot_cli(settings, "review-log", "--store", STORE)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["at", "order_number", "action", "reason"]
    assert [row[1:] for row in rows[1:]] == [["FZ-20931", "scheduled", "delivered"]]
    assert rows[1][0].endswith("Z")

    output = tmp_path / "log.csv"
    assert bot_cli(settings, "review-log", "--store", STORE, "--output", str(output)).returncode == 0
    assert output.read_text(encoding="utf-8") == result.stdout
    empty = bot_cli(settings, "review-log", "--store", OTHER_STORE)
    assert empty.returncode == 0 and empty.stdout == "at,order_number,action,reason\n"

    unknown = bot_cli(settings, "review-log", "--store", "no-such-store")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert "no such store: no-such-store" in unknown.stderr


# --- The one reminder (a store setting, off by default) ------------------------------------------------


async def turn_reminder_on(sessions: async_sessionmaker[AsyncSession]) -> None:
    from bot.seller.store_settings import StoreSettingsService

    await StoreSettingsService(sessions).update(STORE, {"review": {"reminder": True}}, "Wang Fang")


async def jobs_of(sessions: async_sessionmaker[AsyncSession], kind: str) -> list[ScheduledJob]:
    async with sessions() as session:
        return list((await session.scalars(select(ScheduledJob).where(ScheduledJob.kind == kind))).all())


async def test_no_reminder_unless_the_store_turned_it_on(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await schedule(demo_sessions, DELIVERED_ORDER)
    assert await run_due(demo_sessions, JobQueue(demo_sessions, "w1", Clock(DUE)), FakeRasa()) == [2]
    assert await jobs_of(demo_sessions, REVIEW_REMINDER) == []


async def test_the_reminder_follows_once_with_the_same_words(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    from bot.reviews.invitations import REMINDER_AFTER

    await turn_reminder_on(demo_sessions)
    await schedule(demo_sessions, DELIVERED_ORDER)
    rasa, clock = FakeRasa(), Clock(DUE)
    queue = JobQueue(demo_sessions, "w1", clock)
    assert await run_due(demo_sessions, queue, rasa) == [2]
    [reminder] = await jobs_of(demo_sessions, REVIEW_REMINDER)
    assert reminder.due_at == DUE + REMINDER_AFTER
    clock.now = DUE + REMINDER_AFTER
    assert await run_due(demo_sessions, queue, rasa) == [2]
    assert [intent for _, intent, _ in rasa.calls] == ["EXTERNAL_review_due", "EXTERNAL_review_due"]
    clock.now = DUE + REMINDER_AFTER * 3
    assert await run_due(demo_sessions, queue, rasa) == []  # one reminder, never two
    assert [(a, r) for _, a, r in await log_rows(demo_sessions)] == [
        ("scheduled", "delivered"),
        ("sent", "eligible"),
        ("scheduled", "reminder"),
        ("reminded", "reminder"),
    ]


async def test_no_reminder_once_the_shopper_has_reviewed(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    from bot.reviews.invitations import REMINDER_AFTER

    await turn_reminder_on(demo_sessions)
    order = await schedule(demo_sessions, DELIVERED_ORDER)
    rasa, clock = FakeRasa(), Clock(DUE)
    queue = JobQueue(demo_sessions, "w1", clock)
    assert await run_due(demo_sessions, queue, rasa) == [2]
    async with demo_sessions() as session, session.begin():
        session.add(Review(store_id=STORE, order_id=order.id, rating=5, text="Great"))
    clock.now = DUE + REMINDER_AFTER
    assert await run_due(demo_sessions, queue, rasa) == [0]
    assert len(rasa.calls) == 1
    assert (await log_rows(demo_sessions))[-1] == (DELIVERED_ORDER, "skipped", "already_reviewed")


async def test_an_invitation_rasa_answered_with_nothing_is_retried_and_not_logged_as_sent(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The action server was down: Rasa said 200 and nothing. Before, the job was done and the log said 'sent'."""
    from bot.core.jobs import FAILURE_NO_REPLY
    from bot.runtime.worker import Worker
    from bot.shipping.deliveries import DeliveryNotices

    class Back(FakeRasa):
        async def events(self, conversation_id: str) -> list[dict[str, Any]]:
            return []  # the failed attempt left no bot message in the tracker

    class Silent(Back):
        async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any]) -> list[dict[str, Any]]:
            await super().trigger_intent(conversation_id, intent, entities)
            return []

    await schedule(demo_sessions, DELIVERED_ORDER)
    queue = JobQueue(demo_sessions, "w1", Clock(DUE))
    silent = Silent()
    worker = Worker(queue, DeliveryNotices(demo_sessions, silent), reviews=ReviewInvitations(demo_sessions, silent))  # type: ignore[arg-type]
    [job] = await queue.claim()
    await worker.run_job(job)
    [row] = await review_jobs(demo_sessions)
    assert row.status == JobStatus.pending.value and row.failure_reason == FAILURE_NO_REPLY
    assert await log_rows(demo_sessions) == [(DELIVERED_ORDER, "scheduled", "delivered")]

    # Back: the next attempt sends it, once.
    rasa = Back()
    worker = Worker(
        JobQueue(demo_sessions, "w1", Clock(row.due_at)),
        DeliveryNotices(demo_sessions, rasa),  # type: ignore[arg-type]
        reviews=ReviewInvitations(demo_sessions, rasa),
    )  # type: ignore[arg-type]
    assert await worker.run_due() == 1
    assert len(rasa.calls) == 1 and [j.status for j in await review_jobs(demo_sessions)] == [JobStatus.done.value]
    assert await log_rows(demo_sessions) == [
        (DELIVERED_ORDER, "scheduled", "delivered"),
        (DELIVERED_ORDER, "sent", "eligible"),
    ]
