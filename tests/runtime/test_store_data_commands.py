"""The store data commands, run as ``python -m bot`` runs them."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import get_settings
from bot.core.db import get_engine, get_sessionmaker
from bot.core.models import Conversation, Photo, PhotoBlob, ScheduledJob, Shipment
from bot.photos.conversation_photos import ConversationPhotos
from bot.photos.storage import DatabaseStorage
from bot.runtime.cli import main

EASYPOST = Path(__file__).parents[1] / "integrations" / "fixtures" / "easypost"
AFTERSHIP = EASYPOST.parent / "aftership"


@pytest.fixture
def command_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The command's own engine on the test database; the umask it sets is put back."""
    umask = os.umask(0o077)
    os.umask(umask)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()
    yield
    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()
    os.umask(umask)


async def test_tracking_import_of_easypost_trackers_tells_no_shopper(
    demo_sessions: async_sessionmaker[AsyncSession],
    command_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GET /trackers output: the published Tracker, as Alex's parcel delivered (OURS), a test-mode one
    # as published, an unknown parcel, and one without a tracking code.
    event = json.loads((EASYPOST / "tracker_updated_event.json").read_bytes())
    delivered = event["result"] | {"tracking_code": "9400111899223100000000", "status": "delivered"}
    delivered["tracking_details"] = delivered["tracking_details"] + [
        dict(delivered["tracking_details"][-1], status="delivered", datetime="2026-11-27T21:40:00Z")
    ]
    test_mode = json.loads((EASYPOST / "tracker_create_response.json").read_bytes())
    unknown = event["result"] | {"id": "trk_2", "tracking_code": "NO-SUCH-PARCEL"}
    bad = event["result"] | {"id": "trk_3", "tracking_code": None}
    export = tmp_path / "trackers.json"
    export.write_text(json.dumps({"trackers": [delivered, test_mode, unknown, bad], "has_more": False}))

    argv = ["tracking-import", "--store", "yangteng-auto", "--provider", "easypost", str(export)]
    assert await asyncio.to_thread(main, argv) == 1  # one bad tracker
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{export}:1: applied 9400111899223100000000",
        f"{export}:2: ignored: EasyPost test mode: not applied to real shipments",
        f"{export}:3: unknown_shipment NO-SUCH-PARCEL",
        f"{export}:4: bad: tracker.tracking_code must be a non-empty string",
    ]
    async with demo_sessions() as session:
        assert (
            await session.scalar(select(Shipment.status).where(Shipment.tracking_number == "9400111899223100000000"))
            == "Delivered"
        )
        assert await session.scalar(select(func.count()).select_from(ScheduledJob)) == 0

    # The same file again changes nothing.
    assert await asyncio.to_thread(main, argv) == 1
    assert capsys.readouterr().out.splitlines()[0] == f"{export}:1: duplicate 9400111899223100000000"


async def test_tracking_import_of_aftership_trackings_tells_no_shopper(
    demo_sessions: async_sessionmaker[AsyncSession], command_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GET /trackings output of a dated API version: the published tracking (its renamed fields), as
    # Alex's parcel delivered (OURS), and one that is not an object.
    published = json.loads((AFTERSHIP / "tracking_update_2026-07_trimmed.json").read_bytes())["msg"]
    delivered = published | {
        "tracking_number": "9400111899223100000000",
        "tag": "Delivered",
        "subtag": "Delivered_001",
        "updated_at": "2026-11-27T21:45:00+00:00",
        "latest_estimated_delivery": {"type": "specific", "datetime": "2026-11-27"},
        "checkpoints": [
            dict(
                published["checkpoints"][0], checkpoint_time="2026-11-27T21:40:00Z", tag="Delivered", subtag="Delivered_001"
            )
        ],
    }
    export = tmp_path / "trackings.json"
    export.write_text(json.dumps({"meta": {"code": 200}, "data": {"trackings": [delivered, "not a tracking"]}}))

    argv = ["tracking-import", "--store", "yangteng-auto", "--provider", "aftership", str(export)]
    assert await asyncio.to_thread(main, argv) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{export}:1: applied 9400111899223100000000",
        f"{export}:2: bad: tracking must be an object",
    ]
    async with demo_sessions() as session:
        shipment = await session.scalar(select(Shipment).where(Shipment.tracking_number == "9400111899223100000000"))
        assert shipment is not None and shipment.status == "Delivered"
        assert await session.scalar(select(func.count()).select_from(ScheduledJob)) == 0
    assert await asyncio.to_thread(main, argv) == 1
    assert capsys.readouterr().out.splitlines()[0] == f"{export}:1: duplicate 9400111899223100000000"


async def test_erase_shopper_erases_one_stores_conversations_with_their_photos(
    demo_sessions: async_sessionmaker[AsyncSession], command_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    shopper = "erase.me@example.com"
    async with demo_sessions() as session, session.begin():
        for store in ("yangteng-auto", "bloomkids-baby"):
            session.add(Conversation(id=f"erase-{store}", store_id=store, shopper_email=shopper))
    # The command's own photo storage: the store database, as PHOTO_STORAGE's default keeps them.
    photos = ConversationPhotos(demo_sessions, DatabaseStorage(demo_sessions))
    prepared = SimpleNamespace(jpeg=b"\xff\xd8 jpeg", thumbnail=b"\xff\xd8 thumb", width=10, height=10)
    for conversation_id in ("erase-yangteng-auto", "erase-yangteng-auto", "erase-bloomkids-baby"):
        await photos.add(conversation_id.removeprefix("erase-"), conversation_id, "shopper", prepared)

    argv = ["erase-shopper", "--store", "yangteng-auto", "--email", shopper]
    assert await asyncio.to_thread(main, argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        "erased 1 conversation, 2 photos and 0 reviews of that shopper at yangteng-auto"
    ]
    async with demo_sessions() as session:
        assert set(await session.scalars(select(Conversation.id).where(Conversation.shopper_email == shopper))) == {
            "erase-bloomkids-baby"
        }
        assert set(await session.scalars(select(Photo.store_id))) == {"bloomkids-baby"}
        assert await session.scalar(select(func.count()).select_from(PhotoBlob)) == 2  # its JPEG and thumbnail

    assert await asyncio.to_thread(main, ["erase-shopper", "--store", "no-such-store", "--email", shopper]) == 2
    assert capsys.readouterr().err == "error: no such store: no-such-store\n"
    assert await asyncio.to_thread(main, ["erase-shopper", "--store", "bloomkids-baby", "--email", "nobody"]) == 2
    assert "erasure_email_invalid" not in (err := capsys.readouterr().err) and err.startswith("error: --email: send")
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Photo)) == 1
