"""PDF installation manuals that sellers upload: checked, stored, served.

The file lives in the store database (every gateway process can serve it,
and a backup holds it). Its public link carries the start of its SHA-256,
so links cannot be guessed from one another.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import ManualFile, Product
from bot.core.refusals import ParamValue, Refusal
from bot.core.version_summaries import VersionSummary
from bot.guides.product_guides import save_guide

MAX_MANUAL_BYTES = 10 * 1024 * 1024
#: Every PDF starts with this; a renamed image or a script does not.
PDF_MAGIC = b"%PDF-"
#: ... and ends (give or take trailing whitespace or an incremental-update tail) with this.
PDF_END = b"%%EOF"
LINK_HASH_CHARS = 24


class BadManual(Refusal, ValueError):
    """A manual that is not stored; ``status`` is the HTTP answer's."""

    def __init__(self, code: str, /, status: int = 400, **params: ParamValue) -> None:
        super().__init__(code, **params)
        self.status = status


@dataclass(frozen=True)
class StoredManual:
    id: int
    name: str
    size: int

    def path(self) -> str:
        return f"/files/manuals/{self.id}/{self.name}"


def check_pdf(data: bytes) -> None:
    if not data:
        raise BadManual("manual_empty")
    if len(data) > MAX_MANUAL_BYTES:
        raise BadManual("manual_too_large", status=413, limit_mb=MAX_MANUAL_BYTES // (1024 * 1024))
    if not data.startswith(PDF_MAGIC) or PDF_END not in data[-2048:]:
        raise BadManual("manual_not_pdf", status=415)


class Manuals:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def upload(self, store_id: str, sku: str, data: bytes, public_base_url: str, changed_by: str) -> StoredManual:
        """Store the PDF and make it the product's manual (a new guide version); :class:`BadManual` says why not."""
        check_pdf(data)
        digest = hashlib.sha256(data).hexdigest()
        async with self._sessions() as session, session.begin():
            product = await session.scalar(select(Product).where(Product.store_id == store_id, Product.sku == sku))
            if product is None:
                raise BadManual("product_not_found", status=404, sku=sku)
            row = ManualFile(store_id=store_id, sku=sku, sha256=digest, content=data, size=len(data))
            session.add(row)
            await session.flush()
            stored = StoredManual(row.id, f"{_slug(sku)}-{digest[:LINK_HASH_CHARS]}.pdf", len(data))
            url = public_base_url.rstrip("/") + stored.path()
            uploaded = VersionSummary("manual_uploaded", {"name": stored.name})
            await save_guide(session, product, {"manual_url": url}, changed_by, uploaded)
            return stored

    async def read(self, file_id: int, name: str) -> bytes | None:
        """The file behind a public link, only if the name's hash matches."""
        async with self._sessions() as session:
            row = await session.get(ManualFile, file_id)
        if row is None:
            return None
        expected = f"{_slug(row.sku)}-{row.sha256[:LINK_HASH_CHARS]}.pdf"
        return row.content if hmac.compare_digest(expected.encode(), name.encode()) else None


def _slug(sku: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in sku.lower())[:60] or "manual"
