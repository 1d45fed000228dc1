"""The shopper's quiet hours, in their own timezone, for spans within a day and across midnight."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.quiet_hours import quiet_hours_end


@pytest.mark.parametrize(
    ("utc", "timezone", "quiet", "until"),
    [
        # Crossing midnight, before it: the end is the next morning.
        ("2026-11-27T22:00", "Europe/Berlin", ("21:00", "08:00"), "2026-11-28T07:00"),
        # Crossing midnight, after it: the end is this morning.
        ("2026-11-28T03:00", "Europe/Berlin", ("21:00", "08:00"), "2026-11-28T07:00"),
        ("2026-11-28T12:00", "Europe/Berlin", ("21:00", "08:00"), None),
        # Within one day.
        ("2026-11-28T12:30", "Asia/Shanghai", ("20:00", "23:00"), "2026-11-28T15:00"),
        ("2026-11-28T11:59", "Asia/Shanghai", ("20:00", "23:00"), None),
        # The end itself is outside; no span at all; unknown or hostile names.
        ("2026-11-28T07:00", "Europe/Berlin", ("21:00", "08:00"), None),
        ("2026-11-28T03:00", "Europe/Berlin", ("08:00", "08:00"), None),
        ("2026-11-28T03:00", "Europe/Berlin", None, None),
        ("2026-11-28T03:00", None, ("21:00", "08:00"), None),
        ("2026-11-28T03:00", "../../etc/passwd", ("21:00", "08:00"), None),
        ("2026-11-28T03:00", "Europe", ("21:00", "08:00"), None),
        ("2026-11-28T03:00", "", ("21:00", "08:00"), None),
    ],
)
def test_quiet_hours_end(utc: str, timezone: str | None, quiet: tuple[str, str] | None, until: str | None) -> None:
    now = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)
    expected = None if until is None else dt.datetime.fromisoformat(until).replace(tzinfo=dt.UTC)
    assert quiet_hours_end(now, timezone, quiet) == expected
