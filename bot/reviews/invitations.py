"""Review invitations and the one reminder: queued when an order is delivered, sent by the worker.

When an order is delivered, one ``review_invitation`` job is queued in the
store database (Rasa's reminders die with Rasa), due the store's delay after
delivery: 7 days by default, never sooner than 5 nor later than 30 (Amazon's
solicitation window). The worker runs the job: it decides with
:func:`bot.reviews.invitation_rules.decide_invitation` and sends the invitation through Rasa's external
intent ``EXTERNAL_review_due``, skips it, or defers it past the shopper's
quiet hours. Every decision lands in ``review_log`` with its reason, in the
same transaction as the job's new state; the seller can export the log as CSV.

No review gating and no incentives: every eligible order gets the same
invitation. Nothing about the shopper's sentiment, complaints or ratings is
ever an input to the decision.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.chat.conversations import AGENT_HOLD_RETRY, ConversationService
from bot.chat.rasa_client import RasaClient, transcript_message, trigger_once
from bot.core.clock import utc_now
from bot.core.jobs import Job, JobQueue, NoReply, enqueue
from bot.core.models import MAX_REVIEW_DELAY_DAYS, Order, Review, ReviewLogAction, ReviewLogEntry
from bot.email.unread_messages import EmailFollowUps
from bot.reviews.invitation_rules import (
    DEFER_AGENT_HANDLING,
    SCHEDULED_DELIVERED,
    SCHEDULED_REMINDER,
    SENT_REMINDER,
    SKIP_ALREADY_INVITED,
    SKIP_ALREADY_REVIEWED,
    InvitationDecision,
    decide_invitation,
    latest_delivery,
    review_due_at,
)
from bot.reviews.shopper_reviews import ReviewService, opted_out_of_reviews
from bot.seller.templates import saved_settings

#: The job kind in ``scheduled_jobs``.
REVIEW_INVITATION = "review_invitation"
#: Job kind: the one reminder, for stores that turned reminders on.
REVIEW_REMINDER = "review_reminder"
#: The reminder follows the invitation after this long, if the window is still open by then.
REMINDER_AFTER = dt.timedelta(days=5)
#: The external intent the worker triggers in Rasa.
REVIEW_DUE = "EXTERNAL_review_due"


def _log(order: Order, action: ReviewLogAction, reason: str, at: dt.datetime | None = None) -> ReviewLogEntry:
    return ReviewLogEntry(
        store_id=order.store_id,
        order_id=order.id,
        order_number=order.order_number,
        action=action.value,
        reason=reason,
        at=at or utc_now(),
    )


async def schedule_review_invitation(
    session: AsyncSession,
    order: Order,
    delivered_at: dt.datetime,
    delay_days: int | None,
    *,
    at: dt.datetime | None = None,
) -> bool:
    """Queue the order's one review invitation inside the caller's transaction.

    Returns False, adding nothing, when the order already has its job (a
    repeated Delivered update): one invitation and one 'scheduled' row per order.
    ``at`` is the log row's time (default: now).
    """
    key = f"{REVIEW_INVITATION}:{order.id}"
    due_at = review_due_at(delivered_at, delay_days)
    if not await enqueue(session, order.store_id, REVIEW_INVITATION, key, {"order_id": order.id}, due_at):
        return False
    session.add(_log(order, ReviewLogAction.scheduled, SCHEDULED_DELIVERED, at))
    await session.flush()
    return True


class ReviewInvitations:
    """The worker's side: runs ``review_invitation`` jobs."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], rasa: RasaClient, emails: EmailFollowUps | None = None
    ) -> None:
        self._sessions = sessions
        self._rasa = rasa
        self._conversations = ConversationService(sessions)
        #: Emails the invitation to a shopper who does not read it in time (None: no email).
        self._emails = emails

    async def send_invitation(self, job: Job, queue: JobQueue) -> int:
        """Send, skip or defer the invitation; returns how many messages reached the transcript."""
        return await self._send(job, queue, reminder=False)

    async def send_reminder(self, job: Job, queue: JobQueue) -> int:
        """The one reminder: the same words and the same rules, skipped if the shopper already reviewed."""
        return await self._send(job, queue, reminder=True)

    async def _send(self, job: Job, queue: JobQueue, *, reminder: bool) -> int:
        now = queue.clock()
        async with self._sessions() as session:
            order = await session.scalar(
                select(Order)
                .where(Order.id == job.payload["order_id"], Order.store_id == job.store_id)
                .options(selectinload(Order.shipments))
            )
            if order is not None:
                opted_out = bool(order.shopper_email) and await opted_out_of_reviews(
                    session, order.store_id, order.shopper_email
                )
                # A reminder follows its invitation; what it must not repeat is a review already left.
                already_invited = False if reminder else await self._already_invited(session, order)
                reviewed = (
                    reminder
                    and await session.scalar(
                        select(Review.id).where(Review.store_id == order.store_id, Review.order_id == order.id)
                    )
                    is not None
                )
        if order is None:  # deleted since, and its log with it: nothing to say
            await queue.finish(job)
            return 0

        decision = decide_invitation(
            now,
            delivered_at=latest_delivery(order),
            order_status=order.status,
            opted_out=opted_out,
            already_invited=already_invited,
            shopper_timezone=order.shopper_timezone,
        )
        if decision.action == "send" and reviewed:
            decision = InvitationDecision("skip", SKIP_ALREADY_REVIEWED)
        if decision.action == "skip":
            await self._skip(job, queue, order, decision.reason, now)
            return 0
        if decision.action == "defer":
            assert decision.until is not None
            async with self._sessions() as session, session.begin():
                session.add(_log(order, ReviewLogAction.deferred, decision.reason, now))
                await queue.defer(job, decision.until, session)
            return 0

        async with self._sessions() as session, session.begin():
            chat, held = await self._conversations.for_shopper_in(session, order.store_id, order.shopper_email)
            if held:
                session.add(_log(order, ReviewLogAction.deferred, DEFER_AGENT_HANDLING, now))
                await queue.defer(job, now + AGENT_HOLD_RETRY, session)
                return 0
        replies = await trigger_once(
            self._rasa,
            chat.conversation_id,
            REVIEW_DUE,
            {"order_id": order.order_number},
            job.key,
            retried=job.attempts > 1,
        )
        messages = [transcript_message(reply, sender="store") for reply in replies if isinstance(reply, dict)]
        if (
            not messages
            and await ReviewService(self._sessions).order_for_review(chat.conversation_id, order.order_number) is not None
        ):
            # The action had an invitation to send and Rasa answered with none: it failed. Retried;
            # nothing is logged as sent.
            raise NoReply(f"{REVIEW_DUE} produced no messages for order {order.id}")
        try:
            async with self._sessions() as session, session.begin():
                if reminder:
                    session.add(_log(order, ReviewLogAction.reminded, SENT_REMINDER, now))
                else:
                    # The 'sent' row first: the unique index stops a second sender here.
                    session.add(_log(order, ReviewLogAction.sent, decision.reason, now))
                    await session.flush()
                    await self._schedule_reminder(session, order, now)
                stored = await self._conversations.append_in(session, chat, messages)
                if self._emails is not None:
                    await self._emails.after_stored(session, chat, stored, job.kind)
                await queue.finish(job, session)
        except IntegrityError:
            # Another run sent this order's invitation first: that one counts.
            await self._skip(job, queue, order, SKIP_ALREADY_INVITED, now)
            return 0
        return len(stored)

    @staticmethod
    async def _schedule_reminder(session: AsyncSession, order: Order, now: dt.datetime) -> None:
        """If the store turned the reminder on, queue it, once, while the window is still open."""
        review = (await saved_settings(session, order.store_id)).get("review")
        if not (isinstance(review, dict) and review.get("reminder") is True):
            return
        delivered = latest_delivery(order)
        due = now + REMINDER_AFTER
        if delivered is None or due > delivered + dt.timedelta(days=MAX_REVIEW_DELAY_DAYS):
            return
        key = f"{REVIEW_REMINDER}:{order.id}"
        if await enqueue(session, order.store_id, REVIEW_REMINDER, key, {"order_id": order.id}, due):
            session.add(_log(order, ReviewLogAction.scheduled, SCHEDULED_REMINDER, now))

    @staticmethod
    async def _already_invited(session: AsyncSession, order: Order) -> bool:
        return (
            await session.scalar(
                select(ReviewLogEntry.id).where(
                    ReviewLogEntry.store_id == order.store_id,
                    ReviewLogEntry.order_id == order.id,
                    ReviewLogEntry.action == ReviewLogAction.sent.value,
                )
            )
            is not None
        )

    async def _skip(self, job: Job, queue: JobQueue, order: Order, reason: str, now: dt.datetime) -> None:
        async with self._sessions() as session, session.begin():
            session.add(_log(order, ReviewLogAction.skipped, reason, now))
            await queue.finish(job, session)
