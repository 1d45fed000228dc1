"""Review invitations, ratings and opt-outs.

When an order is delivered, one ``review_invitation`` job is queued in the
store database (Rasa's reminders die with Rasa), due the store's delay after
delivery: 7 days by default, never sooner than 5 nor later than 30 (Amazon's
solicitation window). The worker runs the job: it decides with
:func:`decide_invitation` and sends the invitation through Rasa's external
intent ``EXTERNAL_review_due``, skips it, or defers it past the shopper's
quiet hours. Every decision lands in ``review_log`` with its reason, in the
same transaction as the job's new state; the seller can export the log as CSV.

No review gating and no incentives: every eligible order gets the same
invitation. Nothing about the shopper's sentiment, complaints or ratings is
ever an input to the decision.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.chat.conversations import AGENT_HOLD_RETRY, ConversationService, UnknownStore
from bot.chat.rasa_client import RasaClient, transcript_message, trigger_once
from bot.core.clock import utc_now
from bot.core.db import dialect_insert
from bot.core.jobs import Job, JobQueue, NoReply, enqueue
from bot.core.models import (
    DEFAULT_REVIEW_DELAY_DAYS,
    MAX_REVIEW_DELAY_DAYS,
    MIN_REVIEW_DELAY_DAYS,
    Conversation,
    Order,
    OrderStatus,
    Review,
    ReviewLogAction,
    ReviewLogEntry,
    ReviewOptOut,
    Shipment,
    Store,
)
from bot.orders.lookup import order_lookup_key
from bot.seller.templates import first_name, render, saved_settings, store_templates

#: The job kind in ``scheduled_jobs``.
REVIEW_INVITATION = "review_invitation"
#: Job kind: the one reminder, for stores that turned reminders on.
REVIEW_REMINDER = "review_reminder"
#: The reminder follows the invitation after this long, if the window is still open by then.
REMINDER_AFTER = dt.timedelta(days=5)
#: The external intent the worker triggers in Rasa.
REVIEW_DUE = "EXTERNAL_review_due"
#: No invitation goes out between these local times (when the shopper's timezone is known).
QUIET_HOURS_START = dt.time(21, 0)
QUIET_HOURS_END = dt.time(8, 0)
#: Shoppers' review text is kept to this many characters.
MAX_REVIEW_CHARS = 2000

#: Why an invitation was scheduled, sent, skipped or deferred (``review_log.reason``).
SCHEDULED_DELIVERED = "delivered"
SENT_ELIGIBLE = "eligible"
SKIP_OPTED_OUT = "opted_out"
SKIP_ALREADY_INVITED = "already_invited"
SKIP_ORDER_CANCELLED = "order_cancelled"
SKIP_ORDER_RETURNED = "order_returned"
SKIP_WINDOW_PASSED = "window_passed"
#: Not one of the compliance rules: the order has no delivery time at all
#: (its shipments were re-imported without one), so there is no window to be in.
SKIP_NOT_DELIVERED = "not_delivered"
DEFER_QUIET_HOURS = "quiet_hours"
DEFER_TOO_EARLY = "too_early"
#: A person from the store is talking with the shopper: the invitation waits until the chat is handed back.
DEFER_AGENT_HANDLING = "agent_handling"
#: The reminder: scheduled after the invitation, sent once, skipped if the shopper already reviewed.
SCHEDULED_REMINDER = "reminder"
SENT_REMINDER = "reminder"
SKIP_ALREADY_REVIEWED = "already_reviewed"

_UTC = dt.UTC


def clamp_review_delay(delay_days: int | None) -> int:
    """The store's delay, inside the solicitation window (5 to 30 days)."""
    if delay_days is None:
        return DEFAULT_REVIEW_DELAY_DAYS
    return max(MIN_REVIEW_DELAY_DAYS, min(MAX_REVIEW_DELAY_DAYS, int(delay_days)))


def review_due_at(delivered_at: dt.datetime, delay_days: int | None = DEFAULT_REVIEW_DELAY_DAYS) -> dt.datetime:
    """When the invitation is due: delivery time plus the store's delay, clamped to 5..30 days."""
    return delivered_at + dt.timedelta(days=clamp_review_delay(delay_days))


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # The importer validates timezones; an unknown name means "unknown": no quiet hours.
        return None


def quiet_hours_end(moment: dt.datetime, shopper_timezone: str | None) -> dt.datetime | None:
    """The next 08:00 in the shopper's timezone if ``moment`` is in their quiet hours, else None."""
    zone = _zone(shopper_timezone)
    if zone is None:
        return None
    local = moment.astimezone(zone)
    if QUIET_HOURS_END <= local.time() < QUIET_HOURS_START:
        return None
    day = local.date() + dt.timedelta(days=1) if local.time() >= QUIET_HOURS_START else local.date()
    return dt.datetime.combine(day, QUIET_HOURS_END, tzinfo=zone).astimezone(_UTC)


