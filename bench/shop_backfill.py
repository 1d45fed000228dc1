"""Backfill of a Shopify "Export orders" CSV: how long 1,000 orders take to import (target: under 10 s).

``python -m bench.shop_backfill [--orders 1000] [--postgres URL]``: generates the export (79 columns,
several line items for some orders), imports it into a fresh SQLite database, and into a fresh
PostgreSQL database when one is reachable (``--postgres``, default the local test server), and
prints the seconds for each.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bot.core.config import normalize_database_url
from bot.core.db import create_engine, create_sessionmaker
from bot.core.migrate import upgrade
from bot.integrations.shop_backfill import import_shop_orders
from bot.orders.importer import import_lines

STORE = "bench-shop"
TARGET_SECONDS = 10.0
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
#: The export's header, as Shopify's admin writes it (the fixture's first line).
HEADER = (
    (Path(__file__).parents[1] / "tests/integrations/fixtures/shopify/orders_export.csv")
    .read_text(encoding="utf-8-sig")
    .splitlines()[0]
    .split(",")
)


def export_csv(orders: int) -> bytes:
    """An export of ``orders`` orders (#1001…): every third has three line items, every fifth is
    fulfilled, every 50th cancelled; zips with a leading zero carry the export's apostrophe."""
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER, lineterminator="\r\n")
    writer.writeheader()
    for n in range(orders):
        name = f"#{1001 + n}"
        items = 3 if n % 3 == 0 else 1
        for i in range(items):
            row = {"Name": name, "Email": f"shopper{n}@example.com", "Lineitem quantity": str(1 + i)}
            row |= {
                "Lineitem name": f"Product {n % 40} - {'Sand Stone Ink'.split()[i]}",
                "Lineitem sku": f"SKU-{n % 40}-{i}",
            }
            if i == 0:
                row |= {
                    "Financial Status": "paid",
                    "Fulfillment Status": "fulfilled" if n % 5 == 0 else "unfulfilled",
                    "Created at": f"2026-{1 + n % 12:02d}-{1 + n % 28:02d} 14:05:09 +0200",
                    "Shipping Name": f"Shopper {n}",
                    "Shipping Zip": f"'0{n % 9000 + 1000}",
                    "Shipping Country": "US",
                    "Billing Name": f"Shopper {n}",
                    "Cancelled at": "2026-10-06 10:02:55 +0100" if n % 50 == 49 else "",
                    "Notes": "leave at the door,\nplease" if n % 7 == 0 else "",
                    "Id": str(5912345670000 + n),
                }
            writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode()


async def run(database_url: str, data: bytes) -> tuple[float, int]:
    engine = create_engine(database_url)
    try:
        if engine.dialect.name == "postgresql":
            async with engine.begin() as connection:
                await connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                await connection.exec_driver_sql("CREATE SCHEMA public")
        await upgrade(engine)
        sessions = create_sessionmaker(engine)
        await import_lines(sessions, [f'{{"type": "store", "id": "{STORE}", "name": "Bench Shop", "timezone": "UTC"}}'])

        def progress(step: str, count: int) -> None:
            if count % 100 == 0:
                print(f"\r  {count} orders {step}", end="", file=sys.stderr, flush=True)

        started = time.perf_counter()
        report = await import_shop_orders(sessions, STORE, "shopify", data, progress)
        seconds = time.perf_counter() - started
        print(file=sys.stderr)
        if not report.ok:
            raise SystemExit(f"the generated export was refused: {report.errors[:3]}")
        return seconds, report.imported
    finally:
        await engine.dispose()


async def _postgres_database(url: str) -> str | None:
    """A throwaway database on the server, or None when it is not reachable."""
    import asyncpg

    name = f"bench_backfill_{uuid.uuid4().hex[:8]}"
    try:
        connection = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return normalize_database_url(url).rsplit("/", 1)[0] + f"/{name}"


async def _drop(url: str, database: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=3)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await connection.close()


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="a PostgreSQL server to also measure ('' to skip)")
    args = parser.parse_args(argv)
    data = export_csv(args.orders)
    lines = data.count(b"\n")
    print(f"export: {args.orders} orders, {lines} lines, {len(data) / 1024:.0f} KiB", file=sys.stderr)
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        print("sqlite:", file=sys.stderr)
        results["sqlite"] = await run(f"sqlite+aiosqlite:///{directory}/bench.db", data)
    database = await _postgres_database(args.postgres) if args.postgres else None
    if database is not None:
        print("postgresql:", file=sys.stderr)
        try:
            results["postgresql"] = await run(database, data)
        finally:
            await _drop(args.postgres, database)
    failed = False
    for name, (seconds, imported) in results.items():
        verdict = "ok" if seconds < TARGET_SECONDS else f"SLOWER than {TARGET_SECONDS:.0f} s"
        failed |= seconds >= TARGET_SECONDS
        print(f"{name}: {imported} orders in {seconds:.2f} s ({verdict})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
