"""Tracking updates from carriers and tracking providers.

Webhooks arrive at least once, sometimes out of order: an update is applied
once per event id, and an older update never moves a shipment back.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.core.clock import utc_now
from bot.core.jobs import enqueue
from bot.core.models import Order, Shipment, Store, TrackingEvent, TrackingTag, TrackingWebhookEvent
from bot.core.refusals import Refusal
from bot.core.text_input import received_bytes
from bot.integrations.store_integrations import signing_keys
from bot.reviews.invitation_rules import latest_delivery
from bot.reviews.invitations import schedule_review_invitation

log = logging.getLogger(__name__)

DELIVERY_CONFIRMATION = "delivery_confirmation"
EXCEPTION_NOTICE = "exception_notice"
#: Statuses the shopper is told about at once, with what they can do.
HELD_UP = {TrackingTag.Exception.value, TrackingTag.AttemptFail.value, TrackingTag.AvailableForPickup.value}


class BadUpdate(Refusal, ValueError):
    """The update's content is not usable; the code says why."""


@dataclass(frozen=True)
class Checkpoint:
    time: dt.datetime
    tag: str
    message: str = ""
    location: str | None = None


@dataclass(frozen=True)
class TrackingUpdate:
    event_id: str
    tracking_number: str
    #: The shipment's status as the provider now sees it; ``None`` when the provider has no
    #: information (AfterShip ``Pending``, an unknown tag): its scans are kept, the status is not moved.
    tag: str | None
    checkpoints: list[Checkpoint] = field(default_factory=list)
    estimated_delivery: dt.date | None = None
    delivered_at: dt.datetime | None = None
    #: When the provider's status was observed, if no checkpoint says.
    observed_at: dt.datetime | None = None


@dataclass(frozen=True)
class IgnoredEvent:
    """A well-signed delivery that carries no tracking update (AfterShip ``edd_revise``…):
    acknowledged so that the provider stops retrying, nothing stored."""

    event: str
    event_id: str
    reason: str


@dataclass(frozen=True)
class UpdateOutcome:
    #: applied, stale (older than what we have: scans kept, status not moved), no_status (the
    #: provider has no status information: scans kept, status not moved), duplicate (event id
    #: seen before: nothing changed), unknown_shipment, or ignored (not a tracking update).
    result: str
    shipment_id: int | None = None
    status: str | None = None
    #: True when this update is what marked the shipment delivered.
    delivered_now: bool = False
    #: Why a delivery was ignored, for the seller.
    reason: str | None = None


#: How far along a parcel is. At the same scan time a status never gives way to one further back
#: (two scans of one minute arrive in any order); the hold-ups and Expired stand level with
#: OutForDelivery, as any of them may follow it.
_PROGRESS = {
    TrackingTag.Pending.value: 0,
    TrackingTag.InfoReceived.value: 1,
    TrackingTag.InTransit.value: 2,
    TrackingTag.OutForDelivery.value: 3,
    TrackingTag.AttemptFail.value: 3,
    TrackingTag.AvailableForPickup.value: 3,
    TrackingTag.Exception.value: 3,
    TrackingTag.Expired.value: 3,
    TrackingTag.Delivered.value: 4,
}


def moves_status(current: str, current_at: dt.datetime | None, new: str | None, new_at: dt.datetime) -> bool:
    """Whether an update's status replaces the shipment's: the rule that keeps webhooks that
    arrive late, out of order or from two sources from moving a parcel backwards.

    - no information (``None``, ``Pending``) never replaces a status: a provider that lost track
      of a parcel says nothing about where it is;
    - an update older (by its newest scan) than the status we hold is stale;
    - at the same scan time only a status as far along or further wins;
    - Delivered is final: a later scan saying otherwise is kept among the events but does not
      un-deliver the parcel (the shopper was told it arrived; a return is the seller's to handle).
    """
    if new is None or new == TrackingTag.Pending:
        return False
    if current == TrackingTag.Delivered and new != TrackingTag.Delivered:
        return False
    if current_at is None:
        return True
    if new_at != current_at:
        return new_at > current_at
    return _PROGRESS.get(new, 0) >= _PROGRESS.get(current, 0)


