"""The JSON Lines importer: ``bot.orders.importer.import_lines`` and ``python -m bot import``."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.core.config import PROJECT_ROOT
from bot.core.models import (
    Agent,
    AgentMembership,
    CannedReply,
    Order,
    OrderItem,
    OrderNumberShape,
    Product,
    Shipment,
    Store,
    TrackingEvent,
)
from bot.orders.importer import import_lines
from bot.orders.lookup import OrderService
from tests.conftest import DEMO_DATA, demo_objects

UTC = dt.UTC

Sessions = async_sessionmaker[AsyncSession]


# --- building lines ---


def store_line(store_id: str = "acme", name: str = "Acme Parts", **extra: Any) -> dict[str, Any]:
    return {"type": "store", "id": store_id, "name": name, "timezone": "Asia/Shanghai", **extra}


def product_line(store: str = "acme", sku: str = "SKU-1", name: str = "Oil pan", **extra: Any) -> dict[str, Any]:
    return {
        "type": "product",
        "store": store,
        "sku": sku,
        "name": name,
        "manual_url": f"https://{store}.example/manuals/{sku}.pdf",
        "video_url": None,
        "install_steps": ["Drain the oil", "Fit the pan"],
        **extra,
    }


def event(time: str, tag: str, message: str, location: str = "Fuzhou, CN") -> dict[str, Any]:
    return {"time": time, "location": location, "tag": tag, "message": message}


def shipment(tracking: str, status: str = "InTransit", events: list[dict[str, Any]] | None = None, **extra: Any):
    return {
        "carrier": "USPS",
        "tracking_number": tracking,
        "tracking_url": f"https://track.example/{tracking}",
        "status": status,
        "estimated_delivery": "2026-11-27",
        "delivered_at": None,
        "events": events if events is not None else [event("2026-11-21T02:30:00Z", "InfoReceived", "Label created")],
        **extra,
    }


def order_line(
    store: str = "acme",
    number: str = "AC-1001",
    status: str = "shipped",
    shipments: list[dict[str, Any]] | None = None,
    email: str = "Alex@Example.com",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "type": "order",
        "store": store,
        "order_number": number,
        "placed_at": "2026-11-20T10:00:00Z",
        "status": status,
        "shopper": {"name": "Alex Miller", "email": email, "timezone": "America/New_York"},
        "shipping": {"postcode": "10027", "country": "US"},
        "items": [{"sku": "SKU-1", "name": "Oil pan", "quantity": 1}],
        "shipments": shipments if shipments is not None else [shipment("TRK-1")],
        **extra,
    }


def as_lines(*entries: dict[str, Any] | str) -> list[str]:
    """File-like lines: objects as JSON, strings verbatim, each ending in a newline."""
    return [(json.dumps(e) if isinstance(e, dict) else e) + "\n" for e in entries]


async def run(sessions: Sessions, *entries: dict[str, Any] | str):  # type: ignore[no-untyped-def]
    return await import_lines(sessions, as_lines(*entries))


# --- reading the database ---


async def count(sessions: Sessions, model: type, *where: Any) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def load_order(sessions: Sessions, store_id: str, number: str) -> Order | None:
    async with sessions() as session:
        return await session.scalar(
            select(Order)
            .where(Order.store_id == store_id, Order.order_number == number)
            .options(selectinload(Order.items), selectinload(Order.shipments).selectinload(Shipment.events))
        )


async def load_store(sessions: Sessions, store_id: str) -> Store | None:
    async with sessions() as session:
        return await session.get(Store, store_id)


# --- the demo file ---


async def test_demo_file_imports_with_expected_counts(sessions: Sessions) -> None:
    objects = demo_objects()
    expected = Counter(o["type"] for o in objects)
    assert expected == {"store": 3, "product": 15, "order": 34, "canned_reply": 5, "agent": 5}
    orders = [o for o in objects if o["type"] == "order"]
    expected_shipments = sum(len(o.get("shipments") or []) for o in orders)
    expected_events = sum(len(s.get("events") or []) for o in orders for s in o.get("shipments") or [])
    expected_items = sum(len(o["items"]) for o in orders)

    with DEMO_DATA.open(encoding="utf-8") as lines:
        report = await import_lines(sessions, lines)

    assert report.errors == []
    assert report.ok
    assert report.imported == dict(expected)
    assert await count(sessions, Store) == 3
    assert await count(sessions, Product) == 15
    assert await count(sessions, Order) == 34
    assert await count(sessions, OrderItem) == expected_items
    assert await count(sessions, Shipment) == expected_shipments
    assert await count(sessions, TrackingEvent) == expected_events
    for store_id in {o["id"] for o in objects if o["type"] == "store"}:
        assert await count(sessions, Order, Order.store_id == store_id) == sum(1 for o in orders if o["store"] == store_id)

    # One order read back field by field.
    order = await load_order(sessions, "yangteng-auto", "FZ-20931")
    assert order is not None
    assert order.lookup_key == "FZ20931"  # case, dashes and "#" don't count (bot/orders/order_numbers.py)
    assert order.shopper_email == "alex@example.com"
    assert order.shopper_timezone == "America/New_York"
    assert (order.shipping_postcode, order.shipping_country) == ("10027", "US")
    assert order.placed_at == dt.datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert order.status == "shipped"
    assert [(i.sku, i.quantity) for i in order.items] == [("OP-1001", 1)]
    [ship] = order.shipments
    assert (ship.carrier, ship.tracking_number, ship.status) == ("USPS", "9400111899223100000000", "InTransit")
    assert ship.estimated_delivery == dt.date(2026, 11, 27)
    assert ship.delivered_at is None
    assert [e.occurred_at for e in ship.events] == sorted(e.occurred_at for e in ship.events)
    assert ship.events[-1].location == "Jersey City, NJ"
    assert ship.events[-1].occurred_at == dt.datetime(2026, 11, 24, 8, 12, tzinfo=UTC)


async def test_reimporting_the_demo_file_changes_nothing(demo_sessions: Sessions) -> None:
    tables = (Store, Product, Order, OrderItem, Shipment, TrackingEvent, CannedReply, Agent, AgentMembership)
    before = [await count(demo_sessions, t) for t in tables]
    async with demo_sessions() as session:
        shipment_ids = sorted(await session.scalars(select(Shipment.id)))

    with DEMO_DATA.open(encoding="utf-8") as lines:
        report = await import_lines(demo_sessions, lines)

    assert report.errors == []
    assert report.imported == {"store": 3, "product": 15, "order": 34, "canned_reply": 5, "agent": 5}
    assert [await count(demo_sessions, t) for t in tables] == before
    async with demo_sessions() as session:
        assert sorted(await session.scalars(select(Shipment.id))) == shipment_ids


# --- bad lines ---


async def test_bad_lines_are_reported_and_good_lines_still_import(sessions: Sessions) -> None:
    no_email = order_line(number="AC-2004")
    del no_email["shopper"]["email"]
    entries: list[dict[str, Any] | str] = [
        store_line("acme"),  # 1
        '{"type": "store", "id": "broken", "name": ',  # 2 invalid JSON
        product_line("acme", "SKU-1"),  # 3
        no_email,  # 4 missing shopper.email
        "",  # 5 blank: skipped, but still counts as a line
        order_line(store="nope", number="AC-2006"),  # 6 unknown store
        order_line(number="AC-2007", shipments=[shipment("TRK-7", status="Shipped")]),  # 7 unknown shipment tag
        order_line(number="AC-2008", placed_at="20/11/2026 10:00"),  # 8 malformed date
        order_line(number="AC-2009", status="sent"),  # 9 wrong order status
        '["store", "acme"]',  # 10 not an object
        {"type": "customer", "id": "c-1"},  # 11 unknown type
        order_line(  # 12 unknown event tag
            number="AC-2012", shipments=[shipment("TRK-12", events=[event("2026-11-21T02:30:00Z", "Lost", "Gone")])]
        ),
        order_line(number="AC-2013", placed_at="2026-11-20T10:00:00"),  # 13 date without timezone
        {k: v for k, v in product_line("acme", "SKU-14").items() if k != "sku"},  # 14 product without sku
        order_line(number="AC-2015"),  # 15 good, after bad lines
        store_line("beta", "Beta Baby"),  # 16 good
        product_line("beta", "SKU-9"),  # 17 good
    ]

    report = await run(sessions, *entries)

    assert [number for number, _ in report.errors] == [2, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    assert not report.ok
    reasons = dict(report.errors)
    assert "invalid JSON" in reasons[2]
    assert "missing field" in reasons[4] and "shopper" in reasons[4] and "email" in reasons[4]
    assert "unknown store" in reasons[6] and "'nope'" in reasons[6]
    assert "'Shipped'" in reasons[7] and "shipments[0]" in reasons[7] and "status" in reasons[7]
    assert "placed_at" in reasons[8] and "20/11/2026 10:00" in reasons[8]
    assert "status" in reasons[9] and "'sent'" in reasons[9]
    assert "JSON object" in reasons[10]
    assert "'customer'" in reasons[11] and "type" in reasons[11]
    assert "'Lost'" in reasons[12] and "events[0]" in reasons[12]
    assert "placed_at" in reasons[13] and "timezone" in reasons[13]
    assert "missing field" in reasons[14] and "sku" in reasons[14]

    assert report.imported == {"store": 2, "product": 2, "order": 1}
    async with sessions() as session:
        assert set(await session.scalars(select(Store.id))) == {"acme", "beta"}
        products = (await session.execute(select(Product.store_id, Product.sku))).all()
        assert sorted(products) == [("acme", "SKU-1"), ("beta", "SKU-9")]
        orders = (await session.execute(select(Order.store_id, Order.order_number))).all()
        assert orders == [("acme", "AC-2015")]
    good = await load_order(sessions, "acme", "AC-2015")
    assert good is not None and [s.tracking_number for s in good.shipments] == ["TRK-1"]
    assert await count(sessions, Shipment) == 1
    assert await count(sessions, TrackingEvent) == 1


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda o: o.pop("order_number"), "order_number"),
        (lambda o: o.pop("items"), "items"),
        (lambda o: o["shipping"].pop("postcode"), "postcode"),
        (lambda o: o["shipping"].update(country="USA"), "country"),
        (lambda o: o["shopper"].update(email="not-an-email"), "email"),
        (lambda o: o["shopper"].update(timezone="Mars/Olympus"), "timezone"),
        (lambda o: o["items"][0].update(quantity=0), "quantity"),
        (lambda o: o["shipments"][0].pop("tracking_number"), "tracking_number"),
        (lambda o: o["shipments"][0].update(estimated_delivery="27/11/2026"), "estimated_delivery"),
        (lambda o: o["shipments"][0]["events"][0].update(time="yesterday"), "time"),
        (lambda o: o.update(order_number=1001), "order_number"),
    ],
)
async def test_each_invalid_order_field_is_named(sessions: Sessions, mutate: Any, expected: str) -> None:
    bad = order_line(number="AC-3001")
    mutate(bad)
    report = await run(sessions, store_line(), bad, order_line(number="AC-3002"))
    assert [number for number, _ in report.errors] == [2]
    assert expected in report.errors[0][1]
    assert report.imported == {"store": 1, "product": 0, "order": 1}
    async with sessions() as session:
        assert list(await session.scalars(select(Order.order_number))) == ["AC-3002"]


async def test_product_of_unknown_store_is_rejected(sessions: Sessions) -> None:
    report = await run(sessions, product_line("ghost", "SKU-1"))
    assert len(report.errors) == 1
    number, reason = report.errors[0]
    assert number == 1 and "unknown store" in reason and "'ghost'" in reason
    assert await count(sessions, Product) == 0


# --- upserts ---


async def test_reimporting_the_same_lines_gives_one_row_each(sessions: Sessions) -> None:
    order = order_line(
        shipments=[
            shipment(
                "TRK-1",
                events=[
                    event("2026-11-21T02:30:00Z", "InfoReceived", "Label created"),
                    event("2026-11-22T02:30:00Z", "InTransit", "Departed"),
                ],
            ),
            shipment("TRK-2"),
        ]
    )
    order["items"].append({"sku": "SKU-2", "name": "Gasket", "quantity": 2})
    entries = (store_line(), product_line(), order)

    first = await run(sessions, *entries)
    second = await run(sessions, *entries)

    assert first.ok and second.ok, (first.errors, second.errors)
    assert second.imported == {"store": 1, "product": 1, "order": 1}
    assert await count(sessions, Store) == 1
    assert await count(sessions, Product) == 1
    assert await count(sessions, Order) == 1
    assert await count(sessions, OrderItem) == 2
    assert await count(sessions, Shipment) == 2
    assert await count(sessions, TrackingEvent) == 3


async def test_changed_product_line_updates_the_product(sessions: Sessions) -> None:
    await run(sessions, store_line(), product_line(name="Oil pan"))
    async with sessions() as session:
        first_id = await session.scalar(select(Product.id))
    report = await run(
        sessions, product_line(name="Aluminium oil pan", install_steps=["One step"], video_url="https://v.example/1")
    )
    assert report.ok, report.errors
    async with sessions() as session:
        [product] = (await session.scalars(select(Product))).all()
    assert product.id == first_id
    assert product.name == "Aluminium oil pan"
    assert product.install_steps == ["One step"]
    assert product.video_url == "https://v.example/1"


async def test_changed_order_line_updates_in_place_and_keeps_shipment_id(sessions: Sessions) -> None:
    v1 = order_line(
        status="shipped",
        shipments=[
            shipment(
                "TRK-1",
                status="InTransit",
                events=[
                    event("2026-11-21T02:30:00Z", "InfoReceived", "Label created"),
                    event("2026-11-22T02:30:00Z", "InTransit", "Departed facility"),
                ],
            )
        ],
    )
    assert (await run(sessions, store_line(), v1)).ok
    before = await load_order(sessions, "acme", "AC-1001")
    assert before is not None
    [old_shipment] = before.shipments
    old_event_ids = {e.id for e in old_shipment.events}

    v2 = copy.deepcopy(v1)
    v2["status"] = "delivered"
    v2["shopper"]["name"] = "Alex J. Miller"
    v2["items"] = [{"sku": "SKU-1", "name": "Oil pan", "quantity": 2}, {"sku": "SKU-2", "name": "Gasket"}]
    v2["shipments"][0].update(
        status="Delivered",
        delivered_at="2026-11-26T18:40:00Z",
        tracking_url="https://track.example/new",
        # Out of order on purpose: events are stored by time.
        events=[
            event("2026-11-26T18:40:00Z", "Delivered", "Delivered, front porch", "New York, NY"),
            event("2026-11-21T02:30:00Z", "InfoReceived", "Label created"),
            event("2026-11-25T09:00:00Z", "OutForDelivery", "Out for delivery", "New York, NY"),
        ],
    )
    report = await run(sessions, v2)
    assert report.ok, report.errors

    after = await load_order(sessions, "acme", "AC-1001")
    assert after is not None
    assert after.id == before.id
    assert after.status == "delivered"
    assert after.shopper_name == "Alex J. Miller"
    assert [(i.sku, i.quantity) for i in after.items] == [("SKU-1", 2), ("SKU-2", 1)]
    [new_shipment] = after.shipments
    assert new_shipment.id == old_shipment.id
    assert new_shipment.status == "Delivered"
    assert new_shipment.tracking_url == "https://track.example/new"
    assert new_shipment.delivered_at == dt.datetime(2026, 11, 26, 18, 40, tzinfo=UTC)
    assert [e.message for e in new_shipment.events] == ["Label created", "Out for delivery", "Delivered, front porch"]
    assert [e.tag for e in new_shipment.events] == ["InfoReceived", "OutForDelivery", "Delivered"]
    assert not old_event_ids & {e.id for e in new_shipment.events}
    # Old rows are gone, not left behind as orphans.
    assert await count(sessions, Order) == 1
    assert await count(sessions, OrderItem) == 2
    assert await count(sessions, Shipment) == 1
    assert await count(sessions, TrackingEvent) == 3


async def test_order_line_with_one_fewer_shipment_removes_it(sessions: Sessions) -> None:
    v1 = order_line(
        shipments=[
            shipment("TRK-1", events=[event("2026-11-21T02:30:00Z", "InTransit", "A1")]),
            shipment(
                "TRK-2",
                events=[
                    event("2026-11-22T02:30:00Z", "InfoReceived", "B1"),
                    event("2026-11-23T02:30:00Z", "InTransit", "B2"),
                ],
            ),
        ]
    )
    assert (await run(sessions, store_line(), v1)).ok
    before = await load_order(sessions, "acme", "AC-1001")
    assert before is not None
    ids = {s.tracking_number: s.id for s in before.shipments}

    v2 = copy.deepcopy(v1)
    v2["shipments"] = [v1["shipments"][1]]
    assert (await run(sessions, v2)).ok

    after = await load_order(sessions, "acme", "AC-1001")
    assert after is not None
    assert [(s.tracking_number, s.id) for s in after.shipments] == [("TRK-2", ids["TRK-2"])]
    assert await count(sessions, Shipment) == 1
    assert await count(sessions, Shipment, Shipment.id == ids["TRK-1"]) == 0
    assert await count(sessions, TrackingEvent) == 2

    # A new tracking number is a new shipment; no shipments at all removes them all.
    v3 = copy.deepcopy(v1)
    v3["shipments"] = [shipment("TRK-3")]
    assert (await run(sessions, v3)).ok
    after = await load_order(sessions, "acme", "AC-1001")
    assert after is not None
    [only] = after.shipments
    assert only.tracking_number == "TRK-3" and only.id not in ids.values()

    v4 = copy.deepcopy(v1)
    v4["shipments"] = []
    assert (await run(sessions, v4)).ok
    assert await count(sessions, Shipment) == 0
    assert await count(sessions, TrackingEvent) == 0
    assert await count(sessions, Order) == 1


async def test_store_reimport_without_secret_keeps_the_secret(sessions: Sessions) -> None:
    assert (await run(sessions, store_line(shopper_secret="first-secret"))).ok
    assert (await run(sessions, store_line(name="Acme Parts Ltd"))).ok
    store = await load_store(sessions, "acme")
    assert store is not None
    assert store.name == "Acme Parts Ltd"
    assert store.shopper_secret == "first-secret"
    assert await count(sessions, Store) == 1

    assert (await run(sessions, store_line(shopper_secret="second-secret", timezone="Europe/London"))).ok
    store = await load_store(sessions, "acme")
    assert store is not None
    assert store.shopper_secret == "second-secret"
    assert store.timezone == "Europe/London"


async def test_business_hours_reply_time_canned_replies_and_agents_import_and_reimport(sessions: Sessions) -> None:
    store = {
        "type": "store",
        "id": "s1",
        "name": "S1",
        "timezone": "Asia/Shanghai",
        "business_hours": {"mon": ["09:00-12:00", "13:00-18:00"], "sat": ["10:00-24:00"]},
        "reply_time_minutes": 90,
    }
    lines = [
        json.dumps(store),
        json.dumps({"type": "canned_reply", "store": "s1", "title": "Sorry", "text": "So sorry!"}),
        json.dumps({"type": "agent", "email": "Sam@S1.example", "name": "Sam", "stores": ["s1"]}),
        json.dumps({"type": "canned_reply", "store": "s1", "title": "Sorry", "text": "Very sorry!"}),
        json.dumps(
            {"type": "agent", "email": "sam@s1.example", "name": "Sam Lee", "stores": ["s1"], "role": "seller_admin"}
        ),
    ]
    report = await import_lines(sessions, lines)
    assert report.ok, report.errors
    async with sessions() as session:
        saved = await session.get(Store, "s1")
        assert saved.business_hours == store["business_hours"] and saved.reply_time_minutes == 90
        assert [(c.title, c.text) for c in (await session.scalars(select(CannedReply))).all()] == [("Sorry", "Very sorry!")]
        (agent,) = (await session.scalars(select(Agent))).all()
        assert (agent.email, agent.name, agent.password_hash) == ("sam@s1.example", "Sam Lee", "")  # no password travels
        (membership,) = (await session.scalars(select(AgentMembership))).all()
        assert (membership.store_id, membership.role) == ("s1", "seller_admin")


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            {"type": "store", "id": "s", "name": "S", "business_hours": {"monday": ["09:00-18:00"]}},
            "unknown weekday 'monday'",
        ),
        ({"type": "store", "id": "s", "name": "S", "business_hours": {"mon": ["18:00-09:00"]}}, "ends before it starts"),
        ({"type": "store", "id": "s", "name": "S", "business_hours": {"mon": "9-5"}}, "must be a list"),
        ({"type": "store", "id": "s", "name": "S", "reply_time_minutes": 0}, "'reply_time_minutes' must be from 1"),
        ({"type": "canned_reply", "store": "nope", "title": "t", "text": "x"}, "unknown store 'nope'"),
        ({"type": "canned_reply", "store": "yangteng-auto", "title": "t", "text": "x" * 2001}, "at most 2000"),
        ({"type": "agent", "email": "a@b.c", "name": "A", "stores": []}, "'stores' must be a non-empty list"),
        (
            {"type": "agent", "email": "a@b.c", "name": "A", "stores": ["yangteng-auto"], "role": "root"},
            "'role' must be one of",
        ),
        ({"type": "agent", "email": "nobody", "name": "A", "stores": ["yangteng-auto"]}, "not an email address"),
    ],
)
async def test_bad_hours_canned_replies_and_agents_are_named(
    demo_sessions: Sessions, line: dict[str, Any], expected: str
) -> None:
    report = await import_lines(demo_sessions, [json.dumps(line)])
    assert len(report.errors) == 1 and expected in report.errors[0][1], report.errors


async def test_same_order_number_in_two_stores_are_distinct_orders(sessions: Sessions) -> None:
    report = await run(
        sessions,
        store_line("acme"),
        store_line("beta", "Beta Baby"),
        order_line("acme", "#1001", email="a@acme.example"),
        order_line("beta", "#1001", email="b@beta.example", status="processing", shipments=[]),
    )
    assert report.ok, report.errors
    assert await count(sessions, Order, Order.order_number == "#1001") == 2

    # Re-importing one store's order leaves the other store's alone.
    assert (await run(sessions, order_line("acme", "#1001", email="a@acme.example", status="delivered"))).ok
    acme = await load_order(sessions, "acme", "#1001")
    beta = await load_order(sessions, "beta", "#1001")
    assert acme is not None and beta is not None
    assert acme.id != beta.id
    assert (acme.shopper_email, acme.status, len(acme.shipments)) == ("a@acme.example", "delivered", 1)
    assert (beta.shopper_email, beta.status, len(beta.shipments)) == ("b@beta.example", "processing", 0)

    service = OrderService(sessions)
    found_a = await service.find_order("acme", "1001")
    found_b = await service.find_order("beta", "# 1001")
    assert found_a is not None and found_a.id == acme.id
    assert found_b is not None and found_b.id == beta.id


# --- atomicity ---


async def shapes_of(sessions: Sessions, store_id: str) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(OrderNumberShape.shape, OrderNumberShape.order_count).where(OrderNumberShape.store_id == store_id)
        )
        return dict(rows.tuples().all())


async def test_each_new_order_teaches_its_stores_number_shape(sessions: Sessions) -> None:
    report = await run(
        sessions,
        store_line("acme"),
        store_line("other"),
        product_line("acme"),
        order_line("acme", "H-77001"),
        order_line("acme", "H-77002"),
        order_line("acme", "SO-2026-00123"),
        order_line("other", "000004321"),
    )
    assert report.ok, report.errors
    assert await shapes_of(sessions, "acme") == {"H-99999": 2, "SO-9999-99999": 1}
    assert await shapes_of(sessions, "other") == {"999999999": 1}  # one store never sees another's shapes
    service = OrderService(sessions)
    assert await service.order_number_shapes("acme") == ["H-99999", "SO-9999-99999"]  # most common first
    assert await service.order_number_shapes("no-such-store") == []

    # Updating an order (same number) teaches nothing new; a new order is counted as it arrives.
    assert (await run(sessions, order_line("acme", "H-77001", status="delivered"), order_line("acme", "SO-2026-00124"))).ok
    assert await shapes_of(sessions, "acme") == {"H-99999": 2, "SO-9999-99999": 2}
    # A number no typed message could be matched with is imported, with no shape.
    assert (await run(sessions, order_line("acme", "订单-1"))).ok
    assert await shapes_of(sessions, "acme") == {"H-99999": 2, "SO-9999-99999": 2}


async def test_the_demo_stores_learn_their_shapes(demo_sessions: Sessions) -> None:
    service = OrderService(demo_sessions)
    assert await service.order_number_shapes("yangteng-auto") == ["FZ-99999"]
    assert await service.order_number_shapes("bloomkids-baby") == ["9999"]
    assert await service.order_number_shapes("summit-outdoor") == ["999-9999999-9999999"]


async def test_a_new_order_is_found_by_every_way_of_typing_its_number(sessions: Sessions) -> None:
    assert (
        await run(
            sessions,
            store_line("acme"),
            product_line("acme"),
            order_line("acme", "SO-2026-00123"),
            order_line("acme", "000004321"),
        )
    ).ok
    service = OrderService(sessions)
    for typed in ("so 2026 00123", "#SO-2026-00123", "so2026-00123", "SO-2026-00123"):
        order = await service.find_verified_order("acme", typed, "10027")
        assert order is not None and order.order_number == "SO-2026-00123", typed
    for typed in ("4321", "000004321", "#4321"):
        order = await service.find_verified_order("acme", typed, "alex@example.com")
        assert order is not None and order.order_number == "000004321", typed


async def test_an_order_number_that_reads_as_another_of_the_store_is_refused(sessions: Sessions) -> None:
    """Bob's "0001047" and Alice's "1047" are one number to a shopper: the second is refused,
    so no lookup can pick the other shopper's order. Another store may use the number."""
    report = await run(
        sessions,
        store_line("acme"),
        store_line("beta", "Beta Baby"),
        product_line("acme"),
        order_line("acme", "0001047", email="bob@example.com"),
        order_line("acme", "1047", email="alice@example.com"),
        order_line("acme", "FZ-20266", email="carol@example.com"),
        order_line("acme", "fz 20266", email="dave@example.com"),
        order_line("acme", "ＦＺ２０２６６", email="erin@example.com"),
        order_line("beta", "1047", email="b@beta.example"),
    )
    assert report.imported.get("order") == 3
    refused = {line: reason for line, reason in report.errors}
    assert sorted(refused) == [5, 7, 8]
    assert "'1047' reads the same as order '0001047'" in refused[5]
    assert "'fz 20266' reads the same as order 'FZ-20266'" in refused[7]
    assert "'ＦＺ２０２６６' reads the same as order 'FZ-20266'" in refused[8]
    service = OrderService(sessions)
    bob = await service.find_order("acme", "1047")
    assert bob is not None and bob.shopper_email == "bob@example.com"
    assert await service.find_verified_order("acme", "1047", "alice@example.com") is None
    # Re-importing the first order (same number) is an update, not a clash.
    assert (await run(sessions, order_line("acme", "0001047", email="bob@example.com", status="delivered"))).ok
    beta = await service.find_order("beta", "1047")
    assert beta is not None and beta.shopper_email == "b@beta.example"


