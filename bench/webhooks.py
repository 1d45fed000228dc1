"""A burst of "Delivered" webhooks: acknowledgement latency, and time from
webhook to the delivery confirmation in the shopper's transcript.

``make bench`` runs it after ``bench.run``; alone: ``python -m bench.webhooks
[--count 2000] [--concurrency 50]``. It starts the gateway, Rasa, the action
server and the worker on free loopback ports over a fresh SQLite database
holding one store with ``--count`` orders in transit, posts one signed
"Delivered" webhook per order, and waits until every confirmation is in its
transcript. Results go to ``var/bench/webhooks.json``
(``webhooks-postgresql.json`` with ``--postgres``, the production setup).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import shutil
import sys
import time
from pathlib import Path

import aiohttp
from sqlalchemy import text

from bot.core.config import PROJECT_ROOT, load_settings
from bot.core.db import create_engine, create_sessionmaker
from bot.core.migrate import upgrade
from bot.orders.importer import import_lines
from bot.runtime.stack import Stack, free_port
from bot.shipping.tracking_updates import simple_signature

VAR = PROJECT_ROOT / "var" / "bench" / "webhooks"
RESULTS_DIR = PROJECT_ROOT / "var" / "bench"
STORE = "bench-auto"
TARGET_PER_SECOND = 50.0
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def tracking(n: int) -> str:
    return f"BENCH{n:08d}"


def store_lines(count: int, secret: str) -> list[str]:
    lines = [
        {"type": "store", "id": STORE, "name": "Bench Auto Parts", "timezone": "Asia/Shanghai", "webhook_secret": secret},
        {
            "type": "product",
            "store": STORE,
            "sku": "OP-1001",
            "name": "Aluminium oil pan",
            "manual_url": "https://bench.example/op-1001.pdf",
            "video_url": "https://bench.example/op-1001.mp4",
            "install_steps": ["Drain the old oil", "Fit the new pan"],
        },
    ]
    for n in range(count):
        lines.append(
            {
                "type": "order",
                "store": STORE,
                "order_number": f"BA-{n:05d}",
                "placed_at": "2026-11-20T10:00:00Z",
                "status": "shipped",
                "shopper": {"name": f"Shopper {n}", "email": f"shopper{n}@example.com", "timezone": "America/New_York"},
                "shipping": {"postcode": "10027", "country": "US"},
                "items": [{"sku": "OP-1001", "name": "Aluminium oil pan", "quantity": 1}],
                "shipments": [
                    {
                        "carrier": "USPS",
                        "tracking_number": tracking(n),
                        "tracking_url": None,
                        "status": "InTransit",
                        "estimated_delivery": "2026-11-27",
                        "delivered_at": None,
                        "events": [
                            {
                                "time": "2026-11-24T08:12:00Z",
                                "location": "Jersey City, NJ",
                                "tag": "InTransit",
                                "message": "Arrived at regional facility",
                            }
                        ],
                    }
                ],
            }
        )
    return [json.dumps(line) for line in lines]


def progress(text_: str) -> None:
    print(f"\r  {text_}    ", end="", flush=True)


async def prepare(database_url: str, count: int, secret: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        report = await import_lines(
            create_sessionmaker(engine),
            store_lines(count, secret),
            lambda n: progress(f"importing {n}/{count + 2} lines") if n % 200 == 0 else None,
        )
        if not report.ok:
            raise SystemExit(f"import failed: {report.errors[:3]}")
    finally:
        await engine.dispose()
    print()


async def burst(gateway_url: str, count: int, concurrency: int, secret: str) -> tuple[dict[str, float], list[float]]:
    sent_at: dict[str, float] = {}
    acks: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def sender() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                body = json.dumps(
                    {
                        "event_id": f"bench-{n}",
                        "tracking_number": tracking(n),
                        "status": "Delivered",
                        "events": [{"time": "2026-11-27T21:40:00Z", "tag": "Delivered", "message": "Delivered"}],
                    }
                ).encode()
                sent_at[tracking(n)] = time.time()
                started = time.perf_counter()
                async with http.post(
                    f"{gateway_url}/webhooks/tracking/{STORE}",
                    data=body,
                    headers={"X-Signature": simple_signature(secret, body)},
                ) as response:
                    result = await response.json()
                    if response.status != 200 or result.get("result") != "applied":
                        raise SystemExit(f"webhook {n} answered {response.status} {result}")
                acks.append((time.perf_counter() - started) * 1000)
                if len(acks) % 100 == 0:
                    progress(f"webhooks acknowledged {len(acks)}/{count}")

        await asyncio.gather(*(sender() for _ in range(concurrency)))
    print()
    return sent_at, acks


async def wait_for_confirmations(database_url: str, count: int, timeout: float) -> dict[str, float]:
    """Tracking number -> when its first confirmation message was stored."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout
    query = text(
        "SELECT s.tracking_number, MIN(m.created_at) FROM messages m "
        "JOIN conversations c ON c.id = m.conversation_id "
        "JOIN orders o ON o.store_id = c.store_id AND o.shopper_email = c.shopper_email "
        "JOIN shipments s ON s.order_id = o.id "
        "WHERE m.sender = 'store' GROUP BY s.tracking_number"
    )
    try:
        while True:
            async with engine.connect() as connection:
                rows = (await connection.execute(query)).all()
            progress(f"confirmations in transcripts {len(rows)}/{count}")
            if len(rows) >= count or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    print()

    def epoch(value: object) -> float:
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()

    return {number: epoch(first) for number, first in rows}


