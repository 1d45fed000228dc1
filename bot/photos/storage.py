"""Where photos' bytes are kept: one interface (:class:`PhotoStorage`), chosen by ``PHOTO_STORAGE``.

- :class:`DatabaseStorage` (the default): the ``photo_blobs`` table of the store database, so every
  gateway and worker, on any machine, reads what another wrote, with no further service to run.
- :class:`DiskStorage`: files under ``PHOTO_DIR`` (``var/photos``), owner-only, for one machine.
- :class:`S3Storage`: a bucket of S3-compatible object storage (AWS S3, MinIO, Ceph, R2...), for
  production with many photos: the database stays small and the bucket's own backups keep them.

A key names one stored image (``<photo id>.jpg``, ``<photo id>.thumb.jpg``); the photo's row in
``photos`` says who may see it, so a storage never decides access itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
from pathlib import Path
from typing import Any, Protocol

from aiobotocore.session import get_session  # type: ignore[import-untyped]  # the library ships no type hints
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import Settings
from bot.core.models import PhotoBlob

#: A key is a file name without a folder: letters, digits, ``_`` and ``-`` (a photo id), then at
#: most two suffixes. No ``/``, ``\\``, ``..`` or leading dot can pass, so no key leaves the folder.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,80}(\.[a-z]{1,10}){0,2}")


class PhotoStorage(Protocol):
    async def put(self, key: str, data: bytes) -> None:
        """Keep ``data`` under ``key``, replacing what was there."""

    async def get(self, key: str) -> bytes | None:
        """What is kept under ``key``; None if nothing is."""

    async def delete(self, keys: list[str]) -> None:
        """Delete what is kept under each key; a key with nothing under it is no error."""


class DatabaseStorage:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def put(self, key: str, data: bytes) -> None:
        async with self._sessions() as session, session.begin():
            await session.merge(PhotoBlob(key=key, data=data))

    async def get(self, key: str) -> bytes | None:
        async with self._sessions() as session:
            return await session.scalar(select(PhotoBlob.data).where(PhotoBlob.key == key))

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        async with self._sessions() as session, session.begin():
            await session.execute(delete(PhotoBlob).where(PhotoBlob.key.in_(keys)))


class DiskStorage:
    """Files under ``root``, spread over folders by the key's first two characters; folders 0700 and
    files 0600, whatever the process's umask, since photos are personal data."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        if not KEY_PATTERN.fullmatch(key):
            raise ValueError(f"not a photo storage key: {key!r}")
        return self._root / key[:2] / key

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    def _write(self, path: Path, data: bytes) -> None:
        self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        # Written whole under a temporary name, then renamed: a reader never sees half a photo.
        partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, keys: list[str]) -> None:
        paths = [self._path(key) for key in keys]
        await asyncio.to_thread(self._unlink, paths)

    @staticmethod
    def _unlink(paths: list[Path]) -> None:
        for path in paths:
            # Never written: a folder on its way that is not a folder holds no file either.
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                path.unlink()


class S3Storage:
    """Objects in one bucket (which must exist and stay private: no public access, nothing served
    from it directly; the gateway serves each photo after checking who asks). Credentials, if not
    given, come from botocore's usual places (``AWS_*`` variables, an instance role)."""

    #: DeleteObjects takes at most this many keys a request.
    DELETE_BATCH = 1000

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self._bucket = bucket
        self._session = get_session()
        self._client_options = {
            "endpoint_url": endpoint_url or None,
            "region_name": region,
            "aws_access_key_id": access_key_id or None,
            "aws_secret_access_key": secret_access_key or None,
        }

    def _client(self) -> Any:
        return self._session.create_client("s3", **self._client_options)

    @staticmethod
    def _checked(key: str) -> str:
        if not KEY_PATTERN.fullmatch(key):
            raise ValueError(f"not a photo storage key: {key!r}")
        return key

    async def put(self, key: str, data: bytes) -> None:
        async with self._client() as s3:
            await s3.put_object(Bucket=self._bucket, Key=self._checked(key), Body=data, ContentType="image/jpeg")

    async def get(self, key: str) -> bytes | None:
        async with self._client() as s3:
            try:
                response = await s3.get_object(Bucket=self._bucket, Key=self._checked(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
            async with response["Body"] as body:
                return bytes(await body.read())

    async def delete(self, keys: list[str]) -> None:
        checked = [self._checked(key) for key in keys]
        async with self._client() as s3:
            for start in range(0, len(checked), self.DELETE_BATCH):
                batch = checked[start : start + self.DELETE_BATCH]
                response = await s3.delete_objects(
                    Bucket=self._bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
                )
                if response.get("Errors"):
                    # A photo that could not be deleted must not lose the row naming it: let the erasure fail.
                    raise RuntimeError(f"S3 kept {len(response['Errors'])} objects: {response['Errors'][0]}")


def photo_storage(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> PhotoStorage:
    """The storage the settings choose (``PHOTO_STORAGE``)."""
    if settings.photo_storage == "disk":
        return DiskStorage(settings.photo_path)
    if settings.photo_storage == "s3":
        return S3Storage(
            settings.photo_s3_bucket,
            endpoint_url=settings.photo_s3_endpoint_url,
            region=settings.photo_s3_region,
            access_key_id=settings.photo_s3_access_key_id,
            secret_access_key=settings.photo_s3_secret_access_key,
        )
    return DatabaseStorage(sessions)