async def test_bad_line_leaves_nothing_half_written(sessions: Sessions) -> None:
    bad = order_line(
        shipments=[shipment("TRK-1"), shipment("TRK-2", status="Teleported")],
    )
    bad["items"].append({"sku": "SKU-2", "name": "Gasket", "quantity": 1})
    report = await run(sessions, store_line(), bad)
    assert [n for n, _ in report.errors] == [2]
    assert "shipments[1]" in report.errors[0][1] and "'Teleported'" in report.errors[0][1]
    assert await count(sessions, Order) == 0
    assert await count(sessions, OrderItem) == 0
    assert await count(sessions, Shipment) == 0
    assert await count(sessions, TrackingEvent) == 0


async def test_bad_update_leaves_the_previous_version_intact(sessions: Sessions) -> None:
    v1 = order_line(shipments=[shipment("TRK-1", events=[event("2026-11-21T02:30:00Z", "InTransit", "Departed")])])
    assert (await run(sessions, store_line(), v1)).ok
    before = await load_order(sessions, "acme", "AC-1001")
    assert before is not None

    v2 = copy.deepcopy(v1)
    v2["status"] = "delivered"
    v2["items"] = [{"sku": "SKU-9", "name": "Other", "quantity": 3}]
    v2["shipments"] = [
        shipment("TRK-1", status="Delivered"),
        shipment("TRK-2", events=[event("not a date", "InTransit", "x")]),
    ]
    report = await run(sessions, v2)
    assert [n for n, _ in report.errors] == [1]
    assert "shipments[1].events[0]" in report.errors[0][1]

    after = await load_order(sessions, "acme", "AC-1001")
    assert after is not None
    assert after.status == "shipped"
    assert [(i.sku, i.quantity) for i in after.items] == [("SKU-1", 1)]
    assert [(s.id, s.tracking_number, s.status) for s in after.shipments] == [(before.shipments[0].id, "TRK-1", "InTransit")]
    assert [e.message for e in after.shipments[0].events] == ["Departed"]
    assert await count(sessions, Shipment) == 1
    assert await count(sessions, TrackingEvent) == 1


