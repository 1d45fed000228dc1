"""The application's one clock: what moves it, and that the services read it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import frozen_at, system_clock, use_clock, utc_now
from bot.core.models import ScheduledJob
from bot.shipping.tracking_updates import DELIVERY_CONFIRMATION, Checkpoint, TrackingUpdate, TrackingUpdates

LATER = dt.datetime(2041, 2, 3, 4, 5, 6, tzinfo=dt.UTC)


def test_the_wall_clock_is_the_default_and_aware() -> None:
    before = dt.datetime.now(dt.UTC)
    now = utc_now()
    assert now.tzinfo is not None and before <= now <= dt.datetime.now(dt.UTC)


def test_frozen_at_moves_now_and_gives_it_back() -> None:
    with frozen_at(LATER.replace(tzinfo=None)):  # naive means UTC
        assert utc_now() == LATER
        with frozen_at(LATER + dt.timedelta(days=1)):
            assert utc_now() == LATER + dt.timedelta(days=1)
        assert utc_now() == LATER
    assert abs(utc_now() - system_clock()) < dt.timedelta(seconds=5)


def test_use_clock_none_is_the_wall_clock_again() -> None:
    use_clock(lambda: LATER)
    try:
        assert utc_now() == LATER
    finally:
        use_clock(None)
    assert utc_now().year == system_clock().year


async def test_a_delivery_is_scheduled_at_the_applications_now(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    # The bug this clock fixed: jobs were due at the wall clock while tests claimed at a fixed one.
    update = TrackingUpdate(
        "evt-clock", "9400111899223100000000", "Delivered", [Checkpoint(LATER, "Delivered", "Delivered", None)]
    )
    with frozen_at(LATER):
        assert (await TrackingUpdates(demo_sessions).apply("yangteng-auto", "json", update)).delivered_now
    async with demo_sessions() as session:
        job = await session.scalar(select(ScheduledJob).where(ScheduledJob.kind == DELIVERY_CONFIRMATION))
    assert job is not None and job.due_at == LATER and job.created_at == LATER