def parse_time(value: Any, what: str) -> dt.datetime:
    if not isinstance(value, str) or not value.strip():
        raise BadUpdate("update_time_missing", what=what)
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        # A provider's local scan time without an offset is taken as UTC.
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):  # OverflowError: an offset that moves it out of years 1-9999
        raise BadUpdate("update_time_invalid", what=what, value=value) from None


def parse_tag(value: Any, what: str) -> str:
    if not isinstance(value, str) or value not in TrackingTag.__members__:
        raise BadUpdate("update_tag_invalid", what=what, value=value)
    return value


def update_date(value: Any, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadUpdate("update_date_not_text", what=what)
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise BadUpdate("update_date_invalid", what=what, value=value) from None


def update_list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadUpdate("update_not_list", what=what)
    return value


def update_text(value: Any, what: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadUpdate("update_text_missing", what=what)
    return value.strip()


#: AfterShip's tags and sub-statuses, and ours: the one table (README, "Tracking status vocabulary";
#: tests/integrations/fixtures/aftership/tags.json for AfterShip's list). ``None``: AfterShip has no
#: information yet, which never moves a shipment. A sub-status ``<Tag>_<NNN>`` without a row of its
#: own maps as its tag (the part before ``_``) does, so the sub-statuses AfterShip adds still map; a
#: row for a sub-status is only needed where it must differ from its tag.
AFTERSHIP_STATUSES: dict[str, TrackingTag | None] = {
    "Pending": None,
    "InfoReceived": TrackingTag.InfoReceived,
    "InTransit": TrackingTag.InTransit,
    "OutForDelivery": TrackingTag.OutForDelivery,
    "AttemptFail": TrackingTag.AttemptFail,
    "AvailableForPickup": TrackingTag.AvailableForPickup,
    "Exception": TrackingTag.Exception,
    "Delivered": TrackingTag.Delivered,
    "Expired": TrackingTag.Expired,
}
#: A tag or sub-status AfterShip could send: a name, then maybe ``_`` and a number. Anything else
#: is not a status at all (a 400), while a well-formed one we do not know yet is only "no information".
_AFTERSHIP_STATUS_SHAPE = re.compile(r"([A-Za-z]{1,40})(?:_[0-9]{1,6})?")
#: ``as-webhook-version`` (chosen per webhook URL in AfterShip's admin); absent on the legacy v4-style body.
_AFTERSHIP_VERSION = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
#: The one AfterShip event that is a tracking update; ``edd_revise``, ``tracking_pending_time`` and any
#: event added later are acknowledged and ignored.
AFTERSHIP_TRACKING_EVENT = "tracking_update"
#: Where the dated versions keep the estimated delivery (``expected_delivery`` is gone), best first,
#: and the fields of each object that may hold it.
_AFTERSHIP_ESTIMATES = (
    "latest_estimated_delivery",
    "courier_estimated_delivery_date",
    "aftership_estimated_delivery_date",
    "custom_estimated_delivery_date",
)
_AFTERSHIP_ESTIMATE_FIELDS = ("datetime", "estimated_delivery_date", "datetime_min", "estimated_delivery_date_min")


def aftership_status(value: Any, what: str) -> TrackingTag | None:
    """Our tag for an AfterShip tag or sub-status, by :data:`AFTERSHIP_STATUSES`."""
    shape = _AFTERSHIP_STATUS_SHAPE.fullmatch(value) if isinstance(value, str) else None
    if shape is None:
        raise BadUpdate("update_tag_invalid", what=what, value=str(value)[:80])
    if value in AFTERSHIP_STATUSES:
        return AFTERSHIP_STATUSES[value]
    return AFTERSHIP_STATUSES.get(shape.group(1))


def _aftership_tag(raw: dict[str, Any], what: str) -> TrackingTag | None:
    """The sub-status's mapping when it has one (it is the finer), else the tag's."""
    tag = aftership_status(raw.get("tag"), f"{what}.tag")
    if raw.get("subtag") in (None, ""):
        return tag
    return aftership_status(raw["subtag"], f"{what}.subtag") or tag


def aftership_version(value: str | None) -> str | None:
    """The ``as-webhook-version`` header: ``None`` for the legacy body, else ``YYYY-MM``."""
    if value is None:
        return None
    if not _AFTERSHIP_VERSION.fullmatch(value.strip()):
        raise BadUpdate("aftership_version_invalid", value=value[:40])
    return value.strip()


def _unix_or_iso_time(value: Any, what: str) -> dt.datetime | None:
    """``ts``: a unix number in the dated versions (the 2025-01 specification), text in old bodies."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadUpdate("update_time_invalid", what=what, value=str(value)[:80])
    if isinstance(value, str):
        return parse_time(value, what)
    try:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    except (ValueError, OverflowError, OSError):  # NaN, or out of the years a datetime holds
        raise BadUpdate("update_time_invalid", what=what, value=str(value)[:80]) from None


def _aftership_estimate(msg: dict[str, Any]) -> dt.date | None:
    for name in _AFTERSHIP_ESTIMATES:
        estimate = msg.get(name)
        if estimate is None:
            continue
        if not isinstance(estimate, dict):
            raise BadUpdate("update_item_not_object", what=f"msg.{name}")
        for key in _AFTERSHIP_ESTIMATE_FIELDS:
            if estimate.get(key) not in (None, ""):
                return update_date(estimate[key], f"msg.{name}.{key}")
    return None


def parse_aftership(payload: Any, version: str | None = None) -> TrackingUpdate | IgnoredEvent:
    """AfterShip's webhook body: the envelope ``event``, ``event_id``, ``ts`` and ``msg`` (the
    tracking). ``version``: the ``as-webhook-version`` header; ``None`` is the legacy v4-style body.
    The dated versions renamed fields (tests/integrations/fixtures/aftership/field_renames.json)."""
    if not isinstance(payload, dict):
        raise BadUpdate("update_body_without_msg")
    event = payload.get("event")
    if event is None and version is None:
        event = AFTERSHIP_TRACKING_EVENT  # old v4 bodies may not name the event
    if not isinstance(event, str) or not event.strip():
        raise BadUpdate("update_event_invalid", what="event")
    if event != AFTERSHIP_TRACKING_EVENT:
        event_id = payload.get("event_id")
        return IgnoredEvent(
            event[:60], event_id[:200] if isinstance(event_id, str) else "", f"not a tracking update: {event[:60]}"
        )
    if not isinstance(payload.get("msg"), dict):
        raise BadUpdate("update_body_without_msg")
    msg = payload["msg"]
    checkpoints = []
    for index, raw in enumerate(update_list(msg.get("checkpoints"), "msg.checkpoints")):
        what = f"msg.checkpoints[{index}]"
        if not isinstance(raw, dict):
            raise BadUpdate("update_item_not_object", what=what)
        # The dated versions call the country ``country_region_name`` (v4: ``country_name``).
        parts = ("city", "state", "country_region_name" if version else "country_name")
        place = raw.get("location") or ", ".join(str(raw[key]) for key in parts if raw.get(key))
        checkpoints.append(
            Checkpoint(
                time=parse_time(raw.get("checkpoint_time"), f"{what}.checkpoint_time"),
                # A scan without status information is kept, as "no information yet".
                tag=(_aftership_tag(raw, what) or TrackingTag.Pending).value,
                message=update_text(raw.get("message"), f"{what}.message", required=False)[:2000],
                location=str(place)[:300] or None,
            )
        )
    delivered = msg.get("shipment_delivery_date")
    tag = _aftership_tag(msg, "msg")
    return TrackingUpdate(
        event_id=update_text(payload.get("event_id"), "event_id")[:200],
        tracking_number=update_text(msg.get("tracking_number"), "msg.tracking_number")[:100],
        tag=tag.value if tag is not None else None,
        checkpoints=checkpoints,
        estimated_delivery=(
            _aftership_estimate(msg) if version else update_date(msg.get("expected_delivery"), "msg.expected_delivery")
        ),
        delivered_at=parse_time(delivered, "msg.shipment_delivery_date") if delivered else None,
        observed_at=_unix_or_iso_time(payload.get("ts"), "ts"),
    )


def parse_simple(payload: Any) -> TrackingUpdate:
    """The simple JSON webhook for sellers without a tracking provider (docs/tracking-and-notifications.md)."""
    if not isinstance(payload, dict):
        raise BadUpdate("body_not_object")
    checkpoints = []
    for index, raw in enumerate(update_list(payload.get("events"), "events")):
        if not isinstance(raw, dict):
            raise BadUpdate("update_item_not_object", what=f"events[{index}]")
        checkpoints.append(
            Checkpoint(
                time=parse_time(raw.get("time"), f"events[{index}].time"),
                tag=parse_tag(raw.get("tag"), f"events[{index}].tag"),
                message=update_text(raw.get("message"), f"events[{index}].message", required=False)[:2000],
                location=update_text(raw.get("location"), f"events[{index}].location", required=False)[:300] or None,
            )
        )
    delivered = payload.get("delivered_at")
    return TrackingUpdate(
        event_id=update_text(payload.get("event_id"), "event_id")[:200],
        tracking_number=update_text(payload.get("tracking_number"), "tracking_number")[:100],
        tag=parse_tag(payload.get("status"), "status"),
        checkpoints=checkpoints,
        estimated_delivery=update_date(payload.get("estimated_delivery"), "estimated_delivery"),
        delivered_at=parse_time(delivered, "delivered_at") if delivered else None,
    )


def base64_hmac_sha256(secret: str, body: bytes) -> str:
    """Base64 of the HMAC-SHA256 of the raw body, keyed with the secret's UTF-8 bytes: how AfterShip
    (``aftership-hmac-sha256``), Shopify (``X-Shopify-Hmac-Sha256``) and WooCommerce
    (``X-WC-Webhook-Signature``) sign their webhooks."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


aftership_signature = base64_hmac_sha256


def simple_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), received_bytes(given.strip()))