async def fresh_postgres_database(server_url: str, name: str) -> str:
    """Drop and create ``name`` on the server; returns its URL."""
    import asyncpg

    connection = await asyncpg.connect(server_url, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its live descendants
    (Sanic runs the action server in a child process), from Linux /proc."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    tree, total = [pid], 0.0
    while tree:
        current = tree.pop()
        total += stats.get(current, (0, 0.0))[1]
        tree.extend(child for child, (parent, _) in stats.items() if parent == current)
    return total


def cpu_by_service(stack: Stack) -> dict[str, float]:
    usage = {s.name: process_cpu_seconds(s.process.pid) for s in stack.services if s.process is not None}
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    usage["benchmark client"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return usage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for all confirmations")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        nargs="?",
        const=DEFAULT_POSTGRES,
        help="the production setup: store database and Rasa tracker store in fresh PostgreSQL databases on this "
        f"server (default {DEFAULT_POSTGRES}) instead of SQLite files",
    )
    args = parser.parse_args(argv)

    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    databases = {"DATABASE_URL": f"sqlite:///{VAR / 'store.db'}"}
    if args.postgres:
        databases = {
            "DATABASE_URL": asyncio.run(fresh_postgres_database(args.postgres, "aftersales_bench_store")),
            "RASA_TRACKER_STORE_URL": asyncio.run(fresh_postgres_database(args.postgres, "aftersales_bench_tracker")),
        }
    settings = load_settings(
        {
            "VAR_DIR": str(VAR),
            **databases,
            "RASA_PORT": str(free_port()),
            "ACTION_SERVER_PORT": str(free_port()),
            "GATEWAY_PORT": str(free_port()),
        }
    )
    secret = secrets.token_hex(16)
    print(f"==> {args.count} orders in transit in a fresh {'PostgreSQL' if args.postgres else 'SQLite'} store database")
    asyncio.run(prepare(settings.database_url, args.count, secret))
    stack = Stack(settings)
    print("==> starting gateway, Rasa, action server and worker")
    try:
        stack.start(progress=progress)
        print()
        print(f"==> {args.count} signed 'Delivered' webhooks, {args.concurrency} at a time")
        cpu_before = cpu_by_service(stack)
        sent_at, acks = asyncio.run(burst(settings.gateway_url, args.count, args.concurrency, secret))
        confirmed = asyncio.run(wait_for_confirmations(settings.database_url, args.count, args.timeout))
        cpu_after = cpu_by_service(stack)
    finally:
        stack.stop()

    delays = [(confirmed[n] - sent_at[n]) * 1000 for n in confirmed if n in sent_at]
    span = max(confirmed.values()) - min(sent_at.values()) if confirmed else float("nan")
    per_second = len(confirmed) / span if confirmed else 0.0
    results = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "count": args.count,
        "concurrency": args.concurrency,
        "confirmed": len(confirmed),
        "database": "postgresql" if args.postgres else "sqlite",
        "ack_ms": {"p50": percentile(acks, 0.5), "p95": percentile(acks, 0.95), "max": max(acks)},
        "webhook_to_transcript_ms": {"p50": percentile(delays, 0.5), "p95": percentile(delays, 0.95)} if delays else None,
        "confirmations_per_second": per_second,
        "target_per_second": TARGET_PER_SECOND,
        # Where the 2 cores went: CPU milliseconds per confirmation, by process.
        "cpu_ms_per_confirmation": {
            name: round((cpu_after[name] - cpu_before[name]) * 1000 / max(1, len(confirmed)), 1) for name in cpu_after
        },
    }
    results_file = RESULTS_DIR / ("webhooks-postgresql.json" if args.postgres else "webhooks.json")
    results_file.write_text(json.dumps(results, indent=2))
    print(
        f"  acknowledgement: p50 {results['ack_ms']['p50']:.1f} ms, p95 {results['ack_ms']['p95']:.1f} ms, "
        f"max {results['ack_ms']['max']:.1f} ms"
    )
    if delays:
        print(
            f"  webhook → transcript: p50 {results['webhook_to_transcript_ms']['p50']:.0f} ms, "
            f"p95 {results['webhook_to_transcript_ms']['p95']:.0f} ms"
        )
    met = "MET" if per_second >= TARGET_PER_SECOND and len(confirmed) == args.count else "NOT MET"
    print(f"  {len(confirmed)}/{args.count} confirmations, {per_second:.1f}/s (target ≥ {TARGET_PER_SECOND:.0f}/s: {met})")
    print(
        "  CPU per confirmation: "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in results["cpu_ms_per_confirmation"].items())
    )
    print(f"  results in {results_file.relative_to(PROJECT_ROOT)}")
    return 0 if len(confirmed) == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
