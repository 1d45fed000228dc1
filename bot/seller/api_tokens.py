"""Seller API tokens, one store each: made (shown once), checked, listed, revoked."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.shopper_signatures import new_token, token_hash
from bot.core.clock import utc_now
from bot.core.db import rows_changed
from bot.core.models import Store, StoreApiToken

#: Tokens carry this prefix so that a leaked one is easy to recognise (and to scan for).
PREFIX = "sk_store_"
#: ``last_used_at`` is written at most this often per token.
USE_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class TokenInfo:
    label: str
    fingerprint: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiTokens:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(self, store_id: str, label: str) -> str:
        """A new token for the store; the only time it is ever shown."""
        token = PREFIX + new_token()
        async with self._sessions() as session, session.begin():
            if await session.get(Store, store_id) is None:
                raise LookupError(store_id)
            session.add(StoreApiToken(token_hash=token_hash(token), store_id=store_id, label=label.strip()[:200] or "API"))
        return token

    async def store_for(self, token: str | None, now: dt.datetime | None = None) -> str | None:
        """The store a live token opens, or ``None``."""
        if not token or not token.startswith(PREFIX) or len(token) > 200:
            return None
        now = now or utc_now()
        digest = token_hash(token)
        async with self._sessions() as session, session.begin():
            row = await session.get(StoreApiToken, digest)
            if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
                return None
            if row.last_used_at is None or row.last_used_at < now - USE_RESOLUTION:
                row.last_used_at = now
            return row.store_id

    async def list(self, store_id: str) -> list[TokenInfo]:
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(StoreApiToken).where(StoreApiToken.store_id == store_id).order_by(StoreApiToken.created_at)
                )
            ).all()
        return [TokenInfo(r.label, r.token_hash[:8], r.created_at, r.last_used_at, r.revoked_at) for r in rows]

    async def revoke(self, store_id: str, fingerprint: str) -> int:
        """Revoke the store's tokens whose hash starts with ``fingerprint`` (as listed); how many."""
        if len(fingerprint) < 8:
            return 0
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(StoreApiToken)
                .where(
                    StoreApiToken.store_id == store_id,
                    StoreApiToken.token_hash.startswith(fingerprint, autoescape=True),
                    StoreApiToken.revoked_at.is_(None),
                )
                .values(revoked_at=utc_now())
            )
            return int(rows_changed(result) or 0)
