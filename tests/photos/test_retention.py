"""bot/photos/retention.py, run by the worker: each store's photos past its own retention are deleted,
rows and bytes, once a day; the next purge is queued as one finishes; a failure is retried and then
shown to the seller; a dead worker's purge is taken over without a second chain of purges."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import frozen_at
from bot.core.jobs import LEASE, MAX_ATTEMPTS, FailedJobs, JobQueue
from bot.core.models import Conversation, JobStatus, Photo, PhotoBlob, ScheduledJob, Store
from bot.photos.conversation_photos import ConversationPhotos, storage_key
from bot.photos.retention import PHOTO_RETENTION, PURGE_EVERY, RetentionPurges, purge_key
from bot.photos.storage import DatabaseStorage
from bot.runtime.worker import Worker
from bot.shipping.deliveries import DeliveryNotices

STORE, OTHER_STORE = "yangteng-auto", "bloomkids-baby"
DEMO_STORES = {"yangteng-auto", "bloomkids-baby", "summit-outdoor"}
PREPARED = SimpleNamespace(jpeg=b"\xff\xd8 full jpeg", thumbnail=b"\xff\xd8 thumb", width=1200, height=900)
NOW = dt.datetime(2031, 3, 14, 9, 30, tzinfo=dt.UTC)

Sessions = async_sessionmaker[AsyncSession]


class DeleteFailsOnce(DatabaseStorage):
    """The database storage, whose first delete fails, as an S3 outage would."""

    def __init__(self, sessions: Sessions) -> None:
        super().__init__(sessions)
        self.failures_left = 1

    async def delete(self, keys: list[str]) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("the storage is unreachable")
        await super().delete(keys)


def a_worker(sessions: Sessions, photos: ConversationPhotos, name: str = "w", at: dt.datetime = NOW) -> Worker:
    # The worker runs only purges here: the delivery notices never reach Rasa, so they get none.
    deliveries = DeliveryNotices(sessions, None)  # type: ignore[arg-type]
    return Worker(JobQueue(sessions, name, clock=lambda: at), deliveries, retention=RetentionPurges(sessions, photos))


@pytest.fixture
async def store_db(demo_sessions: Sessions) -> Sessions:
    """The demo stores, each with a conversation (``c-<store>``) to hold photos."""
    async with demo_sessions() as session, session.begin():
        session.add_all([Conversation(id=f"c-{store}", store_id=store) for store in DEMO_STORES])
    return demo_sessions


async def add_photos(photos: ConversationPhotos, ages: dict[str, tuple[str, float]]) -> dict[str, str]:
    """One photo per name, in its store's conversation, ``age`` days before NOW: name to photo id."""
    added = {}
    for name, (store, age_days) in ages.items():
        with frozen_at(NOW - dt.timedelta(days=age_days)):
            added[name] = (await photos.add(store, f"c-{store}", "shopper", PREPARED)).id
    return added


async def kept(sessions: Sessions) -> tuple[set[str], set[str]]:
    """The photos' ids, and the keys of the bytes kept."""
    async with sessions() as session:
        return set(await session.scalars(select(Photo.id))), set(await session.scalars(select(PhotoBlob.key)))


def stored_bytes(*photo_ids: str) -> set[str]:
    return {storage_key(photo_id, variant) for photo_id in photo_ids for variant in ("full", "thumbnail")}


async def purge_jobs(sessions: Sessions) -> list[ScheduledJob]:
    async with sessions() as session:
        return list(
            (
                await session.scalars(
                    select(ScheduledJob).where(ScheduledJob.kind == PHOTO_RETENTION).order_by(ScheduledJob.id)
                )
            ).all()
        )


