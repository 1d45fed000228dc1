"""Migrations that move data (bot/core/migrations/versions), on SQLite and PostgreSQL, and the
copies of today's rules they keep (so that a later change can't rewrite history).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from bot.core.config import PROJECT_ROOT
from bot.core.db import create_engine
from bot.core.migrate import alembic_config
from bot.core.models import Base, Order, OrderNumberShape, ProductGuideVersion, StoreSettingsVersion
from bot.core.version_summaries import VersionSummary
from bot.orders.order_numbers import lookup_key, shape_of

PLACED = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)


def _migrate(connection: Any, direction: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)


async def _fresh_schema(engine: AsyncEngine) -> None:
    """PostgreSQL's test database is shared by every test: start from an empty schema."""
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            await connection.exec_driver_sql("CREATE SCHEMA public")


def _load_migration(file_name: str) -> Any:
    spec = importlib.util.spec_from_file_location(
        file_name, PROJECT_ROOT / "bot" / "core" / "migrations" / "versions" / file_name
    )
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


async def _add_order(connection: AsyncConnection, order_id: int, number: str, key: str, email: str) -> None:
    await connection.execute(
        text(
            "INSERT INTO orders (id, store_id, order_number, lookup_key, shopper_name, shopper_email, "
            "shipping_postcode, shipping_country, placed_at, status, updated_at) VALUES (:id, 'acme', :number, "
            ":key, 'S', :email, '10027', 'US', :at, 'shipped', :at)"
        ),
        {"id": order_id, "number": number, "key": key, "email": email, "at": PLACED},
    )


async def _add_store(connection: AsyncConnection) -> None:
    """The store 'acme', with only the columns every migration since 0017 has."""
    await connection.execute(
        text(
            "INSERT INTO stores (id, name, timezone, plain_shopper_signatures, created_at) "
            "VALUES ('acme', 'Acme', 'UTC', false, :at)"
        ),
        {"at": PLACED},
    )


