"""AfterShip's backfill: the trackings a store already follows there, applied to its shipments
without telling any shopper. (AfterShip's webhook, legacy and dated, is read by
:func:`bot.shipping.tracking_updates.parse_aftership`, which this reuses for each tracking.)"""

from __future__ import annotations

import json
from typing import Any

from bot.core.refusals import Refusal
from bot.core.text_input import BadInput, loads
from bot.integrations.tracking_backfill import BackfillItem, json_lines
from bot.shipping.tracking_updates import AFTERSHIP_TRACKING_EVENT, BadUpdate, parse_aftership, update_text

#: A tracking of the dated API versions names its estimate in one of these; the legacy (v4) one has
#: ``expected_delivery``. It decides which field names its checkpoints use.
_DATED_ESTIMATES = ("latest_estimated_delivery", "courier_estimated_delivery_date", "aftership_estimated_delivery_date")


def backfill_updates(data: bytes) -> list[tuple[int, BackfillItem]]:
    """Trackings for a backfill: ``GET /trackings`` output (``{"data": {"trackings": [...]}}``, legacy
    or dated), a JSON list of trackings, or JSON Lines, one tracking a line. Each is numbered (its line
    in JSON Lines, else its index + 1); an update's id is the tracking's id and when it last changed,
    so a rerun of the file changes nothing."""
    try:
        whole = loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [(number, _tracking(tracking)) for number, tracking in json_lines(data)]
    except BadInput as exc:
        return [(1, exc)]
    if isinstance(whole, dict) and isinstance(whole.get("data"), dict):
        whole = whole["data"].get("trackings", whole["data"].get("tracking"))
    trackings = [whole] if isinstance(whole, dict) else whole
    if not isinstance(trackings, list):
        return [(1, BadUpdate("update_not_list", what="data.trackings"))]
    return [(number, _tracking(tracking)) for number, tracking in enumerate(trackings, 1)]


def _tracking(tracking: Any) -> BackfillItem:
    if isinstance(tracking, Refusal):
        return tracking
    try:
        if not isinstance(tracking, dict):
            raise BadUpdate("update_item_not_object", what="tracking")
        tracking_id = update_text(tracking.get("id"), "tracking.id")[:100]
        changed = update_text(tracking.get("updated_at"), "tracking.updated_at", required=False)[:40]
        dated = any(key in tracking for key in _DATED_ESTIMATES)
        envelope = {"event": AFTERSHIP_TRACKING_EVENT, "event_id": f"import:{tracking_id}:{changed}", "msg": tracking}
        return parse_aftership(envelope, "2025-01" if dated else None)
    except BadUpdate as exc:
        return exc
