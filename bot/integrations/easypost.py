"""EasyPost tracking: the ``tracker.created`` and ``tracker.updated`` webhook events, and Tracker
objects from EasyPost's API for a backfill.

The fixtures and where each came from: tests/integrations/fixtures/SOURCES-tracking.md; the design
brief: tests/integrations/fixtures/PROVIDER-NOTES-tracking.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from typing import Any

from bot.core.models import TrackingTag
from bot.core.refusals import Refusal
from bot.core.text_input import BadInput, loads
from bot.integrations.tracking_backfill import BackfillItem, json_lines
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

#: The header EasyPost signs with; the newer ``x-hmac-signature-v2`` (string to sign unpublished,
#: and the official SDKs still check only this one) is not read.
EASYPOST_HEADER = "X-Hmac-Signature"
TRACKER_EVENTS = ("tracker.created", "tracker.updated")

#: EasyPost's tracker statuses and ours (README, "Tracking status vocabulary"; the list:
#: tests/integrations/fixtures/easypost/statuses.json). ``None``: EasyPost cannot say where the
#: parcel is (``unknown``, or ``error``: it cannot track this number), which never moves a shipment
#: and never alarms the shopper. EasyPost has no "attempt failed" status: a failed attempt comes as
#: ``failure`` (Exception). ``cancelled`` (the label was voided) is an Exception: the seller should look.
EASYPOST_STATUSES: dict[str, TrackingTag | None] = {
    "unknown": None,
    "pre_transit": TrackingTag.InfoReceived,
    "in_transit": TrackingTag.InTransit,
    "out_for_delivery": TrackingTag.OutForDelivery,
    "delivered": TrackingTag.Delivered,
    "available_for_pickup": TrackingTag.AvailableForPickup,
    "return_to_sender": TrackingTag.Exception,
    "failure": TrackingTag.Exception,
    "cancelled": TrackingTag.Exception,
    "error": None,
}
#: A ``status_detail`` that says more than any status: tracking ran out, whatever the status.
EASYPOST_DETAIL_STATUSES: dict[str, TrackingTag] = {"expired": TrackingTag.Expired}
#: A status EasyPost could add later: a word with underscores. It maps to "no information"; anything
#: else is not a status at all (a 400).
_STATUS_SHAPE = re.compile(r"[a-z_]{1,40}")


def easypost_signature(key: str, body: bytes) -> str:
    """``X-Hmac-Signature`` as EasyPost's SDKs check it (easypost-python ``util.validate_webhook``): the
    key is normalised to NFKD first, so "sécret" typed either way signs the same."""
    normalised = unicodedata.normalize("NFKD", key).encode("utf-8")
    return "hmac-sha256-hex=" + hmac.new(normalised, body, hashlib.sha256).hexdigest()


def easypost_status(status: Any, detail: Any, what: str) -> TrackingTag | None:
    """Our tag for a tracker's (or a tracking detail's) ``status`` and ``status_detail``."""
    if not isinstance(status, str) or not _STATUS_SHAPE.fullmatch(status):
        raise BadUpdate("update_tag_invalid", what=f"{what}.status", value=str(status)[:80])
    if isinstance(detail, str) and detail in EASYPOST_DETAIL_STATUSES:
        return EASYPOST_DETAIL_STATUSES[detail]
    return EASYPOST_STATUSES.get(status)


def _location(raw: Any, what: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadUpdate("update_item_not_object", what=what)
    parts = [str(raw[key]).strip() for key in ("city", "state", "country") if raw.get(key) not in (None, "")]
    return ", ".join(parts)[:300] or None


def tracker_update(tracker: Any, event_id: str, what: str = "result") -> TrackingUpdate:
    """A Tracker object (a webhook event's ``result``, or one from ``GET /trackers``) as an update."""
    if not isinstance(tracker, dict):
        raise BadUpdate("update_item_not_object", what=what)
    checkpoints = []
    delivered_at = None
    for index, raw in enumerate(update_list(tracker.get("tracking_details"), f"{what}.tracking_details")):
        where = f"{what}.tracking_details[{index}]"
        if not isinstance(raw, dict):
            raise BadUpdate("update_item_not_object", what=where)
        tag = easypost_status(raw.get("status"), raw.get("status_detail"), where)
        checkpoint = Checkpoint(
            time=parse_time(raw.get("datetime"), f"{where}.datetime"),
            # A scan without status information is kept, as "no information yet".
            tag=(tag or TrackingTag.Pending).value,
            message=update_text(raw.get("message"), f"{where}.message", required=False)[:2000],
            location=_location(raw.get("tracking_location"), f"{where}.tracking_location"),
        )
        checkpoints.append(checkpoint)
        if tag == TrackingTag.Delivered and (delivered_at is None or checkpoint.time > delivered_at):
            delivered_at = checkpoint.time
    tag = easypost_status(tracker.get("status"), tracker.get("status_detail"), what)
    return TrackingUpdate(
        event_id=event_id,
        tracking_number=update_text(tracker.get("tracking_code"), f"{what}.tracking_code")[:100],
        tag=tag.value if tag is not None else None,
        checkpoints=checkpoints,
        estimated_delivery=update_date(tracker.get("est_delivery_date"), f"{what}.est_delivery_date"),
        delivered_at=delivered_at if tag == TrackingTag.Delivered else None,
        observed_at=parse_time(tracker["updated_at"], f"{what}.updated_at") if tracker.get("updated_at") else None,
    )


def parse_easypost(payload: Any) -> TrackingUpdate | IgnoredEvent:
    """An EasyPost webhook Event: ``tracker.created`` / ``tracker.updated`` with the Tracker in
    ``result`` is an update, idempotent on the event's ``id``. Any other event, and every test-mode
    event (``mode: "test"``: EasyPost's test trackers, EZ1000000001…, are no parcel of the store's),
    is acknowledged and ignored, so that a seller's test delivery shows in the console without ever
    touching a real shipment or writing to a shopper."""
    if not isinstance(payload, dict):
        raise BadUpdate("body_not_object")
    description = payload.get("description")
    if not isinstance(description, str) or not description.strip():
        raise BadUpdate("update_event_invalid", what="description")
    event_id = update_text(payload.get("id"), "id")[:200]
    if description not in TRACKER_EVENTS:
        return IgnoredEvent(description[:60], event_id, f"not a tracking update: {description[:60]}")
    result = payload.get("result")
    if not isinstance(result, dict):
        raise BadUpdate("update_item_not_object", what="result")
    if result.get("object") != "Tracker":
        return IgnoredEvent(description, event_id, f"not a Tracker: {str(result.get('object'))[:60]}")
    if payload.get("mode") == "test" or result.get("mode") == "test":
        return IgnoredEvent(description, event_id, "EasyPost test mode: not applied to real shipments")
    return tracker_update(result, event_id)


def backfill_updates(data: bytes) -> list[tuple[int, BackfillItem]]:
    """Tracker objects for a backfill: ``GET /trackers`` output (``{"trackers": [...]}``), a JSON list,
    or JSON Lines, one Tracker a line. Each is numbered (its line in JSON Lines, else its index + 1);
    an update's id is the tracker's and when it last changed, so a rerun of the file changes nothing."""
    try:
        whole = loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [(number, _backfill_tracker(tracker)) for number, tracker in json_lines(data)]
    except BadInput as exc:
        return [(1, exc)]
    trackers = whole.get("trackers") if isinstance(whole, dict) and "trackers" in whole else whole
    if isinstance(trackers, dict):
        trackers = [trackers]
    if not isinstance(trackers, list):
        return [(1, BadUpdate("update_not_list", what="trackers"))]
    return [(number, _backfill_tracker(tracker)) for number, tracker in enumerate(trackers, 1)]


def _backfill_tracker(tracker: Any) -> BackfillItem:
    if isinstance(tracker, Refusal):
        return tracker
    try:
        if not isinstance(tracker, dict):
            raise BadUpdate("update_item_not_object", what="tracker")
        if tracker.get("mode") == "test":
            return IgnoredEvent("tracker", str(tracker.get("id"))[:100], "EasyPost test mode: not applied to real shipments")
        tracker_id = update_text(tracker.get("id"), "tracker.id")[:100]
        changed = update_text(tracker.get("updated_at"), "tracker.updated_at", required=False)[:40]
        return tracker_update(tracker, f"import:{tracker_id}:{changed}", "tracker")
    except BadUpdate as exc:
        return exc
