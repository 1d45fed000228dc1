"""Unread store and agent messages, emailed to a shopper who is not on the page.

When the store writes first (a delivery confirmation, an exception notice, an install video, a
review invitation) or an agent answers, the code that stores the messages calls
:meth:`EmailFollowUps.after_stored` in the same transaction. That queues one durable
``unread_email`` job per *burst*, due after the delay (``EMAIL_AFTER_UNREAD_SECONDS``): a
burst is the run of messages the shopper has neither read nor been emailed, known by its
first message, which is the job's key, so the messages stored while a burst waits join it.

When the job runs (:class:`UnreadEmails`), a shopper whose widget was given the burst's first
message (fetched it, or had it pushed to an open websocket: ``conversations.shopper_read_seq``)
gets nothing; otherwise one email with every unread message of the burst. The email is recorded
in ``email_notifications`` in the transaction that marks the job done; a burst already recorded
is never sent again. An SMTP failure is the job's failed attempt: retried with the queue's
back-off, and after the last one the seller sees the failed job.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ChatSession, StoredMessage, stored_message
from bot.core.clock import utc_now
from bot.core.config import Settings
from bot.core.jobs import ClaimLost, Job, JobQueue, enqueue
from bot.core.models import Conversation, EmailNotification, JobStatus, Message, ScheduledJob, Store
from bot.email.composition import Notification, compose
from bot.email.smtp_client import SmtpMailer

log = logging.getLogger(__name__)

#: The job kind in ``scheduled_jobs``.
UNREAD_EMAIL = "unread_email"
#: Who writes the messages an email is about; the bot's answers to the shopper's own turns are not.
EMAILED_SENDERS = ("store", "agent")
#: The kind of a burst the worker queued itself: messages stored while an email about the
#: messages before them was being sent, or left unread after the shopper read part of a burst.
LATER_MESSAGES = "later_messages"
#: Messages one email carries at most (a burst is rarely more than a handful).
MAX_MESSAGES_PER_EMAIL = 50


async def _emailed_up_to(session: AsyncSession, store_id: str, conversation_id: str) -> int:
    last = await session.scalar(
        select(func.max(EmailNotification.last_seq)).where(
            EmailNotification.store_id == store_id, EmailNotification.conversation_id == conversation_id
        )
    )
    return int(last or 0)


async def _first_unread(session: AsyncSession, store_id: str, conversation_id: str, after: int) -> Message | None:
    return await session.scalar(
        select(Message)
        .where(
            Message.store_id == store_id,
            Message.conversation_id == conversation_id,
            Message.seq > after,
            Message.sender.in_(EMAILED_SENDERS),
        )
        .order_by(Message.seq)
        .limit(1)
    )


async def _queue_burst(
    session: AsyncSession, store_id: str, conversation_id: str, first_seq: int, kind: str, due_at: dt.datetime
) -> bool:
    return await enqueue(
        session,
        store_id,
        UNREAD_EMAIL,
        f"{UNREAD_EMAIL}:{conversation_id}:{first_seq}",
        {"conversation_id": conversation_id, "first_seq": first_seq, "kind": kind},
        due_at,
    )


@dataclass(frozen=True)
class EmailFollowUps:
    """The storing side: queues the email for a burst of unread messages."""

    delay: dt.timedelta

    @classmethod
    def when_enabled(cls, settings: Settings) -> EmailFollowUps | None:
        """The follow-ups the settings ask for; None when email is off (no SMTP host, or turned off)."""
        if not settings.email_enabled:
            return None
        return cls(dt.timedelta(seconds=settings.email_after_unread_seconds))

    async def after_stored(
        self, session: AsyncSession, chat: ChatSession, stored: Sequence[StoredMessage], kind: str
    ) -> bool:
        """Call in the transaction that stored ``stored`` (the store's or an agent's messages);
        ``kind`` says what they are (``delivery_confirmation``, ``agent_reply``, ...). Returns
        whether this queued a new email job (False: no known address, or the burst has one)."""
        outgoing = [message.seq for message in stored if message.sender in EMAILED_SENDERS]
        if not outgoing:
            return False
        conversation = await session.scalar(
            select(Conversation).where(Conversation.id == chat.conversation_id, Conversation.store_id == chat.store_id)
        )
        if conversation is None or not conversation.shopper_email:
            return False
        since = max(conversation.shopper_read_seq, await _emailed_up_to(session, chat.store_id, chat.conversation_id))
        unread = [seq for seq in outgoing if seq > since]
        if not unread:
            return False
        # Messages stored while a burst's email waits (or is being sent) join that burst; otherwise
        # these start one. Older unread messages nobody queued an email for (stored while email
        # was off) are not emailed now, long after.
        waiting = await _waiting_burst(session, chat.store_id, chat.conversation_id)
        first = waiting if waiting is not None and waiting > since else min(unread)
        return await _queue_burst(session, chat.store_id, chat.conversation_id, first, kind, utc_now() + self.delay)


async def _waiting_burst(session: AsyncSession, store_id: str, conversation_id: str) -> int | None:
    """The first message of the conversation's burst whose email is queued or being sent, if any."""
    prefix = f"{UNREAD_EMAIL}:{conversation_id}:"
    keys = await session.scalars(
        select(ScheduledJob.key).where(
            ScheduledJob.store_id == store_id,
            ScheduledJob.status.in_((JobStatus.pending.value, JobStatus.running.value)),
            ScheduledJob.kind == UNREAD_EMAIL,
            ScheduledJob.key.startswith(prefix, autoescape=True),
        )
    )
    firsts = [int(key.removeprefix(prefix)) for key in keys if key.removeprefix(prefix).isdigit()]
    return max(firsts, default=None)


@dataclass(frozen=True)
class _Burst:
    store_name: str
    to: str
    messages: list[StoredMessage]
    earlier: list[str]


class UnreadEmails:
    """The worker's side: runs ``unread_email`` jobs."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], mailer: SmtpMailer, sender: str, delay: dt.timedelta
    ) -> None:
        self._sessions = sessions
        self._mailer = mailer
        self._sender = sender
        self._delay = delay

    async def send(self, job: Job, queue: JobQueue) -> int:
        """Email the burst unless it was read or already emailed; returns how many messages the email carried."""
        conversation_id, first_seq = str(job.payload["conversation_id"]), int(job.payload["first_seq"])
        kind = str(job.payload.get("kind") or UNREAD_EMAIL)
        async with self._sessions() as session, session.begin():
            burst = await self._unread_burst(session, job, queue, conversation_id, first_seq)
            if burst is None:
                await queue.finish(job, session)
                return 0
        now = queue.clock()
        mail = compose(
            Notification(
                job.store_id, burst.store_name, conversation_id, self._sender, burst.to, burst.messages, burst.earlier, now
            )
        )
        await self._mailer.send(mail)
        record = EmailNotification(
            store_id=job.store_id,
            conversation_id=conversation_id,
            to_address=burst.to,
            message_id=str(mail["Message-ID"]),
            kind=kind,
            first_seq=first_seq,
            last_seq=burst.messages[-1].seq,
            sent_at=now,
        )
        try:
            async with self._sessions() as session, session.begin():
                await self._record(session, record, queue)
                await queue.finish(job, session)
        except IntegrityError:
            # Recorded by another run of this burst first (a worker whose lease ran out): that one counts.
            log.warning("email for burst %s of a conversation of %s was already recorded", first_seq, job.store_id)
            await queue.finish(job)
        except ClaimLost:
            # Sent, but this worker's lease ran out meanwhile: record it all the same, so that the
            # worker that took the job over finds it sent instead of sending it again.
            with contextlib.suppress(IntegrityError):
                async with self._sessions() as session, session.begin():
                    await self._record(session, record, queue)
            raise
        return len(burst.messages)

    async def _record(self, session: AsyncSession, record: EmailNotification, queue: JobQueue) -> None:
        """Record the email sent; a message stored while it was being sent starts the next burst."""
        # A write first: it waits for a transaction storing messages in this conversation (which
        # holds the row from its first statement) and makes the one storing after it see this
        # record. SQLite then holds its one write lock from here, so nothing reads a stale snapshot.
        await session.execute(
            update(Conversation)
            .where(Conversation.id == record.conversation_id, Conversation.store_id == record.store_id)
            .values(last_seq=Conversation.last_seq)
        )
        session.add(record)
        await session.flush()
        read_seq = await session.scalar(
            select(Conversation.shopper_read_seq).where(
                Conversation.id == record.conversation_id, Conversation.store_id == record.store_id
            )
        )
        await self._queue_later_burst(
            session, queue, record.store_id, record.conversation_id, max(record.last_seq, read_seq or 0)
        )

    async def _queue_later_burst(
        self, session: AsyncSession, queue: JobQueue, store_id: str, conversation_id: str, after: int
    ) -> None:
        """The job of the first unread message after ``after``, if there is one: its own burst, due
        when its delay ends (at once if that has passed)."""
        later = await _first_unread(session, store_id, conversation_id, after)
        if later is not None:
            due = max(queue.clock(), later.created_at + self._delay)
            await _queue_burst(session, store_id, conversation_id, later.seq, LATER_MESSAGES, due)

    async def _unread_burst(
        self, session: AsyncSession, job: Job, queue: JobQueue, conversation_id: str, first_seq: int
    ) -> _Burst | None:
        """What to email, or None: the conversation is gone, has no address, or the burst was read or emailed."""
        store_id = job.store_id
        row = (
            await session.execute(
                select(Conversation.shopper_email, Conversation.shopper_read_seq, Store.name)
                .join(Store, Store.id == Conversation.store_id)
                .where(Conversation.id == conversation_id, Conversation.store_id == store_id)
            )
        ).first()
        if row is None:
            return None
        to, read_seq, store_name = row._tuple()
        if not to:
            return None
        sent = await session.scalar(
            select(EmailNotification.id).where(
                EmailNotification.store_id == store_id,
                EmailNotification.conversation_id == conversation_id,
                EmailNotification.first_seq == first_seq,
            )
        )
        if sent is not None:
            return None
        since = max(read_seq, await _emailed_up_to(session, store_id, conversation_id))
        if since >= first_seq:
            # The shopper was given the burst's first message (or an earlier email carried it).
            # Messages after it that are still unread are a burst of their own, and get its job
            # (if they have none yet: the widget read only part of the transcript).
            await self._queue_later_burst(session, queue, store_id, conversation_id, since)
            return None
        rows = await session.scalars(
            select(Message)
            .where(
                Message.store_id == store_id,
                Message.conversation_id == conversation_id,
                Message.seq >= first_seq,
                Message.sender.in_(EMAILED_SENDERS),
            )
            .order_by(Message.seq)
            .limit(MAX_MESSAGES_PER_EMAIL)
        )
        messages = [stored_message(message) for message in rows]
        if not messages:
            return None
        earlier = await session.scalars(
            select(EmailNotification.message_id)
            .where(EmailNotification.store_id == store_id, EmailNotification.conversation_id == conversation_id)
            .order_by(EmailNotification.sent_at, EmailNotification.id)
        )
        return _Burst(store_name, to, messages, list(earlier))
