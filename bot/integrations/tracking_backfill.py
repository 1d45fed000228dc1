"""What the tracking providers' backfills share: one item of a file (an update, an item ignored, or
why it is bad) and JSON Lines read by line number."""

from __future__ import annotations

import json
from typing import Any

from bot.core.refusals import Refusal
from bot.core.text_input import BadInput, loads
from bot.shipping.tracking_updates import BadUpdate, IgnoredEvent, TrackingUpdate

#: One item of a backfill file: an update, an item ignored (an EasyPost test tracker, a number 17TRACK
#: rejected), or why it is bad.
BackfillItem = TrackingUpdate | IgnoredEvent | Refusal


def json_lines(data: bytes) -> list[tuple[int, Any]]:
    """Each non-blank line's JSON, by line number; a line that is not JSON is its refusal."""
    numbered: list[tuple[int, Any]] = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            numbered.append((number, loads(line)))
        except (json.JSONDecodeError, UnicodeDecodeError):
            numbered.append((number, BadUpdate("body_not_json")))
        except BadInput as exc:
            numbered.append((number, exc))
    return numbered
