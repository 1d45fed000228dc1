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

Before sending, the job finishes without an email (and says why in its payload's ``skipped``
and the worker's log) when the seller turned the kind off, the address bounced or complained
(``email_suppressions``), or a review request goes to an address that opted out of reviews. In
the shopper's quiet hours (their browser's timezone known) it waits until they end.

A shopper's emailed turn is answered by email (``email_answer``): the bot's answers count as
messages to email, and are due at once.
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
from bot.core.models import (
    Conversation,
    EmailNotification,
    JobStatus,
    Message,
    Order,
    ScheduledJob,
    Store,
)
from bot.core.quiet_hours import quiet_hours_end
from bot.email.composition import Notification, compose, continue_url
from bot.email.manual_attachments import ManualAttachments
from bot.email.reply_addresses import bounce_address, reply_address, reply_token
from bot.email.signed_links import CONTINUE_CHAT, SignedLinks
from bot.email.smtp_client import SmtpMailer, SmtpServer
from bot.email.store_email import MARKETING_KINDS, StoreEmailSettings, store_email_settings
from bot.email.suppressions import is_suppressed
from bot.email.unsubscribe import unsubscribe_token, unsubscribe_url
from bot.reviews.shopper_reviews import opted_out_of_reviews
from bot.seller.templates import first_name, render, store_templates

log = logging.getLogger(__name__)

#: The job kind in ``scheduled_jobs``.
UNREAD_EMAIL = "unread_email"
#: Who writes the messages an email is about; the bot's answers to the shopper's own turns are not.
EMAILED_SENDERS = ("store", "agent")
#: The kind of a burst of the bot's answers to a turn the shopper sent by email: those answers
#: are emailed too (the shopper is in their mail, not on the page), at once.
EMAIL_ANSWER = "email_answer"
#: Who writes the messages a burst carries once it is queued: the bot's answers the shopper has
#: not seen are in it too (the ones the widget showed are read, so never emailed).
BURST_SENDERS = ("store", "agent", "bot")
#: The kind of a burst the worker queued itself: messages stored while an email about the
#: messages before them was being sent, or left unread after the shopper read part of a burst.
LATER_MESSAGES = "later_messages"
#: Messages one email carries at most (a burst is rarely more than a handful).
MAX_MESSAGES_PER_EMAIL = 50
#: Why a job finished without an email (its payload's ``skipped``).
SKIPPED_KIND_OFF = "kind_off"
SKIPPED_SUPPRESSED = "address_suppressed"
SKIPPED_REVIEW_OPT_OUT = "review_opt_out"
SKIPPED_EMAIL_OFF = "email_off"


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
            Message.sender.in_(BURST_SENDERS),
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
        _burst_key(conversation_id, first_seq),
        {"conversation_id": conversation_id, "first_seq": first_seq, "kind": kind},
        due_at,
    )