async def test_0020_stops_on_orders_a_shopper_cannot_tell_apart_then_allows_one_per_key(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await _fresh_schema(engine)
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, "upgrade", "0019")
            await _add_store(connection)
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
    it agrees with bot/orders/order_numbers.py."""
    migration = _load_migration("0020_one_order_per_lookup_key.py")
    assert migration._lookup_key(number) == lookup_key(number)


# --- migration 0018: existing orders learn their shapes and are re-keyed ---


async def test_migration_learns_shapes_and_rekeys_existing_orders_and_their_lockout_counters(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await _fresh_schema(engine)
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, "upgrade", "0017")
            for store in ("h-store", "m-store"):
                await connection.execute(
                    text(
                        "INSERT INTO stores (id, name, timezone, plain_shopper_signatures, created_at) "
                        "VALUES (:id, 'A store', 'UTC', false, :at)"
                    ),
                    {"id": store, "at": PLACED},
                )
            for n, (store, number) in enumerate(
                [("h-store", "H-77001"), ("h-store", "H-77002"), ("h-store", "SO-2026-00123"), ("m-store", "000004321")]
            ):
                await connection.execute(
                    text(
                        "INSERT INTO orders (id, store_id, order_number, lookup_key, shopper_name, shopper_email, "
                        "shipping_postcode, shipping_country, placed_at, status, updated_at) VALUES (:id, :store, "
                        ":number, :old_key, 'S', 's@example.com', '10027', 'US', :at, 'shipped', :at)"
                    ),
                    {
                        "id": n + 1,
                        "store": store,
                        "number": number,
                        "old_key": number.replace("#", "").upper(),
                        "at": PLACED,
                    },
                )
            for n, (scope, key, attempts) in enumerate(
                [
                    ("order", "SO-2026-00123", 3),
                    ("order", "SO202600123", 1),
                    ("order", "H-77001", 2),
                    ("address", "198.51.100.1", 4),
                ]
            ):
                await connection.execute(
                    text(
                        "INSERT INTO identity_check_failures (id, store_id, scope, key, attempts, window_started_at, "
                        "locks) VALUES (:id, 'h-store', :scope, :key, :attempts, :at, 0)"
                    ),
                    {"id": n + 1, "scope": scope, "key": key, "attempts": attempts, "at": PLACED},
                )
            await connection.run_sync(_migrate, "upgrade", "0018")
            counters = set(
                (await connection.execute(text("SELECT scope, key, attempts FROM identity_check_failures"))).tuples().all()
            )
        # The counters follow the new key: one per order, the one furthest along kept.
        assert counters == {("order", "SO202600123", 3), ("order", "H77001", 2), ("address", "198.51.100.1", 4)}
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session:
            keys = dict((await session.execute(select(Order.order_number, Order.lookup_key))).tuples().all())
            shapes = set(
                (
                    await session.execute(
                        select(OrderNumberShape.store_id, OrderNumberShape.shape, OrderNumberShape.order_count)
                    )
                )
                .tuples()
                .all()
            )
        assert keys == {n: lookup_key(n) for n in ("H-77001", "H-77002", "SO-2026-00123", "000004321")}
        assert shapes == {("h-store", "H-99999", 2), ("h-store", "SO-9999-99999", 1), ("m-store", "999999999", 1)}
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, "downgrade", "0017")
            old = dict((await connection.execute(text("SELECT order_number, lookup_key FROM orders"))).tuples().all())
        assert old["SO-2026-00123"] == "SO-2026-00123" and old["000004321"] == "000004321"
    finally:
        await engine.dispose()


@pytest.mark.parametrize("number", ["H-77001", "so 2026 00123", "#000004321", "2411230ABCDEF1", "ORD-1001-X", "订单1"])
def test_the_migration_keeps_the_rules_it_was_written_with(number: str) -> None:
    """The migration has its own copy of the rules (so a later change can't rewrite history);
    today they agree with the module's."""
    migration = _load_migration("0018_order_number_shapes.py")
    assert migration._lookup_key(number) == lookup_key(number)
    assert migration._shape(number) == shape_of(number)


# --- migration 0021: version summaries learn their codes ---


async def test_0021_gives_the_versions_saved_before_it_their_summary_codes(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await _fresh_schema(engine)
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, "upgrade", "0020")
            await _add_store(connection)
            # The English shapes the code wrote before 0021, and one of no known shape.
            settings_summaries = [
                "as imported",
                "changed templates.greeting, review.delay_days",
                "rolled back to version 0",
                "no change",
                "made by hand",
            ]
            for number, summary in enumerate(settings_summaries):
                await connection.execute(
                    text(
                        "INSERT INTO store_settings_versions (store_id, version, settings, summary, created_at) "
                        "VALUES ('acme', :number, '{}', :summary, :at)"
                    ),
                    {"number": number, "summary": summary, "at": PLACED},
                )
            guide_summaries = [
                "as imported",
                "changed video_url",
                "restored version 0",
                "uploaded the manual gk-2040-ab12.pdf",
            ]
            for number, summary in enumerate(guide_summaries):
                await connection.execute(
                    text(
                        "INSERT INTO product_guide_versions (store_id, sku, version, guide, summary, created_at) "
                        "VALUES ('acme', 'GK-2040', :number, '{}', :summary, :at)"
                    ),
                    {"number": number, "summary": summary, "at": PLACED},
                )
            await connection.run_sync(_migrate, "upgrade", "0021")

        async with async_sessionmaker(engine)() as session:
            settings_rows = (
                await session.scalars(select(StoreSettingsVersion).order_by(StoreSettingsVersion.version))
            ).all()
            guide_rows = (await session.scalars(select(ProductGuideVersion).order_by(ProductGuideVersion.version))).all()
        assert [(r.summary, r.summary_code, r.summary_params) for r in settings_rows] == [
            ("as imported", "as_imported", {}),
            (
                "changed templates.greeting, review.delay_days",
                "changed",
                {"fields": ["templates.greeting", "review.delay_days"]},
            ),
            ("rolled back to version 0", "rolled_back", {"version": 0}),
            ("no change", "no_change", {}),
            ("made by hand", None, None),  # the console shows its English as it is
        ]
        assert [(r.summary_code, r.summary_params) for r in guide_rows] == [
            ("as_imported", {}),
            ("changed", {"fields": ["video_url"]}),
            ("restored", {"version": 0}),
            ("manual_uploaded", {"name": "gk-2040-ab12.pdf"}),
        ]

        async with engine.begin() as connection:
            await connection.run_sync(_migrate, "downgrade", "0020")
            columns = (await connection.execute(text("SELECT * FROM store_settings_versions"))).keys()
        assert "summary_code" not in columns and "summary_params" not in columns
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "summary",
    [
        VersionSummary("as_imported"),
        VersionSummary("no_change"),
        VersionSummary("changed", {"fields": ["templates.greeting", "escalation.business_hours"]}),
        VersionSummary("rolled_back", {"version": 12}),
        VersionSummary("restored", {"version": 0}),
        VersionSummary("manual_uploaded", {"name": "op-1001-0a1b2c3d.pdf"}),
    ],
)
def test_0021_reads_back_every_english_summary_written_before_it(summary: VersionSummary) -> None:
    """0021 has its own copy of the English shapes; today's sentences still read back as their codes
    (when one is reworded, this test says so: the copy stays as it was, for the old rows)."""
    migration = _load_migration("0021_version_summary_codes.py")
    assert migration._summary_code(summary.english()) == (summary.code, summary.params)


