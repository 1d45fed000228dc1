"""The one place the application reads the time of day.

Every due time, expiry, window and timestamp the services write comes from
:func:`utc_now`, so a test (or a replay) can move the whole application to
another moment with :func:`frozen_at` instead of patching each module. The
wall clock is the default. Durations measured inside one process (timeouts,
in-memory rate-limit buckets) use ``time.monotonic`` instead, which no date
affects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_clock: Clock = system_clock


def utc_now() -> dt.datetime:
    """Now, as an aware UTC datetime, from the clock in use."""
    return _clock()


def use_clock(clock: Clock | None) -> None:
    """Make ``clock`` the application's clock (``None``: back to the wall clock)."""
    global _clock
    _clock = clock or system_clock


@contextmanager
def frozen_at(when: dt.datetime) -> Iterator[None]:
    """Inside the block, every ``utc_now()`` is ``when`` (aware; naive means UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    previous = _clock
    use_clock(lambda: when)
    try:
        yield
    finally:
        use_clock(previous)