@dataclass(frozen=True)
class InvitationDecision:
    action: Literal["send", "skip", "defer"]
    reason: str
    #: For "defer": when to look again.
    until: dt.datetime | None = None


def decide_invitation(
    now: dt.datetime,
    *,
    delivered_at: dt.datetime | None,
    order_status: str,
    opted_out: bool,
    already_invited: bool,
    shopper_timezone: str | None,
) -> InvitationDecision:
    """Send, skip or defer one order's review invitation.

    The only reasons to skip are the shopper's opt-out, an invitation already
    sent, a cancelled or returned order, and a closed window (30 days after
    delivery). This function deliberately takes no sentiment, complaint
    (escalation) or rating: asking only the happy shoppers for reviews
    ("review gating") breaks Amazon's and Google's review policies and the
    FTC's rule on consumer reviews, so nothing of the kind can reach it.
    """
    if opted_out:
        return InvitationDecision("skip", SKIP_OPTED_OUT)
    if already_invited:
        return InvitationDecision("skip", SKIP_ALREADY_INVITED)
    if order_status == OrderStatus.cancelled.value:
        return InvitationDecision("skip", SKIP_ORDER_CANCELLED)
    if order_status == OrderStatus.returned.value:
        return InvitationDecision("skip", SKIP_ORDER_RETURNED)
    if delivered_at is None:
        return InvitationDecision("skip", SKIP_NOT_DELIVERED)
    if now > delivered_at + dt.timedelta(days=MAX_REVIEW_DELAY_DAYS):
        return InvitationDecision("skip", SKIP_WINDOW_PASSED)
    earliest = delivered_at + dt.timedelta(days=MIN_REVIEW_DELAY_DAYS)
    if now < earliest:
        # Never before the window opens; and not into the night when it does.
        return InvitationDecision("defer", DEFER_TOO_EARLY, quiet_hours_end(earliest, shopper_timezone) or earliest)
    morning = quiet_hours_end(now, shopper_timezone)
    if morning is not None:
        # Deferred, not dropped; past the window, the next run skips it as window_passed.
        return InvitationDecision("defer", DEFER_QUIET_HOURS, morning)
    return InvitationDecision("send", SENT_ELIGIBLE)


def _log(order: Order, action: ReviewLogAction, reason: str, at: dt.datetime | None = None) -> ReviewLogEntry:
    return ReviewLogEntry(
        store_id=order.store_id,
        order_id=order.id,
        order_number=order.order_number,
        action=action.value,
        reason=reason,
        at=at or utc_now(),
    )


def latest_delivery(order: Order) -> dt.datetime | None:
    """When the order's last parcel arrived (its shipments must be loaded)."""
    times = [s.delivered_at for s in order.shipments if s.delivered_at is not None]
    return max(times) if times else None


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

    def __init__(self, sessions: async_sessionmaker[AsyncSession], rasa: RasaClient) -> None:
        self._sessions = sessions
        self._rasa = rasa
        self._conversations = ConversationService(sessions)

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
                opted_out = (
                    await session.scalar(
                        select(ReviewOptOut.shopper_email).where(
                            ReviewOptOut.store_id == order.store_id, ReviewOptOut.shopper_email == order.shopper_email
                        )
                    )
                    is not None
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


@dataclass(frozen=True)
class ReviewableOrder:
    store_id: str
    order_id: int
    order_number: str
    skus: list[str]
    item_names: list[str]
    shopper_email: str
    shopper_name: str = ""


def fill_review_url(template: str, order_number: str, sku: str | None) -> str:
    """The store's review link with ``{order_number}`` and ``{sku}`` filled in, URL-encoded.
    str.replace, never str.format: the template is the seller's text."""
    return template.replace("{order_number}", quote(order_number, safe="")).replace("{sku}", quote(sku or "", safe=""))


def _csv_cell(value: str) -> str:
    """Seller data that a spreadsheet would run as a formula is kept as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class ReviewService:
    """The chat's side: which order a review is for, ratings, opt-outs, the review link, the log."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def order_for_review(self, conversation_id: str, order_number: str | None) -> ReviewableOrder | None:
        """The identified shopper's delivered order (the latest one if no number is given), or None."""
        async with self._sessions() as session:
            conversation = await session.scalar(select(Conversation).where(Conversation.id == conversation_id))
            if conversation is None or not conversation.shopper_email:
                return None
            store_id, email = conversation.store_id, conversation.shopper_email
            delivered = (
                select(Shipment.order_id, Shipment.delivered_at)
                .where(Shipment.store_id == store_id, Shipment.delivered_at.is_not(None))
                .subquery()
            )
            query = (
                select(Order)
                .join(delivered, delivered.c.order_id == Order.id)
                .where(
                    Order.store_id == store_id,
                    Order.shopper_email == email,
                    Order.status == OrderStatus.delivered.value,
                )
                .options(selectinload(Order.items))
                .order_by(delivered.c.delivered_at.desc(), Order.id.desc())
                .limit(1)
            )
            if order_number is not None:
                key = order_lookup_key(order_number)
                if not key:
                    return None
                query = query.where(Order.lookup_key == key)
            order = await session.scalar(query)
            if order is None:
                return None
            return ReviewableOrder(
                store_id=order.store_id,
                order_id=order.id,
                order_number=order.order_number,
                skus=[item.sku for item in order.items],
                item_names=[item.name for item in order.items],
                shopper_email=order.shopper_email,
                shopper_name=order.shopper_name,
            )

    async def message(self, order: ReviewableOrder, template: str) -> str:
        """One of the store's templates (``review_invitation``, ``review_thanks``) filled in for the order.
        Read when a message is written, so the seller's latest words are used."""
        async with self._sessions() as session:
            store_name = await session.scalar(select(Store.name).where(Store.id == order.store_id)) or ""
            templates = await store_templates(session, order.store_id)
        return render(
            templates[template],
            {
                "shopper_first_name": first_name(order.shopper_name),
                "store_name": store_name,
                "order_number": order.order_number,
                "item_names": ", ".join(order.item_names),
            },
        )

    async def record_review(self, store_id: str, conversation_id: str | None, order_id: int, rating: int, text: str) -> None:
        """Keep the shopper's rating (1 to 5) and words; a second rating for the order replaces the first."""
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValueError(f"a rating is a whole number from 1 to 5, not {rating!r}")
        words = (text or "").strip()[:MAX_REVIEW_CHARS]
        now = utc_now()
        async with self._sessions() as session, session.begin():
            owner = await session.scalar(select(Order.id).where(Order.id == order_id, Order.store_id == store_id))
            if owner is None:
                raise LookupError(f"no order {order_id} in store {store_id!r}")
            insert = dialect_insert(session, Review).values(
                store_id=store_id,
                order_id=order_id,
                conversation_id=conversation_id,
                rating=rating,
                text=words,
                created_at=now,
            )
            await session.execute(
                insert.on_conflict_do_update(
                    index_elements=["store_id", "order_id"],
                    set_={"rating": rating, "text": words, "conversation_id": conversation_id, "created_at": now},
                )
            )

    async def opt_out(self, store_id: str, shopper_email: str) -> bool:
        """Never ask this shopper for a review again; True if this call opted them out."""
        email = shopper_email.strip().lower()
        async with self._sessions() as session, session.begin():
            inserted = await session.scalar(
                dialect_insert(session, ReviewOptOut)
                .values(store_id=store_id, shopper_email=email, created_at=utc_now())
                .on_conflict_do_nothing(index_elements=["store_id", "shopper_email"])
                .returning(ReviewOptOut.shopper_email)
            )
        return inserted is not None

    async def is_opted_out(self, store_id: str, shopper_email: str) -> bool:
        async with self._sessions() as session:
            return (
                await session.scalar(
                    select(ReviewOptOut.shopper_email).where(
                        ReviewOptOut.store_id == store_id, ReviewOptOut.shopper_email == shopper_email.strip().lower()
                    )
                )
                is not None
            )

    async def review_link(self, store_id: str, order_number: str, sku: str | None) -> str | None:
        """The store's review URL for the order (and product), or None if the store has none."""
        async with self._sessions() as session:
            template = await session.scalar(select(Store.review_url).where(Store.id == store_id))
        return fill_review_url(template, order_number, sku) if template else None

    async def export_log(self, store_id: str) -> str:
        """The store's review log as CSV (``at,order_number,action,reason``, UTC times), oldest first."""
        async with self._sessions() as session:
            if await session.scalar(select(Store.id).where(Store.id == store_id)) is None:
                raise UnknownStore(store_id)
            rows = (
                await session.execute(
                    select(ReviewLogEntry.at, ReviewLogEntry.order_number, ReviewLogEntry.action, ReviewLogEntry.reason)
                    .where(ReviewLogEntry.store_id == store_id)
                    .order_by(ReviewLogEntry.at, ReviewLogEntry.id)
                )
            ).all()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["at", "order_number", "action", "reason"])
        for at, order_number, action, reason in rows:
            when = at.astimezone(_UTC).isoformat().replace("+00:00", "Z")
            writer.writerow([when, _csv_cell(order_number), action, reason])
        return out.getvalue()
