"""The durable job queue behind ``python -m bot worker``.

Several workers may run at once: a job is claimed by one UPDATE over rows
picked ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite runs one writer at a
time, so the same UPDATE is atomic there too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, utc_now
from bot.db import dialect_insert
from bot.models import JobStatus, ScheduledJob

#: A job claimed longer ago than this, by a worker that died, is claimed again.
LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Job:
    id: int
    store_id: str
    kind: str
    key: str
    payload: dict[str, Any]
    attempts: int


async def enqueue(
    session: AsyncSession, store_id: str, kind: str, key: str, payload: dict[str, Any], due_at: dt.datetime | None = None
) -> bool:
    """Queue work inside the caller's transaction; a second job with the same key
    is ignored. Returns whether this call queued it."""
    values = dict(store_id=store_id, kind=kind, key=key, payload=payload, due_at=due_at or utc_now(),
                  status=JobStatus.pending.value, attempts=0, created_at=utc_now())
    result = await session.execute(
        dialect_insert(session, ScheduledJob).values(**values).on_conflict_do_nothing(index_elements=["key"])
    )
    return result.rowcount == 1


class JobQueue:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], worker_id: str, clock: Clock = utc_now) -> None:
        self._sessions = sessions
        self.worker_id = worker_id
        #: What "now" is for due times and for the jobs' own rules; tests move it forward.
        self.clock = clock

    async def claim(self, limit: int = 10, now: dt.datetime | None = None) -> list[Job]:
        now = now or self.clock()
        claimable = (
            select(ScheduledJob.id)
            .where(
                ScheduledJob.due_at <= now,
                or_(
                    ScheduledJob.status == JobStatus.pending.value,
                    (ScheduledJob.status == JobStatus.running.value) & (ScheduledJob.claimed_at < now - LEASE),
                ),
            )
            .order_by(ScheduledJob.due_at, ScheduledJob.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    update(ScheduledJob)
                    .where(ScheduledJob.id.in_(claimable))
                    .values(
                        status=JobStatus.running.value, claimed_by=self.worker_id, claimed_at=now,
                        attempts=ScheduledJob.attempts + 1,
                    )
                    .returning(ScheduledJob.id, ScheduledJob.store_id, ScheduledJob.kind, ScheduledJob.key,
                               ScheduledJob.payload, ScheduledJob.attempts)
                )
            ).all()
        return sorted((Job(*row) for row in rows), key=lambda job: job.id)

    async def finish(self, job: Job, session: AsyncSession | None = None) -> None:
        """Mark the job done; pass the session that stored its results to make both one transaction."""
        statement = (
            update(ScheduledJob)
            .where(ScheduledJob.id == job.id, ScheduledJob.claimed_by == self.worker_id)
            .values(status=JobStatus.done.value, finished_at=self.clock(), last_error=None)
        )
        if session is not None:
            await session.execute(statement)
            return
        async with self._sessions() as own, own.begin():
            await own.execute(statement)

    async def defer(self, job: Job, until: dt.datetime, session: AsyncSession | None = None) -> None:
        """Put the job back for later: not a failure, so the attempt does not count."""
        statement = (
            update(ScheduledJob)
            .where(ScheduledJob.id == job.id, ScheduledJob.claimed_by == self.worker_id)
            .values(status=JobStatus.pending.value, due_at=until, claimed_by=None,
                    attempts=ScheduledJob.attempts - 1)
        )
        if session is not None:
            await session.execute(statement)
            return
        async with self._sessions() as own, own.begin():
            await own.execute(statement)

    async def retry_later(self, job: Job, error: str) -> None:
        """Back off exponentially; give up after MAX_ATTEMPTS."""
        failed = job.attempts >= MAX_ATTEMPTS
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(ScheduledJob)
                .where(ScheduledJob.id == job.id)
                .values(
                    status=JobStatus.failed.value if failed else JobStatus.pending.value,
                    due_at=self.clock() + dt.timedelta(seconds=min(3600, 5 * 2 ** job.attempts)),
                    last_error=error[:2000],
                    claimed_by=None,
                )
            )