async def test_each_store_loses_the_photos_past_its_own_retention_once_a_day(store_db: Sessions) -> None:
    photos = ConversationPhotos(store_db, DatabaseStorage(store_db), per_conversation_per_day=0)
    async with store_db() as session, session.begin():
        await session.execute(update(Store).where(Store.id == STORE).values(data_retention_days=30))
    added = await add_photos(
        photos,
        {
            "31 days": (STORE, 31),
            "29.5 days": (STORE, 29.5),  # past the 30 days tomorrow
            "10 days": (STORE, 10),
            # Older than this store's 30 days, within the other store's own 365: kept.
            "other store's, 100 days": (OTHER_STORE, 100),
            "other store's, 400 days": (OTHER_STORE, 400),
        },
    )

    worker = a_worker(store_db, photos)
    with frozen_at(NOW):
        await worker.schedule_periodic()
        jobs = await purge_jobs(store_db)
        assert {(job.store_id, job.key, job.due_at) for job in jobs} == {
            (store, f"photo_retention:{store}:2031-03-14", NOW) for store in DEMO_STORES
        }
        assert await worker.run_due() == len(DEMO_STORES)

    ids, blobs = await kept(store_db)
    left = {added["29.5 days"], added["10 days"], added["other store's, 100 days"]}
    assert ids == left
    assert blobs == stored_bytes(*left)
    # Each purge is done, and queued the store's next one a day later.
    jobs = await purge_jobs(store_db)
    assert {(job.store_id, job.status) for job in jobs if job.key.endswith("2031-03-14")} == {
        (store, JobStatus.done.value) for store in DEMO_STORES
    }
    assert {(job.store_id, job.key, job.status, job.due_at) for job in jobs if job.key.endswith("15")} == {
        (store, purge_key(store, NOW + PURGE_EVERY), JobStatus.pending.value, NOW + PURGE_EVERY) for store in DEMO_STORES
    }

    # Not again the same day: nothing is due, and with a purge waiting no store gets another.
    later = NOW + dt.timedelta(hours=23)
    with frozen_at(later):
        assert await a_worker(store_db, photos, at=later).run_due() == 0
        assert await RetentionPurges(store_db, photos).schedule_missing(later) == 0

    # The next day's purge takes what has grown past the 30 days since.
    tomorrow = NOW + PURGE_EVERY
    with frozen_at(tomorrow):
        assert await a_worker(store_db, photos, at=tomorrow).run_due() == len(DEMO_STORES)
    ids, blobs = await kept(store_db)
    assert ids == {added["10 days"], added["other store's, 100 days"]}
    assert blobs == stored_bytes(added["10 days"], added["other store's, 100 days"])
    assert len([job for job in await purge_jobs(store_db) if job.status == JobStatus.pending.value]) == len(DEMO_STORES)


async def test_a_new_store_gets_its_purge_at_the_workers_next_round(store_db: Sessions) -> None:
    photos = ConversationPhotos(store_db, DatabaseStorage(store_db))
    purges = RetentionPurges(store_db, photos)
    assert await purges.schedule_missing(NOW) == len(DEMO_STORES)
    async with store_db() as session, session.begin():
        session.add(Store(id="new-store", name="New Store"))
    assert await purges.schedule_missing(NOW) == 1
    assert {job.store_id for job in await purge_jobs(store_db)} == DEMO_STORES | {"new-store"}

    # The worker schedules when it starts, then not again within the hour: a store made meanwhile
    # waits for the next round.
    worker = a_worker(store_db, photos)
    await worker.schedule_periodic()
    async with store_db() as session, session.begin():
        session.add(Store(id="newer-store", name="Newer Store"))
    await worker.schedule_periodic()
    assert "newer-store" not in {job.store_id for job in await purge_jobs(store_db)}
    assert await purges.schedule_missing(NOW) == 1


