"""The shop order writer: create, update, never back, one delivery confirmation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.core.models import Order, ScheduledJob, Shipment
from bot.integrations.shop_orders import (
    BadShopData,
    ShopFulfillment,
    ShopItem,
    ShopOrder,
    ShopShipment,
    WriteResult,
    write_fulfillment,
    write_shop_order,
)
from bot.orders.importer import import_lines

STORE = "linen-and-tote"
T0 = dt.datetime(2026, 10, 2, 12, 0, tzinfo=dt.UTC)
ORDER = ShopOrder(
    external_id="shopify:450789469",
    order_number="#1001",
    shopper_name="Bob Norman",
    shopper_email="bob.norman@hostmail.com",
    shipping_postcode="40202",
    shipping_country="US",
    placed_at=T0,
    status="processing",
    items=[ShopItem("IPOD2008GREEN", "IPod Nano - 8gb - green")],
    shipments=[],
    updated_at=T0,
)


def shipment(tag: str | None, hours: int) -> ShopShipment:
    return ShopShipment("1Z2345", "UPS", tag=tag, tag_at=T0 + dt.timedelta(hours=hours), external_id="shopify:255858046")


def version(hours: int, **changes: object) -> ShopOrder:
    return dataclasses.replace(ORDER, updated_at=T0 + dt.timedelta(hours=hours), **changes)  # type: ignore[arg-type]


@pytest.fixture
async def store(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    report = await import_lines(
        sessions, [json.dumps({"type": "store", "id": STORE, "name": "Linen & Tote", "timezone": "UTC"})]
    )
    assert report.ok
    return sessions


async def write(
    sessions: async_sessionmaker[AsyncSession], shop: ShopOrder | ShopFulfillment, notify: bool = True
) -> WriteResult:
    async with sessions() as session, session.begin():
        if isinstance(shop, ShopOrder):
            return await write_shop_order(session, STORE, shop, notify=notify)
        return await write_fulfillment(session, STORE, shop, notify=notify)


async def held(sessions: async_sessionmaker[AsyncSession]) -> tuple[Order, list[str]]:
    async with sessions() as session:
        order = await session.scalar(
            select(Order).where(Order.store_id == STORE).options(selectinload(Order.items), selectinload(Order.shipments))
        )
        jobs = list(await session.scalars(select(ScheduledJob.kind).where(ScheduledJob.store_id == STORE)))
        assert order is not None
        return order, jobs


async def test_created_updated_and_an_older_version_is_stale(store: async_sessionmaker[AsyncSession]) -> None:
    created = await write(store, ORDER)
    assert (created.outcome, created.created, created.order_number) == ("applied", True, "#1001")
    updated = await write(store, version(2, shopper_email="bob@new.example", items=[ShopItem("X-1", "Other", 2)]))
    assert (updated.outcome, updated.created) == ("applied", False)
    stale = await write(store, version(1, shopper_email="old@example.com", status="cancelled"))
    assert stale.outcome == "stale"
    order, _ = await held(store)
    assert (order.shopper_email, order.status, order.lookup_key) == ("bob@new.example", "processing", "1001")
    assert [(i.sku, i.quantity) for i in order.items] == [("X-1", 2)]
    assert order.source_updated_at is not None and order.source_updated_at.replace(tzinfo=dt.UTC) == T0 + dt.timedelta(
        hours=2
    )


async def test_an_order_never_moves_back_but_a_cancellation_stands(store: async_sessionmaker[AsyncSession]) -> None:
    await write(store, version(0, status="shipped"))
    await write(store, version(1, status="processing"))
    assert (await held(store))[0].status == "shipped"
    await write(store, version(2, status="cancelled"))
    assert (await held(store))[0].status == "cancelled"


@pytest.mark.parametrize("notify", [True, False])
async def test_a_shipment_never_moves_back_and_delivered_queues_one_confirmation(
    store: async_sessionmaker[AsyncSession], notify: bool
) -> None:
    await write(store, version(0, shipments=[shipment(None, 0)]), notify)
    order, _ = await held(store)
    assert [(s.status, s.carrier, s.external_id) for s in order.shipments] == [("InfoReceived", "UPS", "shopify:255858046")]
    await write(store, ShopFulfillment(ORDER.external_id, [shipment("Delivered", 5)]), notify)
    # Older news after it (an in-transit fulfillment update delivered late), and the same news again.
    late = await write(store, ShopFulfillment(ORDER.external_id, [shipment("InTransit", 3)]), notify)
    await write(store, ShopFulfillment(ORDER.external_id, [shipment("Delivered", 6)]), notify)
    order, jobs = await held(store)
    assert late.outcome == "applied" and [s.status for s in order.shipments] == ["Delivered"]
    assert order.status == "delivered"
    assert [j for j in jobs if j == "delivery_confirmation"] == (["delivery_confirmation"] if notify else [])


async def test_a_fulfillment_before_its_order_is_unknown(store: async_sessionmaker[AsyncSession]) -> None:
    result = await write(store, ShopFulfillment("shopify:999", [shipment("InTransit", 1)]))
    assert result.outcome == "unknown_order"
    async with store() as session:
        assert await session.scalar(select(Shipment.id)) is None


async def test_a_number_a_shopper_could_not_tell_apart_is_refused(store: async_sessionmaker[AsyncSession]) -> None:
    await write(store, ORDER)
    with pytest.raises(BadShopData) as refused:
        await write(store, dataclasses.replace(ORDER, external_id="shopify:2", order_number="1001"))
    assert (refused.value.code, refused.value.params) == (
        "shop_order_number_clash",
        {"order_number": "1001", "other": "#1001"},
    )
