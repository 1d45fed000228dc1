"""Tracking updates from carriers and tracking providers.

Webhooks arrive at least once, sometimes out of order: an update is applied
once per event id, and an older update never moves a shipment back.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
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
from bot.reviews.invitation_rules import latest_delivery
from bot.reviews.invitations import schedule_review_invitation

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
    #: The shipment's status as the provider now sees it.
    tag: str
    checkpoints: list[Checkpoint] = field(default_factory=list)
    estimated_delivery: dt.date | None = None
    delivered_at: dt.datetime | None = None
    #: When the provider's status was observed, if no checkpoint says.
    observed_at: dt.datetime | None = None


@dataclass(frozen=True)
class UpdateOutcome:
    #: applied, stale (older than what we have: scans kept, status not moved),
    #: duplicate (event id seen before: nothing changed) or unknown_shipment.
    result: str
    shipment_id: int | None = None
    status: str | None = None
    #: True when this update is what marked the shipment delivered.
    delivered_now: bool = False


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


def _date(value: Any, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadUpdate("update_date_not_text", what=what)
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise BadUpdate("update_date_invalid", what=what, value=value) from None


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadUpdate("update_not_list", what=what)
    return value


def _text(value: Any, what: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadUpdate("update_text_missing", what=what)
    return value.strip()


def parse_aftership(payload: Any) -> TrackingUpdate:
    """AfterShip's webhook body: ``event_id`` and ``msg`` with the tracking."""
    if not isinstance(payload, dict) or not isinstance(payload.get("msg"), dict):
        raise BadUpdate("update_body_without_msg")
    msg = payload["msg"]
    checkpoints = []
    for index, raw in enumerate(_list(msg.get("checkpoints"), "msg.checkpoints")):
        if not isinstance(raw, dict):
            raise BadUpdate("update_item_not_object", what=f"msg.checkpoints[{index}]")
        place = raw.get("location") or ", ".join(str(raw[key]) for key in ("city", "state", "country_name") if raw.get(key))
        checkpoints.append(
            Checkpoint(
                time=parse_time(raw.get("checkpoint_time"), f"msg.checkpoints[{index}].checkpoint_time"),
                tag=parse_tag(raw.get("tag"), f"msg.checkpoints[{index}].tag"),
                message=_text(raw.get("message"), f"msg.checkpoints[{index}].message", required=False)[:2000],
                location=str(place)[:300] or None,
            )
        )
    delivered = msg.get("shipment_delivery_date")
    return TrackingUpdate(
        event_id=_text(payload.get("event_id"), "event_id")[:200],
        tracking_number=_text(msg.get("tracking_number"), "msg.tracking_number")[:100],
        tag=parse_tag(msg.get("tag"), "msg.tag"),
        checkpoints=checkpoints,
        estimated_delivery=_date(msg.get("expected_delivery"), "msg.expected_delivery"),
        delivered_at=parse_time(delivered, "msg.shipment_delivery_date") if delivered else None,
        observed_at=parse_time(payload["ts"], "ts") if isinstance(payload.get("ts"), str) else None,
    )


def parse_simple(payload: Any) -> TrackingUpdate:
    """The simple JSON webhook for sellers without a tracking provider (docs/tracking-and-notifications.md)."""
    if not isinstance(payload, dict):
        raise BadUpdate("body_not_object")
    checkpoints = []
    for index, raw in enumerate(_list(payload.get("events"), "events")):
        if not isinstance(raw, dict):
            raise BadUpdate("update_item_not_object", what=f"events[{index}]")
        checkpoints.append(
            Checkpoint(
                time=parse_time(raw.get("time"), f"events[{index}].time"),
                tag=parse_tag(raw.get("tag"), f"events[{index}].tag"),
                message=_text(raw.get("message"), f"events[{index}].message", required=False)[:2000],
                location=_text(raw.get("location"), f"events[{index}].location", required=False)[:300] or None,
            )
        )
    delivered = payload.get("delivered_at")
    return TrackingUpdate(
        event_id=_text(payload.get("event_id"), "event_id")[:200],
        tracking_number=_text(payload.get("tracking_number"), "tracking_number")[:100],
        tag=parse_tag(payload.get("status"), "status"),
        checkpoints=checkpoints,
        estimated_delivery=_date(payload.get("estimated_delivery"), "estimated_delivery"),
        delivered_at=parse_time(delivered, "delivered_at") if delivered else None,
    )


def aftership_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def simple_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), received_bytes(given.strip()))


class TrackingUpdates:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def apply(self, store_id: str, source: str, update: TrackingUpdate) -> UpdateOutcome:
        try:
            async with self._sessions() as session, session.begin():
                return await self._apply(session, store_id, source, update)
        except IntegrityError:
            # Another delivery of the same event won the race: it did the work.
            return UpdateOutcome("duplicate")

    async def apply_signed(
        self, store_id: str, source: str, verify: Callable[[list[str]], TrackingUpdate]
    ) -> UpdateOutcome | None:
        """A webhook: ``verify`` gets the secrets a signature may use now (the current one,
        and the previous one during a rotation's grace period) and returns the update, or
        raises to refuse it, storing nothing. ``None`` if there is no such store.

        Checking and storing share one transaction: one database round of checkout and
        commit per webhook, not two, in a burst of thousands."""
        try:
            async with self._sessions() as session, session.begin():
                store = await session.get(Store, store_id)
                if store is None:
                    return None
                update = verify(store.webhook_secrets(utc_now()))
                return await self._apply(session, store_id, source, update)
        except IntegrityError:
            return UpdateOutcome("duplicate")

    async def _apply(self, session: AsyncSession, store_id: str, source: str, update: TrackingUpdate) -> UpdateOutcome:
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
        if shipment.status_at is not None and as_of < shipment.status_at:
            record.outcome = "stale"
            return UpdateOutcome("stale", shipment.id, shipment.status)

        previous = shipment.status
        was_delivered = previous == TrackingTag.Delivered
        shipment.status, shipment.status_at = update.tag, as_of
        if update.estimated_delivery is not None:
            shipment.estimated_delivery = update.estimated_delivery
        delivered_now = update.tag == TrackingTag.Delivered and not was_delivered
        if update.tag == TrackingTag.Delivered:
            shipment.delivered_at = shipment.delivered_at or update.delivered_at or as_of
            order = shipment.order
            if all(s.status == TrackingTag.Delivered for s in order.shipments) and order.status == "shipped":
                order.status = "delivered"
                # The review invitation is queued now, due the store's delay after the last parcel.
                store = await session.get(Store, order.store_id)  # loaded already if the webhook was verified
                delay = store.review_delay_days if store is not None else None
                await schedule_review_invitation(session, order, latest_delivery(order) or shipment.delivered_at, delay)
        elif shipment.order.status == "processing" and update.tag != TrackingTag.Pending:
            shipment.order.status = "shipped"
        record.outcome = "applied"
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
        elif update.tag in HELD_UP and update.tag != previous:
            # Once per new hold-up: a repeated scan with the same status says nothing new.
            await enqueue(
                session,
                store_id,
                EXCEPTION_NOTICE,
                f"{EXCEPTION_NOTICE}:{shipment.id}:{update.tag}:{as_of.isoformat()}",
                {"shipment_id": shipment.id},
            )
        return UpdateOutcome("applied", shipment.id, shipment.status, delivered_now)
