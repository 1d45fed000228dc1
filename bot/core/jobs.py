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

from bot.core.clock import Clock, utc_now
from bot.core.db import dialect_insert, rows_changed
from bot.core.models import JobStatus, Order, ScheduledJob, Shipment, iso_utc

#: A job claimed longer ago than this, by a worker that died, is claimed again.
LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 8

#: Why a job failed, as the seller is told (``scheduled_jobs.failure_reason``).
#: The assistant answered but said nothing where it had to (an action failed: Rasa swallows that).
FAILURE_NO_REPLY = "no_reply"
#: The assistant could not be reached, or refused the call.
FAILURE_UNREACHABLE = "assistant_unreachable"
#: Anything else (the details are in the worker's log and ``last_error``).
FAILURE_ERROR = "error"
FAILURE_REASONS = (FAILURE_NO_REPLY, FAILURE_UNREACHABLE, FAILURE_ERROR)


class ClaimLost(RuntimeError):
    """The job is no longer this worker's: its lease ran out and another worker took it."""


class NoReply(RuntimeError):
    """The assistant answered a job's intent with no message, although it had something to say:
    a failing custom action (its server down, a database error), which Rasa answers with 200."""


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
    values = dict(
        store_id=store_id,
        kind=kind,
        key=key,
        payload=payload,
        due_at=due_at or utc_now(),
        status=JobStatus.pending.value,
        attempts=0,
        created_at=utc_now(),
    )
    result = await session.execute(
        dialect_insert(session, ScheduledJob).values(**values).on_conflict_do_nothing(index_elements=["key"])
    )
    return rows_changed(result) == 1


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
                        status=JobStatus.running.value,
                        claimed_by=self.worker_id,
                        claimed_at=now,
                        attempts=ScheduledJob.attempts + 1,
                    )
                    .returning(
                        ScheduledJob.id,
                        ScheduledJob.store_id,
                        ScheduledJob.kind,
                        ScheduledJob.key,
                        ScheduledJob.payload,
                        ScheduledJob.attempts,
                    )
                )
            ).all()
        return sorted((Job(*row) for row in rows), key=lambda job: job.id)

    async def finish(self, job: Job, session: AsyncSession | None = None) -> None:
        """Mark the job done; pass the session that stored its results to make both one transaction.

        Raises :class:`ClaimLost` if another worker holds the job now (this one's lease ran
        out): the caller's transaction then rolls back, so its results are not stored twice.
        """
        statement = (
            update(ScheduledJob)
            .where(ScheduledJob.id == job.id, ScheduledJob.claimed_by == self.worker_id)
            .values(status=JobStatus.done.value, finished_at=self.clock(), last_error=None, failure_reason=None)
        )
        if session is not None:
            await self._mine(session, statement, job)
            return
        async with self._sessions() as own, own.begin():
            await self._mine(own, statement, job)

    @staticmethod
    async def _mine(session: AsyncSession, statement: Any, job: Job) -> None:
        if rows_changed(await session.execute(statement)) != 1:
            raise ClaimLost(f"job {job.id} is no longer this worker's")

    async def defer(self, job: Job, until: dt.datetime, session: AsyncSession | None = None) -> None:
        """Put the job back for later: not a failure, so the attempt does not count."""
        statement = (
            update(ScheduledJob)
            .where(ScheduledJob.id == job.id, ScheduledJob.claimed_by == self.worker_id)
            .values(status=JobStatus.pending.value, due_at=until, claimed_by=None, attempts=ScheduledJob.attempts - 1)
        )
        if session is not None:
            await self._mine(session, statement, job)
            return
        async with self._sessions() as own, own.begin():
            await self._mine(own, statement, job)

    async def retry_later(self, job: Job, error: str, reason: str = FAILURE_ERROR) -> bool:
        """Back off exponentially (:func:`retry_delay`); after MAX_ATTEMPTS the job
        is failed, and the seller sees it with ``reason``. Returns whether it failed for good.

        Only a job this worker still holds changes: a job another worker took over, or one
        whose results were committed although this worker saw an error, stays as it is.
        """
        failed = job.attempts >= MAX_ATTEMPTS
        now = self.clock()
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(ScheduledJob)
                .where(
                    ScheduledJob.id == job.id,
                    ScheduledJob.claimed_by == self.worker_id,
                    ScheduledJob.status == JobStatus.running.value,
                )
                .values(
                    status=JobStatus.failed.value if failed else JobStatus.pending.value,
                    due_at=now + retry_delay(job.attempts),
                    finished_at=now if failed else None,
                    last_error=error[:2000],
                    failure_reason=reason if reason in FAILURE_REASONS else FAILURE_ERROR,
                    claimed_by=None,
                )
            )
        return failed


