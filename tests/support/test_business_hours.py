"""A store's business hours: checking what the seller typed, open or closed, and when it opens next."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.support.business_hours import (
    BadBusinessHours,
    describe_duration,
    describe_wait,
    opening,
    parse_business_hours,
)

UTC = dt.UTC
NEW_YORK = "America/New_York"
FUZHOU = "Asia/Shanghai"


def at(timezone: str, *args: int) -> dt.datetime:
    """A local time in the store's timezone, as the seller reads the clock."""
    return dt.datetime(*args, tzinfo=ZoneInfo(timezone))


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (["09:00-18:00"], "must be an object"),
        ("mon 9-5", "must be an object"),
        ({"monday": ["09:00-18:00"]}, "unknown weekday 'monday'"),
        ({"mon": "09:00-18:00"}, "must be a list"),
        ({"mon": [900, 1800]}, "must be a list"),
        ({"mon": ["9-5"]}, "is not a span like 09:00-18:00"),
        ({"mon": ["09:00–18:00"]}, "is not a span"),  # an en dash
        ({"mon": ["25:00-26:00"]}, "is not a span"),
        ({"mon": ["09:00-18:60"]}, "is not a span"),
        ({"mon": ["24:00-24:00"]}, "is not a span"),  # a day starts at 00:00
        ({"sat": ["20:00-24:30"]}, "ends after midnight"),
        ({"fri": ["18:00-09:00"]}, "ends before it starts"),
        ({"fri": ["09:00-09:00"]}, "ends before it starts"),
    ],
)
def test_what_is_wrong_is_said(raw: Any, says: str) -> None:
    with pytest.raises(BadBusinessHours, match=says):
        parse_business_hours(raw)


def test_hours_parse_per_weekday_sorted_and_missing_days_closed() -> None:
    spans = parse_business_hours({"mon": [" 13:00-18:00", "09:00-12:00"], "sat": ["10:00-24:00"], "sun": []})
    assert spans == {
        0: [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))],
        5: [(dt.time(10), None)],  # None: until midnight
        6: [],
    }


def test_no_hours_means_monday_to_friday_nine_to_six() -> None:
    spans = parse_business_hours(None)
    assert sorted(spans) == [0, 1, 2, 3, 4]
    assert all(day == [(dt.time(9), dt.time(18))] for day in spans.values())


def test_open_and_closed_within_a_day() -> None:
    spans = parse_business_hours({"wed": ["09:00-12:00", "13:00-18:00"]})
    # Wednesday 25 November 2026 in Fuzhou.
    assert opening(spans, FUZHOU, at(FUZHOU, 2026, 11, 25, 9, 0)).open_now  # the first minute counts
    assert opening(spans, FUZHOU, at(FUZHOU, 2026, 11, 25, 11, 59)).open_now
    lunch = opening(spans, FUZHOU, at(FUZHOU, 2026, 11, 25, 12, 0))  # the end doesn't
    assert not lunch.open_now
    assert lunch.next_open_at == at(FUZHOU, 2026, 11, 25, 13, 0) and lunch.next_open_at.tzinfo == UTC
    early = opening(spans, FUZHOU, at(FUZHOU, 2026, 11, 25, 7, 30))
    assert (early.open_now, early.next_open_at) == (False, at(FUZHOU, 2026, 11, 25, 9, 0))
    # Open or not depends on the store's clock, not the shopper's: 02:00 UTC is 10:00 in Fuzhou.
    assert opening(spans, FUZHOU, dt.datetime(2026, 11, 25, 2, 0, tzinfo=UTC)).open_now
    assert not opening(spans, NEW_YORK, dt.datetime(2026, 11, 25, 2, 0, tzinfo=UTC)).open_now


