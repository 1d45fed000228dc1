"""A store's business hours: when its people work, and when they are back.

Hours are kept per weekday in the store's own timezone, as the seller thinks
of them: ``{"mon": ["09:00-12:00", "13:00-18:00"], "sat": ["10:00-14:00"]}``.
A weekday that is missing is closed; no hours at all means the default,
Monday to Friday 09:00 to 18:00.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.refusals import Refusal

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOURS: dict[str, list[str]] = {day: ["09:00-18:00"] for day in WEEKDAYS[:5]}
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")

Spans = dict[int, list[tuple[dt.time, dt.time | None]]]  # None as an end means midnight


class BadBusinessHours(Refusal, ValueError):
    """Hours that cannot be saved; the code and params say why."""


def parse_business_hours(raw: Any) -> Spans:
    """Check and parse the hours; :class:`BadBusinessHours` says what is wrong."""
    if raw is None:
        raw = DEFAULT_HOURS
    if not isinstance(raw, dict):
        raise BadBusinessHours("hours_not_object")
    spans: Spans = {}
    for day, day_spans in raw.items():
        if day not in WEEKDAYS:
            raise BadBusinessHours("hours_weekday_unknown", day=day, weekdays=", ".join(WEEKDAYS))
        if not isinstance(day_spans, list) or not all(isinstance(s, str) for s in day_spans):
            raise BadBusinessHours("hours_day_not_list", day=day)
        parsed = []
        for span in day_spans:
            match = _SPAN.match(span.strip())
            if not match:
                raise BadBusinessHours("hours_span_invalid", day=day, span=span)
            start = dt.time(int(match[1]), int(match[2]))
            end = None if match[3] == "24" else dt.time(int(match[3]), int(match[4]))
            if match[3] == "24" and match[4] != "00":
                raise BadBusinessHours("hours_span_after_midnight", day=day, span=span)
            if end is not None and end <= start:
                raise BadBusinessHours("hours_span_backwards", day=day, span=span)
            parsed.append((start, end))
        spans[WEEKDAYS.index(day)] = sorted(parsed)
    return spans


def _spans_on(spans: Spans, day: dt.date, tz: ZoneInfo) -> list[tuple[dt.datetime, dt.datetime]]:
    result = []
    for start, end in spans.get(day.weekday(), []):
        begin = dt.datetime.combine(day, start, tz)
        finish = (
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz)
            if end is None
            else dt.datetime.combine(day, end, tz)
        )
        result.append((begin, finish))
    return result


@dataclass(frozen=True)
class Opening:
    #: True when ``now`` falls inside business hours.
    open_now: bool
    #: The next time the store opens (``None`` when it is open now or never opens).
    next_open_at: dt.datetime | None


def opening(spans: Spans, timezone: str, now: dt.datetime) -> Opening:
    """Is the store open at ``now``, and if not, when does it open next?"""
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    for offset in range(0, 8):
        day = local.date() + dt.timedelta(days=offset)
        for begin, finish in _spans_on(spans, day, tz):
            if begin <= local < finish:
                return Opening(True, None)
            if begin > local:
                return Opening(False, begin.astimezone(dt.UTC))
    return Opening(False, None)


def describe_wait(now: dt.datetime, until: dt.datetime) -> str:
    """ "in about 3 hours", "in about 40 minutes", "in about 2 days" """
    minutes = max(1, round((until - now).total_seconds() / 60))
    if minutes < 90:
        return f"in about {minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    if hours < 36:
        return f"in about {hours} hours"
    return f"in about {round(hours / 24)} days"


def describe_return(now: dt.datetime, back_at: dt.datetime, timezone: str) -> str:
    """ "in about 9 hours (Monday 09:00, Asia/Shanghai time)": when a closed store's team is back."""
    local = back_at.astimezone(ZoneInfo(timezone))
    return f"{describe_wait(now, back_at)} ({local:%A %H:%M}, {timezone} time)"


def describe_duration(minutes: int) -> str:
    if minutes < 90:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes / 60
    return f"{hours:g} hours" if hours != 1 else "1 hour"
