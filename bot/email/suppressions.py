"""Addresses a store must not email again: a hard bounce or a spam complaint (``email_suppressions``).

The inbound side (bounce and complaint reports) calls :func:`suppress`; the sending side asks
:func:`is_suppressed` before each email. Review-invitation opt-outs are not here: they are the
shopper's choice about reviews, kept in ``review_opt_outs`` for chat and email alike.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.db import dialect_insert
from bot.core.models import EmailSuppression

#: Why an address is suppressed.
BOUNCED, COMPLAINED = "bounced", "complained"
REASONS = (BOUNCED, COMPLAINED)
MAX_DETAIL_CHARS = 500


def address_key(address: str) -> str:
    """One form per address: mail providers treat the case of an address as insignificant."""
    return address.strip().lower()


async def suppress(session: AsyncSession, store_id: str, address: str, reason: str, detail: str = "") -> bool:
    """Mark the address undeliverable for the store; True when it was not already."""
    if reason not in REASONS:
        raise ValueError(f"reason: one of {', '.join(REASONS)}")
    inserted = await session.scalar(
        dialect_insert(session, EmailSuppression)
        .values(store_id=store_id, address=address_key(address), reason=reason, detail=detail[:MAX_DETAIL_CHARS])
        .on_conflict_do_nothing()
        .returning(EmailSuppression.address)
    )
    return inserted is not None


async def is_suppressed(session: AsyncSession, store_id: str, address: str) -> bool:
    found = await session.scalar(
        select(EmailSuppression.address).where(
            EmailSuppression.store_id == store_id, EmailSuppression.address == address_key(address)
        )
    )
    return found is not None