async def test_a_failed_purge_is_retried_keeps_the_rows_of_what_is_left_and_is_shown_to_the_seller(
    store_db: Sessions,
) -> None:
    storage = DeleteFailsOnce(store_db)
    photos = ConversationPhotos(store_db, storage, per_conversation_per_day=0)
    added = await add_photos(photos, {"old": (STORE, 400)})
    await RetentionPurges(store_db, photos).schedule_missing(NOW)

    with frozen_at(NOW):
        await a_worker(store_db, photos).run_due()
    [job] = [job for job in await purge_jobs(store_db) if job.store_id == STORE]
    assert (job.status, job.attempts, job.failure_reason) == (JobStatus.pending.value, 1, "error")
    assert "the storage is unreachable" in (job.last_error or "")
    assert job.due_at > NOW  # backing off
    assert (await kept(store_db)) == ({added["old"]}, stored_bytes(added["old"]))  # the row still names its bytes

    retry = NOW + dt.timedelta(minutes=1)
    with frozen_at(retry):
        assert await a_worker(store_db, photos, at=retry).run_due() == 1
    assert (await kept(store_db)) == (set(), set())
    jobs = [job for job in await purge_jobs(store_db) if job.store_id == STORE]
    assert [(job.key, job.status) for job in jobs] == [
        (purge_key(STORE, NOW), JobStatus.done.value),
        (purge_key(STORE, retry + PURGE_EVERY), JobStatus.pending.value),
    ]

    # A purge that keeps failing ends failed, and the store's seller sees it like any job.
    storage.failures_left = MAX_ATTEMPTS
    async with store_db() as session, session.begin():
        await session.execute(update(ScheduledJob).where(ScheduledJob.id == jobs[1].id).values(attempts=MAX_ATTEMPTS - 1))
    await add_photos(photos, {"older": (STORE, 500)})
    due = retry + PURGE_EVERY
    with frozen_at(due):
        await a_worker(store_db, photos, at=due).run_due()
    [failed] = await FailedJobs(store_db).list(STORE)
    assert (failed.id, failed.kind, failed.attempts) == (jobs[1].id, PHOTO_RETENTION, MAX_ATTEMPTS)
    assert await FailedJobs(store_db).list(OTHER_STORE) == []
    # Its chain ended: the next day's round queues a new purge (today's key is the failed one's).
    with frozen_at(due):
        assert await RetentionPurges(store_db, photos).schedule_missing(due) == 0
    assert await RetentionPurges(store_db, photos).schedule_missing(due + dt.timedelta(days=1)) == 1


async def test_a_dead_workers_purge_is_taken_over_and_the_chain_is_not_doubled(store_db: Sessions) -> None:
    photos = ConversationPhotos(store_db, DatabaseStorage(store_db), per_conversation_per_day=0)
    await add_photos(photos, {"old": (STORE, 400)})
    purges = RetentionPurges(store_db, photos)
    await purges.schedule_missing(NOW)
    dying = JobQueue(store_db, "dies", clock=lambda: NOW)
    claimed = {job.store_id: job for job in await dying.claim(now=NOW)}
    # While it holds the purges, no other is queued for those stores.
    assert await purges.schedule_missing(NOW) == 0

    rescued_at = NOW + LEASE * 2
    with frozen_at(rescued_at):
        assert await a_worker(store_db, photos, "rescuer", at=rescued_at).run_due() == len(DEMO_STORES)
    assert (await kept(store_db)) == (set(), set())

    # The dead worker wakes up a day late and finishes its purge: it has lost the job, so the next
    # purge it would queue (a day later than the rescuer's) is not queued.
    woke_at = rescued_at + dt.timedelta(days=1)
    with frozen_at(woke_at):
        await a_worker(store_db, photos, "dies", at=woke_at).run_job(claimed[STORE])
    jobs = [job for job in await purge_jobs(store_db) if job.store_id == STORE]
    assert [(job.status, job.claimed_by) for job in jobs] == [
        (JobStatus.done.value, "rescuer"),
        (JobStatus.pending.value, None),
    ]


@pytest.mark.parametrize("hour", [0, 23])
def test_the_key_is_the_utc_day(hour: int) -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    at = dt.datetime(2031, 3, 14, hour, 30, tzinfo=shanghai)
    assert purge_key(STORE, at) == f"photo_retention:{STORE}:{at.astimezone(dt.UTC).date().isoformat()}"
