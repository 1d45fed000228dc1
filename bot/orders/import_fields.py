"""How each field of an import line is read and checked: a wrong or missing value raises
``ImportErrorInLine`` naming the field and the reason, so the seller sees what to fix in which line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.links import BadLink, web_link
from bot.core.models import TrackingTag


class ImportErrorInLine(ValueError):
    """A line that cannot be imported; the message says why."""


def _field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...] = str, *, where: str = "") -> Any:
    if name not in obj or obj[name] is None:
        raise ImportErrorInLine(f"missing field {where}{name!r}")
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ImportErrorInLine(f"field {where}{name!r} must be {expected}")
    if isinstance(value, str) and not value.strip():
        raise ImportErrorInLine(f"field {where}{name!r} is empty")
    return value


def _optional(obj: dict[str, Any], name: str, kind: type = str, *, where: str = "") -> Any:
    if obj.get(name) is None:
        return None
    return _field(obj, name, kind, where=where)


def _optional_link(obj: dict[str, Any], name: str, *, where: str = "") -> str | None:
    """A link shoppers are shown: absolute http(s) only, checked as the guide API checks it."""
    value = _optional(obj, name, where=where)
    if value is None:
        return None
    try:
        return web_link(value)
    except BadLink as exc:
        raise ImportErrorInLine(f"field {where}{name!r}: {exc}") from None


def _datetime(obj: dict[str, Any], name: str, *, where: str = "", required: bool = True) -> dt.datetime | None:
    raw = _field(obj, name, where=where) if required else _optional(obj, name, where=where)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ImportErrorInLine(f"field {where}{name!r} is not an ISO-8601 date-time: {raw!r}") from None
    if value.tzinfo is None:
        raise ImportErrorInLine(f"field {where}{name!r} has no timezone (use Z for UTC): {raw!r}")
    return value.astimezone(dt.UTC)


def _date(obj: dict[str, Any], name: str, *, where: str = "") -> dt.date | None:
    raw = _optional(obj, name, where=where)
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ImportErrorInLine(f"field {where}{name!r} is not a YYYY-MM-DD date: {raw!r}") from None


def _timezone(obj: dict[str, Any], name: str, *, where: str = "", required: bool) -> str | None:
    value = _field(obj, name, where=where) if required else _optional(obj, name, where=where)
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportErrorInLine(f"field {where}{name!r} is not a known timezone: {value!r}") from None
    return value


def _tag(obj: dict[str, Any], name: str, *, where: str) -> str:
    value = _field(obj, name, where=where)
    if value not in TrackingTag.__members__:
        raise ImportErrorInLine(
            f"field {where}{name!r} is not a tracking status tag: {value!r} (one of {', '.join(TrackingTag.__members__)})"
        )
    return value