def retry_delay(attempts: int) -> dt.timedelta:
    """How long a job waits after its ``attempts``-th failed attempt: 5 s, 20 s, 80 s, 5⅓ min,
    21⅓ min, then an hour: with MAX_ATTEMPTS 8, a job is tried for about 2½ hours, which outlasts
    a restart or a short outage of the assistant, before it is failed."""
    return dt.timedelta(seconds=min(3600, 5 * 4 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class FailedJob:
    """A job the worker gave up on, as the store's seller sees it."""

    id: int
    kind: str
    reason: str
    attempts: int
    failed_at: dt.datetime | None
    created_at: dt.datetime
    #: What it was about, when the order or shipment still exists.
    order_number: str | None
    tracking_number: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "reason": self.reason,
            "attempts": self.attempts,
            "failed_at": iso_utc(self.failed_at),
            "created_at": iso_utc(self.created_at),
            "order_number": self.order_number,
            "tracking_number": self.tracking_number,
        }


class JobNotRetryable(LookupError):
    """No failed job with that id in this store."""


class FailedJobs:
    """The seller's side: a store's failed jobs, and sending one again."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def list(self, store_id: str, limit: int = 100) -> list[FailedJob]:
        """The store's failed jobs, the latest failures first."""
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(ScheduledJob)
                    .where(ScheduledJob.store_id == store_id, ScheduledJob.status == JobStatus.failed.value)
                    .order_by(ScheduledJob.finished_at.desc(), ScheduledJob.id.desc())
                    .limit(limit)
                )
            ).all()
            shipment_ids = {_payload_id(job, "shipment_id") for job in rows} - {None}
            order_ids = {_payload_id(job, "order_id") for job in rows} - {None}
            shipments = (
                {
                    row.id: (row.order_number, row.tracking_number)
                    for row in (
                        await session.execute(
                            select(Shipment.id, Order.order_number, Shipment.tracking_number)
                            .join(Order, Order.id == Shipment.order_id)
                            .where(Shipment.store_id == store_id, Shipment.id.in_(shipment_ids))
                        )
                    ).all()
                }
                if shipment_ids
                else {}
            )
            # Looked up by _payload_id, which is None for a job without one: it finds nothing.
            orders: dict[int | None, str] = (
                dict(
                    (
                        await session.execute(
                            select(Order.id, Order.order_number).where(Order.store_id == store_id, Order.id.in_(order_ids))
                        )
                    )
                    .tuples()
                    .all()
                )
                if order_ids
                else {}
            )
        failed = []
        for job in rows:
            order_number, tracking_number = shipments.get(_payload_id(job, "shipment_id"), (None, None))
            order_number = order_number or orders.get(_payload_id(job, "order_id"))
            failed.append(
                FailedJob(
                    job.id,
                    job.kind,
                    job.failure_reason or FAILURE_ERROR,
                    job.attempts,
                    job.finished_at,
                    job.created_at,
                    order_number,
                    tracking_number,
                )
            )
        return failed

    async def retry(self, store_id: str, job_id: int) -> None:
        """Queue a failed job of this store again, now, with a fresh count of attempts."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(ScheduledJob)
                .where(
                    ScheduledJob.id == job_id,
                    ScheduledJob.store_id == store_id,
                    ScheduledJob.status == JobStatus.failed.value,
                )
                .values(status=JobStatus.pending.value, due_at=utc_now(), attempts=0, claimed_by=None, finished_at=None)
            )
            if rows_changed(result) != 1:
                raise JobNotRetryable(job_id)


def _payload_id(job: ScheduledJob, name: str) -> int | None:
    value = (job.payload or {}).get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
