"""The shopper's quiet hours: a message the store starts (an email, a review invitation) that
falls due at night in the shopper's own timezone waits for the morning."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def quiet_hours_end(now: dt.datetime, timezone: str | None, quiet: tuple[str, str] | None) -> dt.datetime | None:
    """When the shopper's quiet hours end, if ``now`` is inside them in their ``timezone``; None
    when it is not, or the timezone is unknown (the email goes: better late at night than never)."""
    if not timezone or quiet is None:
        return None
    try:
        zone = ZoneInfo(timezone)
        start, end = dt.time.fromisoformat(quiet[0]), dt.time.fromisoformat(quiet[1])
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # A name the widget reported that this system does not know (or not a zone name at all).
        return None
    if start == end:
        return None
    local = now.astimezone(zone)
    at = local.time().replace(tzinfo=None)
    end_date = local.date()
    if start < end:
        inside = start <= at < end
    else:
        # The span crosses midnight (21:00 to 08:00): before midnight it ends tomorrow.
        inside = at >= start or at < end
        if at >= start:
            end_date += dt.timedelta(days=1)
    if not inside:
        return None
    return dt.datetime.combine(end_date, end, tzinfo=zone).astimezone(dt.UTC)
