"""What a tracking webhook test looks at after each delivery: the parcel's status, the updates
received and the delivery confirmations queued."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import ScheduledJob, Shipment, TrackingWebhookEvent
from bot.shipping.tracking_updates import DELIVERY_CONFIRMATION


async def parcel_state(sessions: async_sessionmaker[AsyncSession], tracking_number: str) -> tuple[str, int, int]:
    """(the shipment's status, tracking updates received, delivery confirmations queued)."""
    async with sessions() as session:
        status = await session.scalar(select(Shipment.status).where(Shipment.tracking_number == tracking_number))
        updates = await session.scalar(select(func.count()).select_from(TrackingWebhookEvent))
        confirmations = await session.scalar(
            select(func.count()).select_from(ScheduledJob).where(ScheduledJob.kind == DELIVERY_CONFIRMATION)
        )
    return status or "", updates or 0, confirmations or 0
