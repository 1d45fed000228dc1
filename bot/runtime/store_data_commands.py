"""Commands that fill and read a store's database: ``migrate`` (create or upgrade the schema),
``import`` (stores, products and orders from JSON Lines), ``shop-import`` (past orders from a
shop's own export), ``tracking-event`` (record a carrier scan), ``tracking-import`` (a tracking
provider's export, applied without telling shoppers), ``review-log`` (the review-invitation log as
CSV) and ``erase-shopper`` (a shopper's data at one store, at the shopper's request).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.core.clock import utc_now


def cmd_migrate(_: argparse.Namespace) -> int:
    from bot.core.db import get_engine
    from bot.core.migrate import upgrade

    async def main() -> None:
        engine = get_engine()
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(main())
    print("store database is at the latest schema")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from bot.core.db import get_engine, get_sessionmaker
    from bot.orders.importer import ImportReport, import_lines

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    total = sum(1 for _ in path.open("rb"))
    show = sys.stderr.isatty() or args.progress

    def progress(number: int) -> None:
        if show and (number % 10 == 0 or number == total):
            print(f"\rimporting {path.name}: line {number}/{total}", end="", file=sys.stderr, flush=True)

    async def main() -> ImportReport:
        sessions = get_sessionmaker()
        try:
            with path.open(encoding="utf-8", errors="replace") as lines:
                return await import_lines(sessions, lines, progress)
        finally:
            await get_engine().dispose()

    report = asyncio.run(main())
    if show:
        print(file=sys.stderr)
    for number, reason in report.errors:
        print(f"{path}:{number}: {reason}", file=sys.stderr)

    def counted(kind: str, n: int) -> str:
        noun = kind.replace("_", " ")
        return f"{n} {noun if n == 1 else noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"

    counts = ", ".join(counted(kind, n) for kind, n in report.imported.items())
    print(f"imported {counts}; {len(report.errors)} bad line{'s' if len(report.errors) != 1 else ''}")
    return 0 if report.ok else 1


def cmd_shop_import(args: argparse.Namespace) -> int:
    """Past orders from the shop's own file (Shopify's "Export orders" CSV or Admin API JSON), all or nothing."""
    from bot.core.db import get_engine, get_sessionmaker
    from bot.integrations.shop_backfill import MAX_BACKFILL_BYTES, BackfillReport, backfill_providers, import_shop_orders

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    if args.provider not in backfill_providers():
        print(f"error: {args.provider} has no order backfill ({', '.join(sorted(backfill_providers()))})", file=sys.stderr)
        return 2
    if path.stat().st_size > MAX_BACKFILL_BYTES:
        # The seller API's limit: one transaction holds every order, so the file is bounded.
        print(f"error: {path} is larger than {MAX_BACKFILL_BYTES // (1024 * 1024)} MB: split it", file=sys.stderr)
        return 2
    show = sys.stderr.isatty() or args.progress

    def progress(step: str, count: int) -> None:
        if show and count % 50 == 0:
            print(f"\r{path.name}: {count} orders {step}", end="", file=sys.stderr, flush=True)

    async def main() -> BackfillReport:
        try:
            return await import_shop_orders(get_sessionmaker(), args.store, args.provider, path.read_bytes(), progress)
        finally:
            await get_engine().dispose()

    try:
        report = asyncio.run(main())
    except LookupError:
        print(f"error: no such store: {args.store}", file=sys.stderr)
        return 2
    if show:
        print(file=sys.stderr)
    for error in report.errors:
        print(f"{path}:{error.line}: {error.error}", file=sys.stderr)
    if not report.ok:
        print(f"nothing imported: {len(report.errors)} bad order{'s' if len(report.errors) != 1 else ''}")
        return 1
    print(f"imported {report.imported} order{'s' if report.imported != 1 else ''} ({report.format})")
    return 0


def cmd_tracking_event(args: argparse.Namespace) -> int:
    """Record one carrier scan for a seller without a tracking provider."""
    import uuid

    from bot.core.db import get_engine, get_sessionmaker
    from bot.shipping.tracking_updates import (
        BadUpdate,
        Checkpoint,
        TrackingUpdate,
        TrackingUpdates,
        UpdateOutcome,
        parse_tag,
        parse_time,
    )

    try:
        when = parse_time(args.time, "--time") if args.time else utc_now()
        tag = parse_tag(args.tag, "--tag")
    except BadUpdate as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    update = TrackingUpdate(
        event_id=args.event_id or f"cli-{uuid.uuid4()}",
        tracking_number=args.tracking_number,
        tag=tag,
        checkpoints=[Checkpoint(when, tag, args.message or "", args.location)],
    )

    async def main() -> UpdateOutcome:
        try:
            return await TrackingUpdates(get_sessionmaker()).apply(args.store, "cli", update)
        finally:
            await get_engine().dispose()

    outcome = asyncio.run(main())
    print(f"{args.tracking_number}: {outcome.result}" + (f", now {outcome.status}" if outcome.status else ""))
    return 1 if outcome.result == "unknown_shipment" else 0


def cmd_tracking_import(args: argparse.Namespace) -> int:
    """Backfill a store's shipments from a tracking provider's export, telling no shopper: each
    tracking (AfterShip), tracker (EasyPost) or tracked number (17TRACK) is applied as an update
    would be, and reported."""
    from bot.core.db import get_engine, get_sessionmaker
    from bot.core.models import Store
    from bot.integrations import aftership, easypost, seventeen_track
    from bot.shipping.tracking_updates import IgnoredEvent, TrackingUpdates

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    read = {
        "aftership": aftership.backfill_updates,
        "easypost": easypost.backfill_updates,
        "17track": seventeen_track.backfill_updates,
    }[args.provider]
    items = read(path.read_bytes())
    show = sys.stderr.isatty() or args.progress
    results: list[tuple[int, str]] = []

    async def main() -> bool:
        sessions = get_sessionmaker()
        try:
            async with sessions() as session:
                if await session.get(Store, args.store) is None:
                    return False
            updates = TrackingUpdates(sessions)
            for done, (number, item) in enumerate(items, 1):
                if isinstance(item, IgnoredEvent):
                    results.append((number, f"ignored: {item.reason}"))
                elif isinstance(item, Exception):
                    results.append((number, f"bad: {item}"))
                else:
                    outcome = await updates.apply(args.store, args.provider, item, notify=False)
                    results.append((number, f"{outcome.result} {item.tracking_number}"))
                if show:
                    print(f"\rapplying {path.name}: {done}/{len(items)}", end="", file=sys.stderr, flush=True)
            return True
        finally:
            await get_engine().dispose()

    if not asyncio.run(main()):
        print(f"error: no such store: {args.store}", file=sys.stderr)
        return 2
    if show:
        print(file=sys.stderr)
    counts: dict[str, int] = {}
    for number, result in results:
        print(f"{path}:{number}: {result}")
        kind = result.split(":")[0].split(" ")[0]
        counts[kind] = counts.get(kind, 0) + 1
    print(", ".join(f"{n} {kind}" for kind, n in counts.items()) or "nothing in the file", file=sys.stderr)
    return 1 if counts.get("bad") else 0


def cmd_review_log(args: argparse.Namespace) -> int:
    """Export the store's review-invitation log (every send, skip and deferral) as CSV."""
    from bot.chat.conversations import UnknownStore
    from bot.core.db import get_engine, get_sessionmaker
    from bot.reviews.shopper_reviews import ReviewService

    async def main() -> str:
        try:
            return await ReviewService(get_sessionmaker()).export_log(args.store)
        finally:
            await get_engine().dispose()

    try:
        text = asyncio.run(main())
    except UnknownStore:
        print(f"error: no such store: {args.store}", file=sys.stderr)
        return 2
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8", newline="")
        entries = text.count("\n") - 1
        print(f"wrote {entries} log entr{'y' if entries == 1 else 'ies'} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_erase_shopper(args: argparse.Namespace) -> int:
    """Erase a shopper's conversations (messages, photos, cases) and reviews at one store; its orders stay."""
    from bot.core.config import get_settings
    from bot.core.db import get_engine, get_sessionmaker
    from bot.photos.conversation_photos import ConversationPhotos
    from bot.photos.storage import photo_storage
    from bot.seller.shopper_erasure import ErasureRefused, ErasureReport, ShopperErasure

    async def main() -> ErasureReport:
        sessions = get_sessionmaker()
        photos = ConversationPhotos(sessions, photo_storage(get_settings(), sessions))
        try:
            return await ShopperErasure(sessions, photos).erase(args.store, args.email)
        finally:
            await get_engine().dispose()

    try:
        report = asyncio.run(main())
    except ErasureRefused as exc:
        print(f"error: --email: {exc}", file=sys.stderr)
        return 2
    except LookupError:
        print(f"error: no such store: {args.store}", file=sys.stderr)
        return 2

    def counted(n: int, noun: str) -> str:
        return f"{n} {noun}{'' if n == 1 else 's'}"

    print(
        f"erased {counted(report.conversations, 'conversation')}, {counted(report.photos, 'photo')} "
        f"and {counted(report.reviews, 'review')} of that shopper at {args.store}"
    )
    return 0
