"""Migrations that move data (bot/migrations/versions), on SQLite and PostgreSQL.

Migration 0018 (order-number shapes and keys) is tested with the module whose rules it copies,
in tests/test_order_numbers.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import create_engine
from bot.migrate import alembic_config
from bot.order_numbers import lookup_key

PLACED = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)


def _migrate(connection: Any, direction: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)


async def _add_order(connection: AsyncConnection, order_id: int, number: str, key: str, email: str) -> None:
    await connection.execute(
        text(
            "INSERT INTO orders (id, store_id, order_number, lookup_key, shopper_name, shopper_email, "
            "shipping_postcode, shipping_country, placed_at, status, updated_at) VALUES (:id, 'acme', :number, "
            ":key, 'S', :email, '10027', 'US', :at, 'shipped', :at)"
        ),
        {"id": order_id, "number": number, "key": key, "email": email, "at": PLACED},
    )


async def test_0020_stops_on_orders_a_shopper_cannot_tell_apart_then_allows_one_per_key(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        if engine.dialect.name == "postgresql":
            async with engine.begin() as connection:
                await connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                await connection.exec_driver_sql("CREATE SCHEMA public")
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, "upgrade", "0019")
            await connection.execute(
                text(
                    "INSERT INTO stores (id, name, timezone, plain_shopper_signatures, created_at) "
                    "VALUES ('acme', 'Acme', 'UTC', false, :at)"
                ),
                {"at": PLACED},
            )
            # Keys as 0018 left them: Bob's and Alice's numbers share one; the full-width
            # number still has its full-width key.
            await _add_order(connection, 1, "0001047", "1047", "bob@example.com")
            await _add_order(connection, 2, "1047", "1047", "alice@example.com")
            await _add_order(connection, 3, "ＦＺ-20931", "ＦＺ20931", "carol@example.com")

        with pytest.raises(RuntimeError) as stopped:
            async with engine.begin() as connection:
                await connection.run_sync(_migrate, "upgrade", "0020")
        assert "store 'acme': '0001047', '1047'" in str(stopped.value)
        assert "Give one order of each group another number" in str(stopped.value)

        async with engine.begin() as connection:
            # Nothing changed: the upgrade stopped as a whole.
            version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
            assert version == "0019"
            await connection.execute(text("UPDATE orders SET order_number = 'B-1047', lookup_key = 'B1047' WHERE id = 1"))
            await connection.run_sync(_migrate, "upgrade", "0020")
            keys = dict((await connection.execute(text("SELECT order_number, lookup_key FROM orders"))).tuples().all())
        assert keys == {"B-1047": "B1047", "1047": "1047", "ＦＺ-20931": "FZ20931"}
        assert keys["ＦＺ-20931"] == lookup_key("FZ-20931")

        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await _add_order(connection, 4, "#1047", "1047", "mallory@example.com")

        async with engine.begin() as connection:
            await connection.run_sync(_migrate, "downgrade", "0019")
            await _add_order(connection, 4, "#1047", "1047", "mallory@example.com")  # no longer refused
    finally:
        await engine.dispose()


@pytest.mark.parametrize("number", ["H-77001", "so 2026 00123", "#000004321", "ＦＺ-２０９３１", "１０４７", "订单1"])
def test_0020_keeps_the_key_rule_it_was_written_with(number: str) -> None:
    """0020 has its own copy of the key rule (so a later change can't rewrite history); today
    it agrees with bot/order_numbers.py."""
    import importlib.util

    from bot.config import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location(
        "migration_0020", PROJECT_ROOT / "bot" / "migrations" / "versions" / "0020_one_order_per_lookup_key.py"
    )
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration._lookup_key(number) == lookup_key(number)
