"""17TRACK tracking: the ``TRACKING_UPDATED`` and ``TRACKING_STOPPED`` push notifications, and a
``gettrackinfo`` answer for a backfill.

No official 17TRACK sample body or sign rule could be read (tests/integrations/fixtures/SOURCES-tracking.md):
field names come from third-party clients, so every field is read defensively (missing or of
the wrong type: a 400, never a 500), and the sign rule lives in :func:`seventeen_track_signature` alone.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from bot.core.models import TrackingTag
from bot.core.text_input import BadInput, loads
from bot.integrations.tracking_backfill import BackfillItem
from bot.shipping.tracking_updates import (
    BadUpdate,
    Checkpoint,
    IgnoredEvent,
    TrackingUpdate,
    parse_time,
    update_date,
    update_list,
    update_text,
)

SEVENTEEN_TRACK_HEADER = "sign"
UPDATED, STOPPED = "TRACKING_UPDATED", "TRACKING_STOPPED"

#: 17TRACK's main statuses and sub-statuses, and ours (README, "Tracking status vocabulary"; the
#: list: tests/integrations/fixtures/seventeen_track/statuses.json). A sub-status without a row maps
#: as its main status (the part before ``_``) does; a row is only needed where it must differ.
#: ``None``: 17TRACK has not found the parcel, which never moves a shipment.
SEVENTEEN_TRACK_STATUSES: dict[str, TrackingTag | None] = {
    "NotFound": None,
    "InfoReceived": TrackingTag.InfoReceived,
    "InTransit": TrackingTag.InTransit,
    "Expired": TrackingTag.Expired,
    "AvailableForPickup": TrackingTag.AvailableForPickup,
    "OutForDelivery": TrackingTag.OutForDelivery,
    "DeliveryFailure": TrackingTag.AttemptFail,
    "Delivered": TrackingTag.Delivered,
    "Exception": TrackingTag.Exception,
    # Customs want something from the shopper: they must act, so they are told at once.
    "InTransit_CustomsRequiringInformation": TrackingTag.Exception,
}
#: A status or sub-status 17TRACK could send: a name, then maybe ``_`` and a name. A well-formed one
#: we do not know yet is "no information"; anything else is not a status (a 400).
_STATUS_SHAPE = re.compile(r"([A-Za-z]{1,40})(?:_[A-Za-z0-9]{1,60})?")


def seventeen_track_signature(key: str, body: bytes) -> str:
    """The ``sign`` header: lowercase hex SHA-256 (a plain hash, not an HMAC) of the raw body, ``/``
    and the account's API key. UNVERIFIED: this rule comes from third-party code citing 17TRACK's
    v2.4 documentation, not from 17TRACK's own page (SOURCES-tracking.md); if 17TRACK's deliveries
    are refused as unsigned, correct it here and in its one test."""
    return hashlib.sha256(body + b"/" + key.encode("utf-8")).hexdigest()


def seventeen_track_status(status: Any, sub_status: Any, what: str) -> TrackingTag | None:
    """Our tag for a main status and sub-status: the sub-status's row if it has one, else the main
    status's (or, without one, the sub-status's prefix)."""
    shapes = []
    for value, field in ((status, "status"), (sub_status, "sub_status")):
        if value is None:
            continue
        shape = _STATUS_SHAPE.fullmatch(value) if isinstance(value, str) else None
        if shape is None:
            raise BadUpdate("update_tag_invalid", what=f"{what}.{field}", value=str(value)[:80])
        shapes.append(shape)
    if sub_status in SEVENTEEN_TRACK_STATUSES:
        return SEVENTEEN_TRACK_STATUSES[sub_status]
    if not shapes:
        raise BadUpdate("update_tag_invalid", what=f"{what}.status", value="")
    return SEVENTEEN_TRACK_STATUSES.get(shapes[0].group(1))


def _object(value: Any, what: str, required: bool = True) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise BadUpdate("update_item_not_object", what=what)
    return value


def _event_time(raw: dict[str, Any], what: str) -> Any:
    # time_utc is UTC; time_iso carries the carrier's offset. time_raw (local, no zone) is never read.
    return parse_time(raw.get("time_utc") or raw.get("time_iso"), f"{what}.time_utc")


def _optional_text(value: Any, what: str, limit: int) -> str:
    return update_text(value, what, required=False)[:limit]


def tracked_update(data: Any, event_id: str, what: str = "data") -> TrackingUpdate:
    """One tracked number (a push's ``data``, or an item of ``gettrackinfo``'s ``accepted``) as an update."""
    data = _object(data, what)
    info = _object(data.get("track_info"), f"{what}.track_info")
    latest = _object(info.get("latest_status"), f"{what}.track_info.latest_status")
    tag = seventeen_track_status(latest.get("status"), latest.get("sub_status"), f"{what}.track_info.latest_status")
    checkpoints = []
    tracking = _object(info.get("tracking"), f"{what}.track_info.tracking", required=False)
    for p_index, source in enumerate(update_list(tracking.get("providers"), f"{what}.track_info.tracking.providers")):
        where = f"{what}.track_info.tracking.providers[{p_index}]"
        source = _object(source, where)
        for e_index, raw in enumerate(update_list(source.get("events"), f"{where}.events")):
            at = f"{where}.events[{e_index}]"
            raw = _object(raw, at)
            sub = raw.get("sub_status")
            event_tag = seventeen_track_status(None, sub, at) if sub is not None else None
            checkpoints.append(
                Checkpoint(
                    time=_event_time(raw, at),
                    tag=(event_tag or TrackingTag.Pending).value,
                    message=_optional_text(raw.get("description"), f"{at}.description", 2000),
                    location=_optional_text(raw.get("location"), f"{at}.location", 300) or None,
                )
            )
    latest_event = _object(info.get("latest_event"), f"{what}.track_info.latest_event", required=False)
    observed_at = _event_time(latest_event, f"{what}.track_info.latest_event") if latest_event else None
    delivered = [c.time for c in checkpoints if c.tag == TrackingTag.Delivered]
    metrics = _object(info.get("time_metrics"), f"{what}.track_info.time_metrics", required=False)
    estimate = _object(
        metrics.get("estimated_delivery_date"), f"{what}.track_info.time_metrics.estimated_delivery_date", False
    )
    return TrackingUpdate(
        event_id=event_id,
        tracking_number=update_text(data.get("number"), f"{what}.number")[:100],
        tag=tag.value if tag is not None else None,
        checkpoints=checkpoints,
        estimated_delivery=update_date(estimate.get("from") or estimate.get("to"), "estimated_delivery_date.from"),
        delivered_at=(max(delivered) if delivered else observed_at) if tag == TrackingTag.Delivered else None,
        observed_at=observed_at,
    )


def parse_seventeen_track(payload: Any, body: bytes) -> TrackingUpdate | IgnoredEvent:
    """A 17TRACK push. It carries no event id: the id is ``17track:`` and the SHA-256 of the raw body
    (a retry resends the same bytes; a real change changes them). ``TRACKING_STOPPED`` is
    acknowledged and ignored (the seller sees it); any other event is a 400."""
    if not isinstance(payload, dict):
        raise BadUpdate("body_not_object")
    event = payload.get("event")
    if not isinstance(event, str) or not event.strip():
        raise BadUpdate("update_event_invalid", what="event")
    event_id = "17track:" + hashlib.sha256(body).hexdigest()
    if event == STOPPED:
        _object(payload.get("data"), "data")
        return IgnoredEvent(event, event_id, "tracking stopped")
    if event != UPDATED:
        raise BadUpdate("update_event_unknown", what="event", value=event[:60])
    return tracked_update(payload.get("data"), event_id)


def backfill_updates(data: bytes) -> list[tuple[int, BackfillItem]]:
    """A ``gettrackinfo`` answer (``{"data": {"accepted": [...], "rejected": [...]}}``): each accepted
    item by its index + 1, with an id from its content (a rerun of the file changes nothing); each
    rejected one after them, ignored with 17TRACK's reason."""
    try:
        whole = loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [(1, BadUpdate("body_not_json"))]
    except BadInput as exc:
        return [(1, exc)]
    try:
        answer = _object(_object(whole, "body").get("data"), "data")
        accepted = update_list(answer.get("accepted"), "data.accepted")
        rejected = update_list(answer.get("rejected"), "data.rejected")
    except BadUpdate as exc:
        return [(1, exc)]
    items: list[tuple[int, BackfillItem]] = []
    for number, item in enumerate(accepted, 1):
        content = json.dumps(item, sort_keys=True, separators=(",", ":")).encode()
        try:
            items.append((number, tracked_update(item, "17track:import:" + hashlib.sha256(content).hexdigest(), "item")))
        except BadUpdate as exc:
            items.append((number, exc))
    for number, item in enumerate(rejected, len(accepted) + 1):
        error = item.get("error") if isinstance(item, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        number_text = item.get("number") if isinstance(item, dict) else None
        items.append(
            (number, IgnoredEvent("rejected", str(number_text)[:100], f"17TRACK rejected it: {str(message)[:200]}"))
        )
    return items