# --- migration 0022: the shopper's read marker and the audit of emails sent ---


async def test_0022_adds_the_read_marker_and_the_email_audit_and_takes_them_away(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await _fresh_schema(engine)
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, "upgrade", "0021")
            await _add_store(connection)
            await connection.execute(
                text(
                    "INSERT INTO conversations (id, store_id, shopper_email, last_seq, created_at) "
                    "VALUES ('c1', 'acme', 'alex@example.com', 4, :at)"
                ),
                {"at": PLACED},
            )
            await connection.run_sync(_migrate, "upgrade", "0022")
            # An existing conversation has read nothing yet.
            read = (await connection.execute(text("SELECT shopper_read_seq FROM conversations"))).scalar_one()
            assert read == 0
            email = (
                "INSERT INTO email_notifications (store_id, conversation_id, to_address, message_id, kind, "
                "first_seq, last_seq, sent_at) VALUES ('acme', 'c1', 'alex@example.com', :mid, 'agent_reply', 1, 2, :at)"
            )
            await connection.execute(text(email), {"mid": "<n1.x@shop.example>", "at": PLACED})

        # One email per burst of a conversation.
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(text(email), {"mid": "<n1.other@shop.example>", "at": PLACED})

        async with engine.begin() as connection:
            await connection.run_sync(_migrate, "downgrade", "0021")
            columns = await connection.run_sync(
                lambda sync: [column["name"] for column in sa_inspect(sync).get_columns("conversations")]
            )
            assert "shopper_read_seq" not in columns
            assert not await connection.run_sync(lambda sync: sa_inspect(sync).has_table("email_notifications"))
            # The one conversation per shopper and store still holds after the table was rebuilt.
            indexes = await connection.run_sync(lambda sync: sa_inspect(sync).get_indexes("conversations"))
            assert any(index["name"] == "uq_conversations_store_shopper" and index["unique"] for index in indexes)
            await connection.run_sync(_migrate, "upgrade", "0022")
    finally:
        await engine.dispose()


# --- migration 0027: photos, and the stores' retention setting ---


async def test_0027_gives_existing_stores_a_years_retention_agrees_with_the_models_and_goes_away(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await _fresh_schema(engine)
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, "upgrade", "0026")
            await _add_store(connection)
            await connection.run_sync(_migrate, "upgrade", "0027")
            retention = (await connection.execute(text("SELECT data_retention_days FROM stores"))).scalar_one()
            assert retention == 365
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
            assert differences == []
            await connection.run_sync(_migrate, "downgrade", "0026")
            tables = await connection.run_sync(lambda sync: sa_inspect(sync).get_table_names())
            columns = [c["name"] for c in await connection.run_sync(lambda sync: sa_inspect(sync).get_columns("stores"))]
        assert "photos" not in tables and "photo_blobs" not in tables and "data_retention_days" not in columns
    finally:
        await engine.dispose()
