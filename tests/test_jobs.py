"""The durable job queue: each job is claimed once, even with workers racing."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.jobs import LEASE, MAX_ATTEMPTS, JobQueue, enqueue
from bot.models import JobStatus, ScheduledJob

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
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=7)
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
    [again] = await rescuer.claim(now=dt.datetime.now(dt.timezone.utc) + LEASE + dt.timedelta(seconds=1))
    assert again.id == first.id and again.attempts == 2


async def test_failures_back_off_then_give_up(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_jobs(demo_sessions, 1)
    queue = JobQueue(demo_sessions, "w")
    far = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
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
    assert await queue.claim(now=far + dt.timedelta(days=1)) == []
