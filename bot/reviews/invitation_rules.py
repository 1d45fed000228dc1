"""When a shopper is asked for a review: the rules every invitation follows, and why it was not sent.

An invitation is due the store's delay after delivery: 7 days by default, never sooner than 5 nor
later than 30 (Amazon's solicitation window), and never in the shopper's quiet hours (21:00 to
08:00 where they live, when that is known). It is skipped for a shopper who opted out, an order
already invited, cancelled or returned, or a window that has closed.

No review gating and no incentives: every eligible order gets the same
invitation. Nothing about the shopper's sentiment, complaints or ratings is
ever an input to the decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from bot.core.models import DEFAULT_REVIEW_DELAY_DAYS, MAX_REVIEW_DELAY_DAYS, MIN_REVIEW_DELAY_DAYS, Order, OrderStatus
from bot.core.quiet_hours import quiet_hours_end as quiet_hours_end_within

#: No invitation goes out between these local times (when the shopper's timezone is known).
QUIET_HOURS_START = dt.time(21, 0)
QUIET_HOURS_END = dt.time(8, 0)
REVIEW_QUIET_HOURS = (QUIET_HOURS_START.isoformat("minutes"), QUIET_HOURS_END.isoformat("minutes"))

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


def quiet_hours_end(moment: dt.datetime, shopper_timezone: str | None) -> dt.datetime | None:
    """The next 08:00 in the shopper's timezone if ``moment`` is in their quiet hours, else None."""
    return quiet_hours_end_within(moment, shopper_timezone, REVIEW_QUIET_HOURS)


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


def latest_delivery(order: Order) -> dt.datetime | None:
    """When the order's last parcel arrived (its shipments must be loaded)."""
    times = [s.delivered_at for s in order.shipments if s.delivered_at is not None]
    return max(times) if times else None
