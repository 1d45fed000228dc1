"""The daily retention purge: each store's photos older than its ``data_retention_days`` are deleted,
rows and bytes, by the worker.

Every store has one ``photo_retention`` job in the durable queue (bot/core/jobs.py). Running it
purges the store's old photos (:meth:`ConversationPhotos.purge_older_than`), then queues the next
run a day later in the transaction that marks this one done, so the chain goes on by itself. The
worker calls :meth:`RetentionPurges.schedule_missing` when it starts and every hour after: a store
with no purge waiting (a new store, or one whose chain ended because its job failed for good) gets
one due at once.

At most once a day per store: a job's key is the store and the day it is due, so neither two
workers scheduling at once nor a second run of the same day can queue another for that day. A
worker that dies half-way leaves the job running until its lease ends, and another worker runs it
again: a purge repeated deletes nothing more (the bytes go first, and the rows that remain still
name what is left). A failure is retried with the queue's back-off, and after the last attempt the
store's seller sees the failed job, as with every other job.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.jobs import Job, JobQueue, enqueue
from bot.core.models import JobStatus, ScheduledJob, Store
from bot.photos.conversation_photos import ConversationPhotos

log = logging.getLogger(__name__)

#: The job kind in ``scheduled_jobs``.
PHOTO_RETENTION = "photo_retention"
#: How long after one purge of a store the next is due.
PURGE_EVERY = dt.timedelta(days=1)
#: How often the worker looks for stores with no purge waiting.
SCHEDULE_EVERY = dt.timedelta(hours=1)


def purge_key(store_id: str, due_at: dt.datetime) -> str:
    """One key per store and (UTC) day: the unique key keeps a second purge of that day out of the queue."""
    return f"{PHOTO_RETENTION}:{store_id}:{due_at.astimezone(dt.UTC).date().isoformat()}"


async def _queue_purge(session: AsyncSession, store_id: str, due_at: dt.datetime) -> bool:
    return await enqueue(session, store_id, PHOTO_RETENTION, purge_key(store_id, due_at), {}, due_at)


class RetentionPurges:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], photos: ConversationPhotos) -> None:
        self._sessions = sessions
        self._photos = photos

    async def schedule_missing(self, now: dt.datetime) -> int:
        """Queue a purge due ``now`` for every store with none pending or running; how many were queued."""
        waiting = select(ScheduledJob.store_id).where(
            ScheduledJob.kind == PHOTO_RETENTION,
            ScheduledJob.status.in_((JobStatus.pending.value, JobStatus.running.value)),
        )
        queued = 0
        async with self._sessions() as session, session.begin():
            for store_id in (await session.scalars(select(Store.id).where(Store.id.not_in(waiting)))).all():
                queued += await _queue_purge(session, store_id, now)
        return queued

    async def purge(self, job: Job, queue: JobQueue) -> int:
        """The worker's side: purge the job's store, then queue its next purge; how many photos went."""
        deleted = await self._photos.purge_older_than(job.store_id)
        async with self._sessions() as session, session.begin():
            # In the transaction that finishes this job: a worker whose lease ran out queues nothing,
            # and the one that took the job over queues the next purge itself.
            await _queue_purge(session, job.store_id, queue.clock() + PURGE_EVERY)
            await queue.finish(job, session)
        if deleted:
            log.info("deleted %s photos of %s past its retention", deleted, job.store_id)
        return deleted