class TrackingUpdates:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def apply(self, store_id: str, source: str, update: TrackingUpdate, notify: bool = True) -> UpdateOutcome:
        """One update; ``notify=False`` for a backfill of the past: the status moves, no shopper is told."""
        try:
            async with self._sessions() as session, session.begin():
                return await self._apply(session, store_id, source, update, notify)
        except IntegrityError:
            # Another delivery of the same event won the race: it did the work.
            return UpdateOutcome("duplicate")

    async def apply_signed(
        self, store_id: str, source: str, verify: Callable[[list[str]], TrackingUpdate | IgnoredEvent]
    ) -> UpdateOutcome | None:
        """A webhook: ``verify`` gets the keys a signature from ``source`` may use now (the current
        one, and the previous one during a rotation's grace period: the store's webhook secret, or
        the connector's own key, bot/integrations/store_integrations.py) and returns the update, or
        raises to refuse it, storing nothing. ``None`` if there is no such store. An
        :class:`IgnoredEvent` is answered ``ignored`` and stores nothing.

        Checking and storing share one transaction: one database round of checkout and
        commit per webhook, not two, in a burst of thousands."""
        try:
            async with self._sessions() as session, session.begin():
                store = await session.get(Store, store_id)
                if store is None:
                    return None
                update = verify(await signing_keys(session, store, source, utc_now()))
                if isinstance(update, IgnoredEvent):
                    # Acknowledged so that the provider does not retry it; the reason is logged.
                    log.info(
                        "tracking webhook ignored: store=%s source=%s event=%r event_id=%r: %s",
                        store_id,
                        source,
                        update.event,
                        update.event_id,
                        update.reason,
                    )
                    return UpdateOutcome("ignored", reason=update.reason)
                return await self._apply(session, store_id, source, update)
        except IntegrityError:
            return UpdateOutcome("duplicate")

    async def _apply(
        self, session: AsyncSession, store_id: str, source: str, update: TrackingUpdate, notify: bool = True
    ) -> UpdateOutcome:
        seen = await session.scalar(
            select(TrackingWebhookEvent.id).where(
                TrackingWebhookEvent.store_id == store_id,
                TrackingWebhookEvent.source == source,
                TrackingWebhookEvent.event_id == update.event_id,
            )
        )
        if seen is not None:
            return UpdateOutcome("duplicate")
        record = TrackingWebhookEvent(
            store_id=store_id,
            source=source,
            event_id=update.event_id,
            tracking_number=update.tracking_number,
            outcome="unknown_shipment",
        )
        session.add(record)
        # Claim the event id now: a concurrent twin fails here, before any change.
        await session.flush()
        shipment = await session.scalar(
            select(Shipment)
            .where(Shipment.store_id == store_id, Shipment.tracking_number == update.tracking_number)
            .options(selectinload(Shipment.events), selectinload(Shipment.order).selectinload(Order.shipments))
            .order_by(Shipment.id.desc())
            .limit(1)
            .with_for_update()
        )
        if shipment is None:
            return UpdateOutcome("unknown_shipment")

        known = {(e.occurred_at, e.tag, e.message) for e in shipment.events}
        for checkpoint in sorted(update.checkpoints, key=lambda c: c.time):
            if (checkpoint.time, checkpoint.tag, checkpoint.message) not in known:
                shipment.events.append(
                    TrackingEvent(
                        store_id=store_id,
                        occurred_at=checkpoint.time,
                        tag=checkpoint.tag,
                        message=checkpoint.message,
                        location=checkpoint.location,
                    )
                )
        as_of = max([c.time for c in update.checkpoints] or [update.delivered_at or update.observed_at or utc_now()])
        result, delivered_now = await apply_shipment_status(
            session,
            shipment,
            update.tag,
            as_of,
            estimated_delivery=update.estimated_delivery,
            delivered_at=update.delivered_at,
            notify=notify,
        )
        record.outcome = result
        return UpdateOutcome(result, shipment.id, shipment.status, delivered_now)


