"""Backfill from a shop's own files: Shopify's "Export orders" CSV and Admin API JSON, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bench.shop_backfill import export_csv
from bot.core.models import Order, OrderItem
from bot.integrations import shopify
from bot.integrations.shop_backfill import import_shop_orders
from bot.integrations.shop_orders import ShopOrder
from bot.orders.importer import import_lines

FIXTURES = Path(__file__).parent / "fixtures" / "shopify"
STORE = "linen-and-tote"


@pytest.fixture
async def store(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    report = await import_lines(
        sessions, [json.dumps({"type": "store", "id": STORE, "name": "Linen & Tote", "timezone": "UTC"})]
    )
    assert report.ok
    return sessions


async def _orders(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Order]:
    async with sessions() as session:
        rows = await session.scalars(select(Order).where(Order.store_id == STORE).options(selectinload(Order.items)))
        return {o.order_number: o for o in rows}


async def test_the_export_fixture_is_imported(store: async_sessionmaker[AsyncSession]) -> None:
    report = await import_shop_orders(store, STORE, "shopify", (FIXTURES / "orders_export.csv").read_bytes())
    assert (report.ok, report.imported, report.format) == (True, 3, "csv")
    orders = await _orders(store)
    first, second, third = orders["#1001"], orders["#1002"], orders["#1003"]
    assert [(i.sku, i.name, i.quantity) for i in first.items] == [
        ("APR-LIN-SND", "Linen Apron - Sand", 1),
        ("TOTE-WXC", "Waxed Canvas Tote", 1),
    ]
    assert (first.external_id, first.shopper_email, first.shipping_postcode, first.shipping_country, first.status) == (
        "shopify:5912345678901", "mei.tanaka@example.com", "10435", "DE", "shipped",
    )  # fmt: skip
    assert first.placed_at.replace(tzinfo=None).isoformat() == "2026-10-02T12:05:09"
    # The export's apostrophe before a zip with a leading zero is not part of the zip.
    assert (second.shipping_postcode, second.status, second.items[0].quantity) == ("02116", "processing", 2)
    assert third.status == "cancelled"


async def test_a_generated_export_of_1000_orders(store: async_sessionmaker[AsyncSession]) -> None:
    report = await import_shop_orders(store, STORE, "shopify", export_csv(1000))
    assert (report.ok, report.imported) == (True, 1000)
    async with store() as session:
        assert await session.scalar(select(func.count()).select_from(Order).where(Order.store_id == STORE)) == 1000
        # Every third order has three line items.
        assert (
            await session.scalar(select(func.count()).select_from(OrderItem).where(OrderItem.store_id == STORE))
            == 1000 + 2 * 334
        )
    orders = await _orders(store)
    assert (orders["#1001"].status, orders["#1002"].status, orders["#1050"].status) == ("shipped", "processing", "cancelled")
    assert [i.quantity for i in orders["#1001"].items] == [1, 2, 3]


def _csv(*rows: str) -> bytes:
    header = (FIXTURES / "orders_export.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    columns = header.split(",")

    def row(**values: str) -> str:
        return ",".join(values.get(c.replace(" ", "_").lower(), "") for c in columns)

    good = {
        "email": "a@example.com",
        "created_at": "2026-10-02 14:05:09 +0200",
        "lineitem_quantity": "1",
        "lineitem_name": "Mug",
        "shipping_zip": "10435",
        "shipping_country": "DE",
    }
    named = {"#2001": dict(good, name="#2001", id="1", notes='"two\nlines"'), "#2002": dict(good, name="#2002", id="2", email=""),
             "#2003": dict(good, name="#2003", id="3"), "#2004": dict(good, name="#2004", id="4", lineitem_quantity="0")}  # fmt: skip
    return ("\ufeff" + header + "\r\n" + "".join(row(**named[r]) + "\r\n" for r in rows)).encode()


async def test_bad_orders_are_reported_by_physical_line_and_nothing_is_imported(
    store: async_sessionmaker[AsyncSession],
) -> None:
    # #2001's quoted note holds a newline: it spans lines 2-3, so #2002 starts on line 4.
    data = _csv("#2001", "#2002", "#2003", "#2004", "#2001")
    report = await import_shop_orders(store, STORE, "shopify", data)
    assert [(e.line, e.code) for e in report.errors] == [
        (4, "shop_field_missing"),
        (6, "shop_field_invalid"),
        (7, "backfill_order_repeated"),
    ]
    assert report.errors[0].error == "Email is missing" and report.imported == 0
    assert await _orders(store) == {}


async def test_a_writer_refusal_rolls_the_whole_file_back(store: async_sessionmaker[AsyncSession]) -> None:
    await import_lines(
        store,
        [json.dumps({"type": "order", "store": STORE, "order_number": "2003", "placed_at": "2026-10-01T00:00:00Z", "status": "processing",
                     "shopper": {"name": "A", "email": "b@example.com"}, "shipping": {"postcode": "1", "country": "DE"}, "items": []})],
    )  # fmt: skip
    report = await import_shop_orders(store, STORE, "shopify", _csv("#2001", "#2003"))
    assert [(e.line, e.code) for e in report.errors] == [(4, "shop_order_number_clash")]
    assert set(await _orders(store)) == {"2003"}


ORDER = json.loads((FIXTURES / "admin_api_order.json").read_text())["order"]
ONE = json.dumps(ORDER)
TWO = json.dumps({**ORDER, "id": 2, "name": "#1002"})


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ((FIXTURES / "admin_api_order.json").read_text(), [1]),  # {"order": …}, as the Admin API answers
        (ONE, [1]),  # a bare order
        (f"\n{ONE}\n{TWO}\n", [2, 3]),  # JSON Lines
        (f"[\n  {ONE},\n\n  {TWO}\n]", [2, 4]),
        (f'{{"orders": [\n{ONE},\n{TWO}\n]}}', [2, 3]),
    ],
    ids=["envelope", "bare", "json-lines", "array", "orders"],
)
def test_json_shapes(text: str, lines: list[int]) -> None:
    read = list(shopify.backfill_orders(text.encode()))
    assert [line for line, _ in read] == lines
    assert all(isinstance(order, ShopOrder) and order.shopper_email == "bob.norman@hostmail.com" for _, order in read)


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        ('{"id": 1,\n  "name": }', [(2, "backfill_json_invalid")]),
        (f"{ONE}\n[1]", [(2, "backfill_json_not_object")]),
        (json.dumps({**ORDER, "email": None, "contact_email": None, "customer": None}), [(1, "shop_field_missing")]),
    ],
)
def test_bad_json(text: str, errors: list[tuple[int, str]]) -> None:
    read = [(line, order.code) for line, order in shopify.backfill_orders(text.encode()) if not isinstance(order, ShopOrder)]
    assert read == errors