@dataclass(frozen=True)
class EmailFollowUps:
    """The storing side: queues the email for a burst of unread messages."""

    delay: dt.timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailFollowUps:
        return cls(dt.timedelta(seconds=settings.email_after_unread_seconds))

    @classmethod
    def when_enabled(cls, settings: Settings) -> EmailFollowUps | None:
        """The follow-ups the settings ask for; None when email is off (no SMTP host, or turned off)."""
        if not settings.email_enabled:
            return None
        return cls.from_settings(settings)

    async def after_stored(
        self, session: AsyncSession, chat: ChatSession, stored: Sequence[StoredMessage], kind: str
    ) -> bool:
        """Call in the transaction that stored ``stored`` (the store's or an agent's messages);
        ``kind`` says what they are (``delivery_confirmation``, ``agent_reply``, ...; ``email_answer``:
        the bot's answers to an emailed turn, emailed at once). Returns whether this queued a new
        email job (False: no known address, or the burst has one)."""
        senders = BURST_SENDERS if kind == EMAIL_ANSWER else EMAILED_SENDERS
        outgoing = [message.seq for message in stored if message.sender in senders]
        if not outgoing:
            return False
        conversation = await session.scalar(
            select(Conversation).where(Conversation.id == chat.conversation_id, Conversation.store_id == chat.store_id)
        )
        if conversation is None or not conversation.email_address:
            return False
        if kind != EMAIL_ANSWER and not (await store_email_settings(session, chat.store_id)).sends(kind):
            # The seller turned this kind off: no burst starts (a later one, say an agent's reply,
            # still carries these messages if they are unread then).
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
        if kind != EMAIL_ANSWER:
            return await _queue_burst(session, chat.store_id, chat.conversation_id, first, kind, utc_now() + self.delay)
        now = utc_now()
        if await _queue_burst(session, chat.store_id, chat.conversation_id, first, kind, now):
            return True
        # The answer joined a burst still waiting for its delay: the shopper is waiting for the
        # answer, so the burst goes now (one running already is being sent, and its later
        # messages get their own burst).
        await session.execute(
            update(ScheduledJob)
            .where(
                ScheduledJob.store_id == chat.store_id,
                ScheduledJob.key == _burst_key(chat.conversation_id, first),
                ScheduledJob.status == JobStatus.pending.value,
                ScheduledJob.due_at > now,
            )
            .values(due_at=now)
        )
        return False


def _burst_key(conversation_id: str, first_seq: int) -> str:
    return f"{UNREAD_EMAIL}:{conversation_id}:{first_seq}"


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
    store: Store
    to: str
    timezone: str | None
    messages: list[StoredMessage]
    earlier: list[str]


@dataclass(frozen=True)
class _Ready:
    """What one email needs from the database, read in the transaction that decided to send it."""

    burst: _Burst
    email: StoreEmailSettings
    reply_token: str
    subject: str
    intro: str
    footer: str


async def _skip(session: AsyncSession, job: Job, queue: JobQueue, reason: str) -> None:
    """Finish the job without an email, saying why in its payload (the job's result)."""
    await session.execute(
        update(ScheduledJob)
        .where(ScheduledJob.id == job.id, ScheduledJob.store_id == job.store_id)
        .values(payload={**job.payload, "skipped": reason})
    )
    await queue.finish(job, session)
    log.info("email job %s of %s finished without an email: %s", job.id, job.store_id, reason)