# --- the command line (SQLite only) ---


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
        VAR_DIR=str(tmp_path / "var"),
        PYTHONPATH=str(PROJECT_ROOT),
    )
    return env


def _bot(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def migrated_cli_env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    result = _bot(cli_env, "migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return cli_env


def _sqlite_count(tmp_path: Path, table: str) -> int:
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names


@pytest.mark.slow  # runs `python -m bot` in a process of its own
def test_cli_imports_a_good_file(migrated_cli_env: dict[str, str], tmp_path: Path) -> None:
    result = _bot(migrated_cli_env, "import", str(DEMO_DATA), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "imported 3 stores, 15 products, 34 orders, 5 agents, 5 canned replies; 0 bad lines" in result.stdout
    assert result.stderr.strip() == ""
    assert _sqlite_count(tmp_path, "stores") == 3
    assert _sqlite_count(tmp_path, "products") == 15
    assert _sqlite_count(tmp_path, "orders") == 34


@pytest.mark.slow  # runs `python -m bot` in a process of its own
def test_cli_reports_bad_lines_and_exits_non_zero(migrated_cli_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "".join(
            as_lines(
                store_line(),
                '{"type": "store", "id": ',
                order_line(),
                order_line(store="nope", number="AC-9"),
                product_line(),
            )
        ),
        encoding="utf-8",
    )
    result = _bot(migrated_cli_env, "import", str(path), cwd=tmp_path)
    assert result.returncode != 0
    assert f"{path}:2: invalid JSON" in result.stderr
    assert f"{path}:4: unknown store 'nope'" in result.stderr
    assert f"{path}:1:" not in result.stderr and f"{path}:3:" not in result.stderr
    assert "Traceback" not in result.stderr
    assert "2 bad lines" in result.stdout
    # The good lines were imported all the same.
    assert _sqlite_count(tmp_path, "stores") == 1
    assert _sqlite_count(tmp_path, "orders") == 1
    assert _sqlite_count(tmp_path, "products") == 1


@pytest.mark.slow  # runs `python -m bot` in a process of its own
def test_cli_nonexistent_file_is_a_clear_error(migrated_cli_env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-file.jsonl"
    result = _bot(migrated_cli_env, "import", str(missing), cwd=tmp_path)
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr
