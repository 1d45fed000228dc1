"""``python -m bot worker``: runs the durable jobs: delivery confirmations,
exception notices, install videos sent later, review invitations, shopper
messages the assistant left unanswered, emails about unread messages, and each
store's daily purge of photos past its retention (bot/photos/retention.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time

import aiohttp

from bot.chat.rasa_client import RasaClient
from bot.chat.unanswered import UNANSWERED_TURN, UnansweredTurns
from bot.core.config import Settings
from bot.core.db import get_engine, get_sessionmaker
from bot.core.jobs import FAILURE_ERROR, FAILURE_NO_REPLY, FAILURE_UNREACHABLE, Job, JobQueue, NoReply
from bot.email.unread_messages import UNREAD_EMAIL, EmailFollowUps, EmailsOff, UnreadEmails
from bot.photos.conversation_photos import ConversationPhotos
from bot.photos.retention import PHOTO_RETENTION, SCHEDULE_EVERY, RetentionPurges
from bot.photos.storage import photo_storage
from bot.reviews.invitations import REVIEW_INVITATION, REVIEW_REMINDER, ReviewInvitations
from bot.shipping.deliveries import INSTALL_VIDEO, DeliveryNotices
from bot.shipping.tracking_updates import DELIVERY_CONFIRMATION, EXCEPTION_NOTICE

log = logging.getLogger("bot.runtime.worker")
IDLE_SECONDS = 0.5


def failure_reason(exc: BaseException) -> str:
    """What the seller is told about a failed attempt (the details stay in the log)."""
    if isinstance(exc, NoReply):
        return FAILURE_NO_REPLY
    if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError)):
        return FAILURE_UNREACHABLE
    return FAILURE_ERROR


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        deliveries: DeliveryNotices,
        concurrency: int = 8,
        reviews: ReviewInvitations | None = None,
        unanswered: UnansweredTurns | None = None,
        emails: UnreadEmails | EmailsOff | None = None,
        retention: RetentionPurges | None = None,
    ) -> None:
        self.queue, self.deliveries, self.concurrency = queue, deliveries, concurrency
        self.retention = retention
        #: ``time.monotonic()`` when the stores' purges were last scheduled (None: not yet).
        self._scheduled_at: float | None = None
        self.handlers = {
            DELIVERY_CONFIRMATION: deliveries.send_confirmation,
            EXCEPTION_NOTICE: deliveries.send_exception_notice,
            INSTALL_VIDEO: deliveries.send_install_video,
        }
        if reviews is not None:
            self.handlers[REVIEW_INVITATION] = reviews.send_invitation
            self.handlers[REVIEW_REMINDER] = reviews.send_reminder
        if unanswered is not None:
            self.handlers[UNANSWERED_TURN] = unanswered.answer
        if emails is not None:
            self.handlers[UNREAD_EMAIL] = emails.send
        if retention is not None:
            self.handlers[PHOTO_RETENTION] = retention.purge

    async def run_job(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            await handler(job, self.queue)
        except Exception as exc:  # noqa: BLE001 - any failure is retried later, never lost
            log.warning("job %s (%s) failed on attempt %s: %s", job.id, job.kind, job.attempts, exc)
            if await self.queue.retry_later(job, f"{exc.__class__.__name__}: {exc}", failure_reason(exc)):
                log.error(
                    "job %s (%s) failed for good after %s attempts; its store's seller sees it",
                    job.id,
                    job.kind,
                    job.attempts,
                )

    async def run_due(self) -> int:
        """Run the jobs due now; returns how many were claimed."""
        jobs = await self.queue.claim(limit=self.concurrency * 4)
        if jobs:
            semaphore = asyncio.Semaphore(self.concurrency)

            async def bounded(job: Job) -> None:
                async with semaphore:
                    await self.run_job(job)

            await asyncio.gather(*(bounded(job) for job in jobs))
        return len(jobs)

    async def schedule_periodic(self) -> None:
        """Queue the periodic jobs a store has none of yet: at start, then every SCHEDULE_EVERY."""
        if self.retention is None:
            return
        if self._scheduled_at is not None and time.monotonic() - self._scheduled_at < SCHEDULE_EVERY.total_seconds():
            return
        self._scheduled_at = time.monotonic()
        try:
            queued = await self.retention.schedule_missing(self.queue.clock())
        except Exception as exc:  # noqa: BLE001 - the next round tries again; the jobs already queued still run
            log.warning("scheduling the photo retention purges failed: %s", exc)
            return
        if queued:
            log.info("queued the photo retention purge of %s stores", queued)

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.schedule_periodic()
            if await self.run_due() == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), IDLE_SECONDS)


def run_worker(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        worker_id = f"{socket.gethostname()}:{os.getpid()}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            sessions = get_sessionmaker()
            rasa = RasaClient(settings, http)
            follow_ups = EmailFollowUps.when_enabled(settings)
            # With email off, jobs queued while it was on finish as skipped instead of failing.
            emails = UnreadEmails(sessions, settings) if follow_ups is not None else EmailsOff(sessions)
            worker = Worker(
                JobQueue(sessions, worker_id),
                DeliveryNotices(sessions, rasa, follow_ups),
                reviews=ReviewInvitations(sessions, rasa, follow_ups),
                unanswered=UnansweredTurns(sessions, rasa),
                emails=emails,
                retention=RetentionPurges(
                    sessions,
                    ConversationPhotos(
                        sessions, photo_storage(settings, sessions), settings.photos_per_conversation_per_day
                    ),
                ),
            )
            log.info(
                "worker %s started; email %s",
                worker_id,
                f"through {settings.smtp_host}:{settings.smtp_port}" if follow_ups else "off (no SMTP_HOST)",
            )
            try:
                await worker.run_forever(stop)
            finally:
                await get_engine().dispose()

    asyncio.run(main())
