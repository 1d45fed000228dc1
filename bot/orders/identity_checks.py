"""The shopper identity check ("order number + email or postcode") and its lockout.

Failed checks are counted in the store database, per order (its lookup key, whether
or not the store has such an order, so that a lock says nothing about which orders
exist) and per client address (IPv4, or IPv6 per /64). A new conversation, a
``/restart`` or a restart of any process forgets nothing.

Within a window (an hour by default), the limit-th failure of an order or of an
address locks it: for an hour the first time, twice as long each time after (up to
a day), until a full day passes without a lock. A locked check compares nothing and
answers the same way for every order number.

Each check is counted *before* the proof is compared, in one transaction that holds
the counters' rows (a row lock on PostgreSQL, the write lock on SQLite): parallel
guesses can never make more comparisons than the limit allows. A check that then
succeeds gives its count back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import utc_now
from bot.core.config import Settings
from bot.core.db import dialect_insert, rows_changed
from bot.core.models import Conversation, IdentityCheckFailure, Order
from bot.orders.lookup import OrderService, order_lookup_key

ORDER, ADDRESS = "order", "address"


@dataclass(frozen=True)
class LockoutPolicy:
    failures_per_order: int = 5
    failures_per_address: int = 10
    #: Failures count within this window from the first one.
    window: dt.timedelta = dt.timedelta(hours=1)
    #: The first lock; each further lock lasts twice the one before, up to ``longest_lock``.
    first_lock: dt.timedelta = dt.timedelta(hours=1)
    longest_lock: dt.timedelta = dt.timedelta(days=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        return cls(
            failures_per_order=settings.identity_failures_per_order,
            failures_per_address=settings.identity_failures_per_address,
            window=dt.timedelta(minutes=settings.identity_window_minutes),
            first_lock=dt.timedelta(minutes=settings.identity_lock_minutes),
            longest_lock=dt.timedelta(minutes=settings.identity_longest_lock_minutes),
        )

    def limit(self, scope: str) -> int:
        return self.failures_per_order if scope == ORDER else self.failures_per_address

    def lock_for(self, locks: int) -> dt.timedelta:
        """How long the ``locks``-th lock in a row lasts."""
        if locks > 30:  # 2**30 hours is far past any longest lock
            return self.longest_lock
        return min(self.first_lock * 2 ** (locks - 1), self.longest_lock)


@dataclass(frozen=True)
class IdentityCheck:
    """What a check found. ``order`` is set only when number and proof matched."""

    order: Order | None = None
    #: The order or the address was locked: nothing was compared.
    locked: bool = False
    #: What this failure locked ("order", "address"): to be reported to the store's people,
    #: once per lock (only the check that locks it sees it here).
    newly_locked: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Counted:
    row_id: int
    scope: str
    #: When this check locked the row (it was the limit-th failure), the lock's end.
    locked_until: dt.datetime | None
    #: The window this check was counted in (the lock moved it to the lock's end).
    window_started_at: dt.datetime


class IdentityChecks:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], orders: OrderService, policy: LockoutPolicy | None = None
    ) -> None:
        self._sessions, self._orders, self.policy = sessions, orders, policy or LockoutPolicy()

    async def check(
        self, store_id: str, order_number: str, proof: str, client_key: str | None, conversation_id: str | None = None
    ) -> IdentityCheck:
        """Check that ``proof`` (an email or a postcode) is the order's, counting the
        attempt for the order and for the client address (``None``: not from a
        shopper's browser, counted for the order only). A check that passes in a
        conversation makes the order's address the conversation's contact address."""
        keys = [(ADDRESS, client_key)] if client_key else []
        keys.append((ORDER, order_lookup_key(order_number)))
        counted = await self._count(store_id, keys)
        if counted is None:
            return IdentityCheck(locked=True)
        order = await self._orders.find_verified_order(store_id, order_number, proof)
        if order is not None:
            await self._give_back(counted)
            if conversation_id is not None and order.shopper_email:
                await self._remember_contact(store_id, conversation_id, order.shopper_email)
            return IdentityCheck(order=order)
        return IdentityCheck(newly_locked=tuple(c.scope for c in counted if c.locked_until is not None))

    async def _remember_contact(self, store_id: str, conversation_id: str, address: str) -> None:
        # Only an anonymous chat's: a signed shopper's conversation already has its address.
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.store_id == store_id,
                    Conversation.shopper_email.is_(None),
                )
                .values(contact_email=address.strip().lower())
            )

    @staticmethod
    async def _rows(session: AsyncSession, store_id: str, keys: list[tuple[str, str]]) -> list[IdentityCheckFailure]:
        """The counters for ``keys``, made if new, held until the transaction ends.

        The insert comes first: on SQLite it takes the database's write lock before
        anything is read, so two checks never count from the same stale numbers; on
        PostgreSQL ``FOR UPDATE`` holds the rows. Rows are taken in one order
        (address, then order), so two checks never wait for each other in a circle.
        """
        now = utc_now()
        rows = []
        for scope, key in keys:
            await session.execute(
                dialect_insert(session, IdentityCheckFailure)
                .values(store_id=store_id, scope=scope, key=key[:100], attempts=0, window_started_at=now, locks=0)
                .on_conflict_do_nothing(index_elements=["store_id", "scope", "key"])
            )
            rows.append(
                (
                    await session.scalars(
                        select(IdentityCheckFailure)
                        .where(
                            IdentityCheckFailure.store_id == store_id,
                            IdentityCheckFailure.scope == scope,
                            IdentityCheckFailure.key == key[:100],
                        )
                        .with_for_update()
                        .execution_options(populate_existing=True)
                    )
                ).one()
            )
        return rows

    async def _count(self, store_id: str, keys: list[tuple[str, str]]) -> list[_Counted] | None:
        """Count one attempt for every key, or ``None`` (and count nothing) if any is locked."""
        now = utc_now()
        async with self._sessions() as session, session.begin():
            rows = await self._rows(session, store_id, keys)
            if any(row.locked_until is not None and row.locked_until > now for row in rows):
                return None
            counted = []
            for row in rows:
                if row.last_attempt_at is None or now - row.last_attempt_at >= self.policy.longest_lock:
                    row.locks = 0  # a quiet day: the next lock is a first one again
                if now - row.window_started_at >= self.policy.window:
                    row.attempts, row.window_started_at = 0, now
                row.attempts += 1
                row.last_attempt_at = now
                row.locked_until = None
                window_started_at = row.window_started_at
                if row.attempts >= self.policy.limit(row.scope):
                    row.locks += 1
                    row.locked_until = now + self.policy.lock_for(row.locks)
                    # A lock ends with a fresh window: the next failures count from zero.
                    row.attempts, row.window_started_at = 0, row.locked_until
                counted.append(_Counted(row.id, row.scope, row.locked_until, window_started_at))
            return counted

    async def _give_back(self, counted: list[_Counted]) -> None:
        """A check that succeeded was no failure: take its count back (and the lock it set).

        Single-statement updates, so nothing is read that another check could change meanwhile."""
        table = IdentityCheckFailure
        async with self._sessions() as session, session.begin():
            for item in counted:
                if item.locked_until is not None:
                    undone = await session.execute(
                        update(table)
                        .where(table.id == item.row_id, table.locked_until == item.locked_until)
                        .values(
                            locked_until=None,
                            locks=case((table.locks > 0, table.locks - 1), else_=0),
                            attempts=self.policy.limit(item.scope) - 1,
                            window_started_at=item.window_started_at,
                        )
                    )
                    if rows_changed(undone):
                        continue
                await session.execute(
                    update(table)
                    .where(table.id == item.row_id)
                    .values(attempts=case((table.attempts > 0, table.attempts - 1), else_=0))
                )
