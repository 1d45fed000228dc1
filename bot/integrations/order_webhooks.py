"""Order webhooks from a seller's shop: verified, applied once per delivery id, in one transaction.

A provider's ``read`` gets the keys a delivery may be signed with now and the shop the store's
connector is bound to, and returns a :class:`~bot.integrations.shop_orders.ShopDelivery` or raises
:class:`~bot.integrations.shop_orders.DeliveryRefused` (nothing is stored then). The delivery id is
claimed before anything changes, so a retry or a concurrent twin is a duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import utc_now
from bot.core.models import IntegrationDelivery, Store
from bot.core.refusals import Refusal
from bot.integrations.shop_orders import BadShopData, ShopDelivery, WriteResult, write_fulfillment, write_shop_order
from bot.integrations.store_integrations import integration_of, live_keys

log = logging.getLogger(__name__)

#: (keys valid now, the connector's bound shop or None) -> the delivery, read.
Reader = Callable[[list[str], str | None], ShopDelivery]


@dataclass(frozen=True)
class DeliveryOutcome:
    #: applied, stale, duplicate, unknown_order, ignored, refused (signed, but not usable) or ping.
    result: str
    order_number: str | None = None
    reason: str | None = None
    #: Why a signed order was refused, as a refusal (its code and params), for the seller's console.
    refusal: Refusal | None = None


class OrderWebhooks:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def receive(self, store_id: str, provider: str, read: Reader) -> DeliveryOutcome | None:
        """Verify, read and apply one delivery; ``None`` if there is no such store."""
        try:
            async with self._sessions() as session, session.begin():
                store = await session.get(Store, store_id)
                if store is None:
                    return None
                integration = await integration_of(session, store_id, provider)
                try:
                    delivery = read(live_keys(integration, utc_now()), integration.external_id if integration else None)
                except BadShopData as refused:
                    # Signed (a reader verifies before it maps), but its order is not usable: acknowledged
                    # like a refusal of the writer's; the gateway keeps the reason for the seller.
                    log.info("order webhook refused: store=%s provider=%s: %s", store_id, provider, refused.english)
                    return DeliveryOutcome("refused", reason=refused.english[:300], refusal=refused)
                if delivery.ping:
                    log.info("order webhook ping: store=%s provider=%s", store_id, provider)
                    return DeliveryOutcome("ping")
                return await self._apply(session, store_id, provider, delivery)
        except IntegrityError:
            # Another delivery with the same id won the race: it did the work.
            return DeliveryOutcome("duplicate")

    async def _apply(self, session: AsyncSession, store_id: str, provider: str, delivery: ShopDelivery) -> DeliveryOutcome:
        seen = await session.scalar(
            select(IntegrationDelivery.id).where(
                IntegrationDelivery.store_id == store_id,
                IntegrationDelivery.provider == provider,
                IntegrationDelivery.delivery_id == delivery.delivery_id,
            )
        )
        if seen is not None:
            return DeliveryOutcome("duplicate")
        record = IntegrationDelivery(
            store_id=store_id,
            provider=provider,
            delivery_id=delivery.delivery_id[:200],
            topic=delivery.topic[:64],
            outcome="ignored",
            reason=(delivery.ignored or "")[:300] or None,
        )
        session.add(record)
        # Claim the delivery id now: a concurrent twin fails here, before any change.
        await session.flush()
        if delivery.ignored is not None:
            log.info(
                "order webhook ignored: store=%s provider=%s topic=%r: %s",
                store_id,
                provider,
                delivery.topic[:64],
                delivery.ignored,
            )
            return DeliveryOutcome("ignored", reason=delivery.ignored)
        result: WriteResult
        try:
            # A savepoint: an order refused half-way leaves nothing of itself, and the delivery stays recorded.
            async with session.begin_nested():
                if delivery.order is not None:
                    result = await write_shop_order(session, store_id, delivery.order, notify=True)
                elif delivery.fulfillment is not None:
                    result = await write_fulfillment(session, store_id, delivery.fulfillment, notify=True)
                else:
                    raise AssertionError("a ShopDelivery holds an order, a fulfillment, a reason to ignore it, or a ping")
        except BadShopData as refused:
            # Well signed but unusable (no email: the shop withheld the customer's data): acknowledged,
            # so that the shop does not retry it for hours, and shown to the seller.
            record.outcome, record.reason = "refused", refused.english[:300]
            log.info("order webhook refused: store=%s provider=%s: %s", store_id, provider, refused.english)
            return DeliveryOutcome("refused", reason=record.reason, refusal=refused)
        record.outcome, record.order_number = result.outcome, result.order_number
        if result.outcome == "unknown_order":
            record.reason = "the order is not known yet: the shop's next order update brings its fulfillments"
        return DeliveryOutcome(result.outcome, result.order_number, record.reason)
