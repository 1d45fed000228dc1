"""The durable job queue: each job is claimed once, even with workers racing."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.jobs import (
    FAILURE_ERROR,
    FAILURE_NO_REPLY,
    LEASE,
    MAX_ATTEMPTS,
    ClaimLost,
    FailedJobs,
    JobNotRetryable,
    JobQueue,
    enqueue,
    retry_delay,
)
from bot.core.models import JobStatus, Order, ScheduledJob, Shipment

STORE = "yangteng-auto"


async def add_jobs(sessions: async_sessionmaker[AsyncSession], count: int, due: dt.datetime | None = None) -> None:
    async with sessions() as session, session.begin():
        for index in range(count):
            await enqueue(session, STORE, "test", f"test:{index}", {"n": index}, due)


async def test_the_same_key_is_queued_once(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_jobs(demo_sessions, 3)
    await add_jobs(demo_sessions, 3)
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ScheduledJob)) == 3


async def test_two_workers_racing_claim_each_job_exactly_once(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_jobs(demo_sessions, 60)
    queues = [JobQueue(demo_sessions, f"worker-{n}") for n in range(2)]
    claimed: dict[str, list[int]] = {q.worker_id: [] for q in queues}

    async def drain(queue: JobQueue) -> None:
        while jobs := await queue.claim(limit=3):
            claimed[queue.worker_id].extend(job.id for job in jobs)
            for job in jobs:
                await queue.finish(job)
            await asyncio.sleep(0)

    await asyncio.gather(*(drain(q) for q in queues))
    every = [job_id for ids in claimed.values() for job_id in ids]
    assert len(every) == 60 and len(set(every)) == 60
    async with demo_sessions() as session:
        statuses = (await session.scalars(select(ScheduledJob.status))).all()
    assert set(statuses) == {JobStatus.done.value}


async def test_jobs_wait_until_due(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    await add_jobs(demo_sessions, 1, due=later)
    queue = JobQueue(demo_sessions, "w")
    assert await queue.claim() == []
    [job] = await queue.claim(now=later + dt.timedelta(seconds=1))
    assert job.payload == {"n": 0}


async def test_a_dead_workers_job_is_claimed_again_after_the_lease(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_jobs(demo_sessions, 1)
    [first] = await JobQueue(demo_sessions, "dies").claim()
    rescuer = JobQueue(demo_sessions, "rescuer")
    assert await rescuer.claim() == []
    [again] = await rescuer.claim(now=dt.datetime.now(dt.UTC) + LEASE + dt.timedelta(seconds=1))
    assert again.id == first.id and again.attempts == 2


async def test_failures_back_off_then_give_up(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_jobs(demo_sessions, 1)
    queue = JobQueue(demo_sessions, "w")
    far = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    [job] = await queue.claim()
    await queue.retry_later(job, "RuntimeError: Rasa is down")
    assert await queue.claim() == []  # backing off
    for _ in range(MAX_ATTEMPTS - 1):
        [job] = await queue.claim(now=far)
        await queue.retry_later(job, "RuntimeError: Rasa is down")
    async with demo_sessions() as session:
        row = await session.scalar(select(ScheduledJob))
    assert row.status == JobStatus.failed.value and row.attempts == MAX_ATTEMPTS
    assert row.last_error == "RuntimeError: Rasa is down"
    assert row.failure_reason == FAILURE_ERROR and row.finished_at is not None
    assert await queue.claim(now=far + dt.timedelta(days=1)) == []


def test_the_back_off_goes_from_5_seconds_to_an_hour_over_about_two_and_a_half_hours() -> None:
    delays = [retry_delay(attempt).total_seconds() for attempt in range(1, MAX_ATTEMPTS)]
    assert delays == [5, 20, 80, 320, 1280, 3600, 3600]
    assert 2 * 3600 < sum(delays) < 3 * 3600


async def test_a_job_whose_results_were_committed_stays_done_whatever_the_worker_saw(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The commit reached the database, but the worker saw an error (a dropped connection):
    the job must not be queued again, or its messages would go out twice."""
    await add_jobs(demo_sessions, 1)
    queue = JobQueue(demo_sessions, "w")
    [job] = await queue.claim()
    await queue.finish(job)
    assert await queue.retry_later(job, "ConnectionError: lost during commit") is False
    async with demo_sessions() as session:
        row = await session.scalar(select(ScheduledJob))
    assert row.status == JobStatus.done.value and row.last_error is None


async def test_a_worker_whose_lease_ran_out_stores_nothing(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_jobs(demo_sessions, 1)
    slow = JobQueue(demo_sessions, "slow")
    [job] = await slow.claim()
    [again] = await JobQueue(demo_sessions, "rescuer").claim(now=dt.datetime.now(dt.UTC) + LEASE * 2)
    assert again.id == job.id
    with pytest.raises(ClaimLost):
        async with demo_sessions() as session, session.begin():
            session.add(
                ScheduledJob(store_id=STORE, kind="test", key="result-of-slow", payload={}, due_at=dt.datetime.now(dt.UTC))
            )
            await slow.finish(job, session)  # rolls the results back with it
    await slow.retry_later(job, "ClaimLost")  # and leaves the rescuer's claim alone
    async with demo_sessions() as session:
        rows = (await session.scalars(select(ScheduledJob))).all()
    assert [(r.key, r.status, r.claimed_by) for r in rows] == [("test:0", JobStatus.running.value, "rescuer")]


async def test_the_seller_sees_only_their_stores_failed_jobs_and_can_send_one_again(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with demo_sessions() as session, session.begin():
        shipment = await session.scalar(select(Shipment).where(Shipment.store_id == STORE).order_by(Shipment.id))
        order_number = await session.scalar(select(Order.order_number).where(Order.id == shipment.order_id))
        await enqueue(session, STORE, "delivery_confirmation", "mine", {"shipment_id": shipment.id})
        await enqueue(session, "bloomkids-baby", "delivery_confirmation", "theirs", {"shipment_id": shipment.id})
    queue = JobQueue(demo_sessions, "w")
    far = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    for _ in range(MAX_ATTEMPTS):
        for job in await queue.claim(now=far):
            await queue.retry_later(job, "NoReply: nothing", FAILURE_NO_REPLY)

    failed = FailedJobs(demo_sessions)
    [mine] = await failed.list(STORE)
    assert (mine.kind, mine.reason, mine.attempts) == ("delivery_confirmation", FAILURE_NO_REPLY, MAX_ATTEMPTS)
    assert (mine.order_number, mine.tracking_number) == (order_number, shipment.tracking_number)
    [theirs] = await failed.list("bloomkids-baby")
    assert theirs.order_number is None  # another store's shipment id names nothing there
    with pytest.raises(JobNotRetryable):
        await failed.retry(STORE, theirs.id)

    await failed.retry(STORE, mine.id)
    assert [j.id for j in await failed.list(STORE)] == []
    [job] = await queue.claim()
    assert job.id == mine.id and job.attempts == 1  # a fresh count of attempts, due now
    with pytest.raises(JobNotRetryable):
        await failed.retry(STORE, mine.id)  # only a failed job is sent again
