"""bot/photos/storage.py: each storage keeps, gives back and deletes bytes by key; the disk one keeps
every key inside its folder and its files owner-only."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiobotocore.session import get_session
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import load_settings
from bot.photos.storage import DatabaseStorage, DiskStorage, PhotoStorage, S3Storage, photo_storage
from bot.runtime.stack import free_port

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


async def test_the_database_keeps_replaces_and_deletes_by_key(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _keeps_replaces_and_deletes_by_key(DatabaseStorage(sessions))


async def test_the_disk_keeps_replaces_and_deletes_by_key(tmp_path: Path) -> None:
    await _keeps_replaces_and_deletes_by_key(DiskStorage(tmp_path / "photos"))


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """moto's S3 server (a real HTTP server speaking the S3 API, offline) on a free loopback port."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.slow  # starts moto's server in a process of its own
async def test_s3_keeps_replaces_and_deletes_by_key(s3_server: str) -> None:
    credentials = {"region": "us-east-1", "access_key_id": "testing", "secret_access_key": "testing"}
    async with get_session().create_client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as s3:
        await s3.create_bucket(Bucket="photos")
    await _keeps_replaces_and_deletes_by_key(S3Storage("photos", endpoint_url=s3_server, **credentials))
    with pytest.raises(ValueError):
        await S3Storage("photos", endpoint_url=s3_server, **credentials).put("../escape.jpg", JPEG)


async def _keeps_replaces_and_deletes_by_key(storage: PhotoStorage) -> None:
    await storage.put("Abc_-123.jpg", JPEG)
    await storage.put("Abc_-123.thumb.jpg", b"small")
    assert await storage.get("Abc_-123.jpg") == JPEG
    await storage.put("Abc_-123.jpg", b"replaced")
    assert await storage.get("Abc_-123.jpg") == b"replaced"
    assert await storage.get("other.jpg") is None

    await storage.delete(["Abc_-123.jpg", "never-stored.jpg"])
    assert await storage.get("Abc_-123.jpg") is None
    assert await storage.get("Abc_-123.thumb.jpg") == b"small"


@pytest.mark.parametrize("key", ["../escape.jpg", "a/b.jpg", "..", ".hidden", "/etc/passwd", "a\\b.jpg", "x.jpg\x00", ""])
async def test_disk_storage_refuses_a_key_that_could_leave_its_folder(tmp_path: Path, key: str) -> None:
    storage = DiskStorage(tmp_path / "photos")
    with pytest.raises(ValueError):
        await storage.put(key, JPEG)
    with pytest.raises(ValueError):
        await storage.get(key)
    assert not any(tmp_path.rglob("*escape*")) and not (tmp_path / "photos").exists()


async def test_disk_storage_writes_owner_only_files_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o002)
    try:
        await DiskStorage(tmp_path / "photos").put("Abc.jpg", JPEG)
    finally:
        os.umask(previous)
    written = list((tmp_path / "photos").rglob("*"))
    assert [path.name for path in written if path.is_file()] == ["Abc.jpg"]  # no partial file left
    for path in [tmp_path / "photos", *written]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


def test_the_settings_choose_the_storage(tmp_path: Path) -> None:
    sessions: async_sessionmaker[AsyncSession] = async_sessionmaker()
    base = {"VAR_DIR": str(tmp_path)}
    assert isinstance(photo_storage(load_settings(base), sessions), DatabaseStorage)
    disk = photo_storage(load_settings({**base, "PHOTO_STORAGE": "disk"}), sessions)
    assert isinstance(disk, DiskStorage) and disk._root == tmp_path.resolve() / "photos"
    s3 = photo_storage(load_settings({**base, "PHOTO_STORAGE": "s3", "PHOTO_S3_BUCKET": "shop-photos"}), sessions)
    assert isinstance(s3, S3Storage) and s3._bucket == "shop-photos"
    with pytest.raises(ValueError, match="PHOTO_S3_BUCKET"):
        load_settings({**base, "PHOTO_STORAGE": "s3"})
    with pytest.raises(ValueError, match="PHOTO_STORAGE"):
        load_settings({**base, "PHOTO_STORAGE": "ftp"})