async def apply_shipment_status(
    session: AsyncSession,
    shipment: Shipment,
    tag: str | None,
    as_of: dt.datetime,
    *,
    estimated_delivery: dt.date | None = None,
    delivered_at: dt.datetime | None = None,
    notify: bool = True,
) -> tuple[str, bool]:
    """Move a shipment to the status a source reported at ``as_of``, by :func:`moves_status`, and
    what follows from it: the order shipped or delivered, the review invitation, and (with ``notify``)
    the delivery confirmation or the exception notice, queued for the worker. Every source goes
    through here (tracking webhooks, shop webhooks), so the shopper hears the same whichever reported
    it first. ``shipment.order`` with its shipments must be loaded.

    Returns the outcome (``applied``, ``stale`` or ``no_status``) and whether this marked it delivered.
    A backfill of past orders passes ``notify=False``: a parcel delivered months ago is not news."""
    if tag is None or tag == TrackingTag.Pending:
        return "no_status", False
    if not moves_status(shipment.status, shipment.status_at, tag, as_of):
        return "stale", False
    previous = shipment.status
    was_delivered = previous == TrackingTag.Delivered
    shipment.status, shipment.status_at = tag, as_of
    if estimated_delivery is not None:
        shipment.estimated_delivery = estimated_delivery
    delivered_now = tag == TrackingTag.Delivered and not was_delivered
    store_id = shipment.store_id
    if tag == TrackingTag.Delivered:
        shipment.delivered_at = shipment.delivered_at or delivered_at or as_of
        order = shipment.order
        if all(s.status == TrackingTag.Delivered for s in order.shipments) and order.status == "shipped":
            order.status = "delivered"
            if notify:
                # The review invitation is queued now, due the store's delay after the last parcel.
                store = await session.get(Store, order.store_id)  # loaded already if the webhook was verified
                delay = store.review_delay_days if store is not None else None
                await schedule_review_invitation(session, order, latest_delivery(order) or shipment.delivered_at, delay)
    elif shipment.order.status == "processing":
        shipment.order.status = "shipped"
    if not notify:
        return "applied", delivered_now
    if delivered_now:
        # The confirmation goes out from the worker, so this answer is quick;
        # the unique key means one confirmation per shipment, ever.
        await enqueue(
            session,
            store_id,
            DELIVERY_CONFIRMATION,
            f"{DELIVERY_CONFIRMATION}:{shipment.id}",
            {"shipment_id": shipment.id},
        )
    elif tag in HELD_UP and tag != previous:
        # Once per new hold-up: a repeated scan with the same status says nothing new.
        await enqueue(
            session,
            store_id,
            EXCEPTION_NOTICE,
            f"{EXCEPTION_NOTICE}:{shipment.id}:{tag}:{as_of.isoformat()}",
            {"shipment_id": shipment.id},
        )
    return "applied", delivered_now