class EmailsOff:
    """The worker's side when this worker has email off (no SMTP host, or turned off): a job
    queued while email was on finishes, recorded as skipped, instead of failing attempt after attempt."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def send(self, job: Job, queue: JobQueue) -> int:
        async with self._sessions() as session, session.begin():
            await _skip(session, job, queue, SKIPPED_EMAIL_OFF)
        return 0


class UnreadEmails:
    """The worker's side: runs ``unread_email`` jobs."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: Settings, mailer: SmtpMailer | None = None
    ) -> None:
        """``mailer``: the deployment's way out (built from the settings when None); a store with
        its own SMTP server (``stores.smtp_host``) sends through that one instead."""
        self._sessions = sessions
        self._settings = settings
        self._mailer = mailer or SmtpMailer(SmtpServer.from_settings(settings))
        self._sender = settings.email_sender
        # The one delay of the storing side, so that a later burst is due when its own would have been.
        self._delay = EmailFollowUps.from_settings(settings).delay
        self._links = SignedLinks(settings.email_link_secret)
        self._attachments = ManualAttachments(sessions, settings.public_base_url, settings.email_attachment_max_bytes)

    def _mailer_for(self, store: Store) -> SmtpMailer:
        own = SmtpServer.of_store(store)
        return self._mailer if own is None else SmtpMailer(own)

    async def send(self, job: Job, queue: JobQueue) -> int:
        """Email the burst unless it was read or already emailed, the seller or the shopper said
        no, or it is the shopper's quiet time; returns how many messages the email carried."""
        conversation_id, first_seq = str(job.payload["conversation_id"]), int(job.payload["first_seq"])
        kind = str(job.payload.get("kind") or UNREAD_EMAIL)
        now = queue.clock()
        async with self._sessions() as session, session.begin():
            ready = await self._ready(session, job, queue, conversation_id, first_seq, kind, now)
            if ready is None:
                return 0
        burst = ready.burst
        store_id, public = job.store_id, self._settings.public_base_url
        domain = ready.email.reply_domain or self._settings.reply_domain
        continue_token = self._links.sign(
            CONTINUE_CHAT,
            [store_id, conversation_id],
            now + dt.timedelta(days=self._settings.email_continue_link_days),
        )
        unsubscribe = (
            unsubscribe_url(public, unsubscribe_token(self._links, store_id, burst.to, now))
            if kind in MARKETING_KINDS
            else None
        )
        mail = compose(
            Notification(
                store_id,
                burst.store.name,
                conversation_id,
                self._sender,
                burst.to,
                burst.messages,
                burst.earlier,
                now,
                sender_name=ready.email.sender_name,
                reply_to=reply_address(ready.reply_token, domain),
                subject_text=ready.subject,
                intro=ready.intro,
                footer=ready.footer,
                continue_link=continue_url(public, continue_token),
                unsubscribe_link=unsubscribe,
                attachments=await self._attachments.manual_attachments(store_id, burst.messages),
            )
        )
        # Bounces come back to the conversation's own address, so the inbound side knows whose.
        await self._mailer_for(burst.store).send(mail, mail_from=bounce_address(ready.reply_token, domain))
        record = EmailNotification(
            store_id=store_id,
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

    async def _ready(
        self,
        session: AsyncSession,
        job: Job,
        queue: JobQueue,
        conversation_id: str,
        first_seq: int,
        kind: str,
        now: dt.datetime,
    ) -> _Ready | None:
        """What to send; None when the job is finished (nothing to send, or skipped) or deferred."""
        store_id = job.store_id
        burst = await self._unread_burst(session, job, queue, conversation_id, first_seq)
        if burst is None:
            await queue.finish(job, session)
            return None
        email = await store_email_settings(session, store_id)
        skipped = None
        if not email.sends(kind):
            skipped = SKIPPED_KIND_OFF
        elif await is_suppressed(session, store_id, burst.to):
            skipped = SKIPPED_SUPPRESSED
        elif kind in MARKETING_KINDS and await opted_out_of_reviews(session, store_id, burst.to):
            skipped = SKIPPED_REVIEW_OPT_OUT
        if skipped is not None:
            await _skip(session, job, queue, skipped)
            return None
        # The answer to a turn the shopper just emailed is awaited, whatever the hour.
        until = None if kind == EMAIL_ANSWER else quiet_hours_end(now, burst.timezone, email.quiet_hours)
        if until is not None:
            await queue.defer(job, until, session)
            return None
        templates = await store_templates(session, store_id)
        shopper_name = await session.scalar(
            select(Order.shopper_name)
            .where(Order.store_id == store_id, Order.shopper_email == burst.to)
            .order_by(Order.id.desc())
            .limit(1)
        )
        values = {"store_name": burst.store.name, "shopper_first_name": first_name(shopper_name)}
        return _Ready(
            burst,
            email,
            await reply_token(session, store_id, conversation_id),
            render(templates["email_subject"], values),
            render(templates["email_intro"], values),
            render(templates["email_footer"], values),
        )

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
                select(Conversation, Store)
                .join(Store, Store.id == Conversation.store_id)
                .where(Conversation.id == conversation_id, Conversation.store_id == store_id)
            )
        ).first()
        if row is None:
            return None
        conversation, store = row._tuple()
        to, read_seq = conversation.email_address, conversation.shopper_read_seq
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
                Message.sender.in_(BURST_SENDERS),
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
        # The browser's timezone, else the one the store gave with the shopper's latest order.
        timezone = conversation.shopper_timezone or await session.scalar(
            select(Order.shopper_timezone)
            .where(Order.store_id == store_id, func.lower(Order.shopper_email) == to, Order.shopper_timezone.is_not(None))
            .order_by(Order.id.desc())
            .limit(1)
        )
        return _Burst(store, to, timezone, messages, list(earlier))
