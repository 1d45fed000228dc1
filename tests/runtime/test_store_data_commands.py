"""The store data commands, run as ``python -m bot`` runs them."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import get_settings
from bot.core.db import get_engine, get_sessionmaker
from bot.core.models import ScheduledJob, Shipment
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
