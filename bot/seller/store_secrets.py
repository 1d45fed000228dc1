"""Rotating a store's shopper-identity and webhook secrets without refusing anyone.

The new secret works at once; the old one keeps working for a grace period
(24 hours by default), long enough for the store's site and tracking provider
to switch over. Rotating again ends the older grace period early: only the
current and the one before it are ever accepted.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import utc_now
from bot.core.models import Store, iso_utc

KINDS = ("shopper", "webhook")
DEFAULT_GRACE = dt.timedelta(hours=24)
MAX_GRACE = dt.timedelta(days=7)


@dataclass(frozen=True)
class Rotated:
    secret: str
    previous_valid_until: dt.datetime | None


async def rotate_secret(
    sessions: async_sessionmaker[AsyncSession],
    store_id: str,
    kind: str,
    grace: dt.timedelta = DEFAULT_GRACE,
    now: dt.datetime | None = None,
) -> Rotated:
    if kind not in KINDS:
        raise ValueError(f"which secret: {' or '.join(KINDS)}")
    if not dt.timedelta(0) <= grace <= MAX_GRACE:
        raise ValueError("the grace period can be from 0 to 7 days")
    now = now or utc_now()
    new = secrets.token_hex(32)
    async with sessions() as session, session.begin():
        store = await session.get(Store, store_id)
        if store is None:
            raise LookupError(store_id)
        old = getattr(store, f"{kind}_secret")
        until = now + grace if old and grace else None
        setattr(store, f"{kind}_secret", new)
        setattr(store, f"{kind}_secret_previous", old if until else None)
        setattr(store, f"{kind}_secret_previous_until", until)
    return Rotated(new, until)


async def secret_status(
    sessions: async_sessionmaker[AsyncSession], store_id: str, now: dt.datetime | None = None
) -> dict[str, dict[str, object]]:
    """Whether each secret is set and until when the previous one still works; never the secrets."""
    now = now or utc_now()
    async with sessions() as session:
        store = await session.get(Store, store_id)
    if store is None:
        raise LookupError(store_id)
    status: dict[str, dict[str, object]] = {}
    for kind in KINDS:
        until = getattr(store, f"{kind}_secret_previous_until")
        live = getattr(store, f"{kind}_secret_previous") and until is not None and until > now
        status[kind] = {
            "set": bool(getattr(store, f"{kind}_secret")),
            "previous_valid_until": iso_utc(until) if live else None,
        }
    return status