def test_the_next_opening_after_a_weekend() -> None:
    spans = parse_business_hours(None)
    friday_evening = at(FUZHOU, 2026, 11, 27, 18, 0)
    hours = opening(spans, FUZHOU, friday_evening)
    assert not hours.open_now
    assert hours.next_open_at == at(FUZHOU, 2026, 11, 30, 9, 0)  # Monday
    assert opening(spans, FUZHOU, at(FUZHOU, 2026, 11, 29, 23, 59)).next_open_at == at(FUZHOU, 2026, 11, 30, 9, 0)


def test_the_next_opening_across_the_change_to_summer_time() -> None:
    # New York moves its clocks forward on Sunday 8 March 2026: Friday 18:30 is
    # UTC-5, Monday 09:00 is UTC-4, so the wait is 61.5 hours, not the 62.5 on the wall clock.
    spans = parse_business_hours(None)
    friday = at(NEW_YORK, 2026, 3, 6, 18, 30)
    monday = opening(spans, NEW_YORK, friday).next_open_at
    assert monday == dt.datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    assert monday - friday == dt.timedelta(hours=61, minutes=30)


def test_the_next_opening_across_the_change_back_to_winter_time() -> None:
    # Sunday 1 November 2026: 01:00–02:00 happens twice in New York.
    spans = parse_business_hours({"sun": ["10:00-16:00"], "mon": ["09:00-18:00"]})
    saturday = at(NEW_YORK, 2026, 10, 31, 20, 0)
    assert opening(spans, NEW_YORK, saturday).next_open_at == dt.datetime(2026, 11, 1, 15, 0, tzinfo=UTC)
    assert opening(spans, NEW_YORK, dt.datetime(2026, 11, 1, 15, 30, tzinfo=UTC)).open_now


def test_a_span_until_midnight() -> None:
    spans = parse_business_hours({"sat": ["20:00-24:00"], "sun": ["10:00-12:00"]})
    assert opening(spans, FUZHOU, at(FUZHOU, 2026, 11, 28, 23, 59)).open_now
    at_midnight = opening(spans, FUZHOU, at(FUZHOU, 2026, 11, 29, 0, 0))
    assert (at_midnight.open_now, at_midnight.next_open_at) == (False, at(FUZHOU, 2026, 11, 29, 10, 0))


def test_open_around_the_clock() -> None:
    spans = parse_business_hours({day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    for hour in (0, 6, 12, 23):
        assert opening(spans, FUZHOU, at(FUZHOU, 2026, 11, 29, hour, 30)).open_now


def test_a_store_that_never_opens_has_no_next_opening() -> None:
    hours = opening(parse_business_hours({}), FUZHOU, at(FUZHOU, 2026, 11, 25, 10, 0))
    assert (hours.open_now, hours.next_open_at) == (False, None)


def test_a_day_a_week_ahead_is_found() -> None:
    spans = parse_business_hours({"wed": ["09:00-10:00"]})
    hours = opening(spans, FUZHOU, at(FUZHOU, 2026, 11, 25, 10, 0))  # Wednesday, just closed
    assert hours.next_open_at == at(FUZHOU, 2026, 12, 2, 9, 0)


@pytest.mark.parametrize(
    ("minutes", "wait"),
    [
        (0.2, "in about 1 minute"),
        (1, "in about 1 minute"),
        (40, "in about 40 minutes"),
        (89, "in about 89 minutes"),
        (90, "in about 2 hours"),
        (14 * 60, "in about 14 hours"),
        (35 * 60, "in about 35 hours"),
        (62.5 * 60, "in about 3 days"),
    ],
)
def test_waits_in_words(minutes: float, wait: str) -> None:
    now = dt.datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert describe_wait(now, now + dt.timedelta(minutes=minutes)) == wait


@pytest.mark.parametrize(
    ("minutes", "words"),
    [(1, "1 minute"), (30, "30 minutes"), (60, "60 minutes"), (90, "1.5 hours"), (120, "2 hours"), (1440, "24 hours")],
)
def test_reply_times_in_words(minutes: int, words: str) -> None:
    assert describe_duration(minutes) == words
