"""Issue 13, item 2: the identity-check lockout holds.

Failed checks are counted in the store database, per order (its lookup key) and per
client address, with a doubling back-off; ``/restart``, a new conversation or a
restart of any process forgets nothing; parallel guesses never get more comparisons
than the limit; a lock is reported once; a locked check compares nothing and answers
alike for every order number.

The service is tested on SQLite and PostgreSQL; the last test brute-forces the demo
order's postcode through the public API (gateway, Rasa and action server processes).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat import replies
from bot.core.clock import frozen_at
from bot.core.db import create_engine, create_sessionmaker
from bot.core.models import Escalation, IdentityCheckFailure
from bot.orders.identity_checks import IdentityCheck, IdentityChecks, LockoutPolicy
from bot.orders.lookup import OrderService
from tests.engine import running_engine

Sessions = async_sessionmaker[AsyncSession]
STORE, OTHER_STORE = "yangteng-auto", "bloomkids-baby"
ORDER, RIGHT_POSTCODE = "FZ-20931", "10027"
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class CountingOrders(OrderService):
    """The real order service, counting how often a proof is actually compared."""

    def __init__(self, sessions: Sessions) -> None:
        super().__init__(sessions)
        self.compared = 0

    async def find_verified_order(self, store_id: str, order_number: str, proof: str):  # type: ignore[no-untyped-def]
        self.compared += 1
        return await super().find_verified_order(store_id, order_number, proof)


def checks(sessions: Sessions) -> IdentityChecks:
    return IdentityChecks(sessions, CountingOrders(sessions), LockoutPolicy())


def wrong_postcode(n: int) -> str:
    return f"{20000 + n}"


async def test_an_order_is_locked_after_five_failures_whoever_asks_and_even_the_right_proof_is_not_compared(
    demo_sessions: Sessions,
) -> None:
    service = checks(demo_sessions)
    with frozen_at(T0):
        # Five failures, each from another address (so the address limit plays no part).
        results = [await service.check(STORE, ORDER, wrong_postcode(n), f"198.51.100.{n}") for n in range(5)]
        assert [r.newly_locked for r in results] == [(), (), (), (), ("order",)]
        assert all(r.order is None and not r.locked for r in results)
        # The right postcode, from yet another address, is not even compared.
        compared = service._orders.compared  # type: ignore[attr-defined]
        assert await service.check(STORE, ORDER, RIGHT_POSTCODE, "203.0.113.9") == IdentityCheck(locked=True)
        assert await service.check(STORE, "fz-20931", RIGHT_POSTCODE, None) == IdentityCheck(locked=True)  # same lookup key
        assert service._orders.compared == compared  # type: ignore[attr-defined]


async def test_the_lock_survives_a_new_process(demo_sessions: Sessions, database_url: str) -> None:
    with frozen_at(T0):
        for n in range(5):
            await checks(demo_sessions).check(STORE, ORDER, wrong_postcode(n), None)
        # Another engine and service, as a restarted action server would have.
        engine = create_engine(database_url)
        try:
            fresh = checks(create_sessionmaker(engine))
            assert (await fresh.check(STORE, ORDER, RIGHT_POSTCODE, None)).locked
        finally:
            await engine.dispose()


async def test_a_locked_check_answers_alike_for_a_known_and_an_unknown_order(demo_sessions: Sessions) -> None:
    service = checks(demo_sessions)
    with frozen_at(T0):
        for number in (ORDER, "FZ-29999"):
            locking = [await service.check(STORE, number, wrong_postcode(n), None) for n in range(5)]
            assert locking[-1] == IdentityCheck(newly_locked=("order",))
            assert all(r == IdentityCheck() for r in locking[:-1])
        assert (
            await service.check(STORE, ORDER, "x@example.com", None)
            == await service.check(STORE, "FZ-29999", "x@example.com", None)
            == IdentityCheck(locked=True)
        )


async def test_an_address_trying_many_orders_is_locked_after_ten_failures(demo_sessions: Sessions) -> None:
    service = checks(demo_sessions)
    attacker, shopper = "2001:db8:1:2::/64", "198.51.100.7"
    with frozen_at(T0):
        # One postcode against order after order: each order fails once, the address ten times.
        results = [await service.check(STORE, f"FZ-{20900 + n}", RIGHT_POSTCODE, attacker) for n in range(10)]
        assert [r.newly_locked for r in results] == [()] * 9 + [("address",)]
        # Now even a right pair from that address is not compared ...
        assert await service.check(STORE, ORDER, RIGHT_POSTCODE, attacker) == IdentityCheck(locked=True)
        # ... while the order itself is not locked for its owner elsewhere.
        verified = await service.check(STORE, ORDER, RIGHT_POSTCODE, shopper)
        assert verified.order is not None and verified.order.order_number == ORDER


async def test_locks_double_and_a_quiet_day_forgets_them(demo_sessions: Sessions) -> None:
    service = checks(demo_sessions)

    async def lock_order(at: dt.datetime) -> None:
        with frozen_at(at):
            results = [await service.check(STORE, ORDER, wrong_postcode(n), None) for n in range(5)]
            assert results[-1].newly_locked == ("order",) and not any(r.newly_locked for r in results[:-1])

    async def locked_at(at: dt.datetime) -> bool:
        with frozen_at(at):
            return (await service.check(STORE, ORDER, "x@example.com", None)).locked

    await lock_order(T0)
    assert await locked_at(T0 + dt.timedelta(minutes=59))
    await lock_order(T0 + dt.timedelta(hours=1))  # the first lock lasted an hour
    assert await locked_at(T0 + dt.timedelta(hours=2, minutes=59))  # the second lasts two
    await lock_order(T0 + dt.timedelta(hours=3))
    assert await locked_at(T0 + dt.timedelta(hours=6, minutes=59))  # the third four
    assert not await locked_at(T0 + dt.timedelta(hours=7))
    # A day without a failure: the next lock is a first one (an hour) again.
    await lock_order(T0 + dt.timedelta(days=2))
    assert await locked_at(T0 + dt.timedelta(days=2, minutes=59))
    assert not await locked_at(T0 + dt.timedelta(days=2, hours=1))


async def test_failures_are_counted_per_window_and_successes_are_not_failures(demo_sessions: Sessions) -> None:
    service = checks(demo_sessions)
    with frozen_at(T0):
        for n in range(3):
            await service.check(STORE, ORDER, wrong_postcode(n), None)
        for _ in range(2):
            assert (await service.check(STORE, ORDER, "Alex@Example.com", None)).order is not None
        assert (await service.check(STORE, ORDER, wrong_postcode(3), None)).newly_locked == ()  # the fourth failure
    with frozen_at(T0 + dt.timedelta(hours=1)):  # a new window
        results = [await service.check(STORE, ORDER, wrong_postcode(n), None) for n in range(5)]
        assert [r.newly_locked for r in results] == [(), (), (), (), ("order",)]


async def test_a_right_proof_on_the_limit_takes_its_lock_back(demo_sessions: Sessions) -> None:
    service = checks(demo_sessions)
    with frozen_at(T0):
        for n in range(4):
            await service.check(STORE, ORDER, wrong_postcode(n), None)
        assert (await service.check(STORE, ORDER, RIGHT_POSTCODE, None)).order is not None
        # The four failures still count: the next one locks.
        assert (await service.check(STORE, ORDER, wrong_postcode(9), None)).newly_locked == ("order",)


async def test_parallel_guesses_get_no_more_comparisons_than_the_limit(demo_sessions: Sessions) -> None:
    service = checks(demo_sessions)
    with frozen_at(T0):
        results = await asyncio.gather(
            *(service.check(STORE, ORDER, wrong_postcode(n), f"198.51.100.{n}") for n in range(20))
        )
    assert service._orders.compared == 5  # type: ignore[attr-defined]
    assert sum(1 for r in results if r.newly_locked) == 1  # one lock, reported once
    assert sum(1 for r in results if r.locked) == 15


async def test_a_lock_in_one_store_is_not_another_stores(demo_sessions: Sessions) -> None:
    service = checks(demo_sessions)
    with frozen_at(T0):
        for n in range(5):
            await service.check(OTHER_STORE, ORDER, wrong_postcode(n), "198.51.100.1")
        verified = await service.check(STORE, ORDER, RIGHT_POSTCODE, "198.51.100.1")
    assert verified.order is not None
    async with demo_sessions() as session:
        rows = (await session.execute(select(IdentityCheckFailure.store_id, IdentityCheckFailure.scope))).all()
    assert set(rows) == {(OTHER_STORE, "order"), (OTHER_STORE, "address"), (STORE, "order"), (STORE, "address")}


# --- end to end: brute force through the public API ---


async def _json(response: aiohttp.ClientResponse) -> Any:
    body = await response.json()
    assert response.status in (200, 201), (response.status, body)
    return body


@pytest.mark.engine
async def test_brute_forcing_a_postcode_through_the_public_api_is_stopped_across_conversations(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The issue's attack, through the gateway process: guesses in several conversations,
    ``/restart`` in between, the number and the guess in one message. Every failed check
    was counted: the fifth locks the order; the right postcode, sent after that, opens
    nothing; the lock reaches the store's agents once."""
    with running_engine(tmp_path, with_gateway=True) as (_, settings):
        base = settings.gateway_url
        replies_seen: list[str] = []
        async with aiohttp.ClientSession() as http:

            async def conversation() -> tuple[str, dict[str, str]]:
                created = await _json(await http.post(f"{base}/api/v1/stores/{STORE}/conversations", json={}))
                return created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}

            async def say(chat: tuple[str, dict[str, str]], text: str) -> str:
                response = await http.post(
                    f"{base}/api/v1/conversations/{chat[0]}/messages", json={"text": text}, headers=chat[1]
                )
                body = await _json(response)
                said = "\n".join(m["text"] for m in body["messages"] if m["sender"] == "bot")
                replies_seen.append(said)
                return said

            guesses = [wrong_postcode(n) for n in range(7)] + [RIGHT_POSTCODE] + [wrong_postcode(n) for n in range(7, 10)]
            failed = locked = 0
            for index, guess in enumerate(guesses):
                if index % 3 == 0:  # a new conversation every three guesses, as cheap as it gets
                    chat = await conversation()
                else:
                    restart = await http.post(
                        f"{base}/api/v1/conversations/{chat[0]}/messages", json={"text": "/restart"}, headers=chat[1]
                    )
                    assert restart.status == 400  # and nothing was reset
                said = await say(chat, f"where is my order {ORDER} {guess}")
                if not said.strip():  # the form asked nothing: the proof came in the same message
                    raise AssertionError(f"no answer to guess {index}: {replies_seen}")
                assert "USPS" not in said and "Jersey City" not in said, said  # the order is never shown
                if replies.IDENTITY_CHECK_FAILED in said:
                    failed += 1
                elif "for your security" in said.lower():  # the lock, or a locked check (nothing compared)
                    locked += 1
            assert failed == 4, "\n---\n".join(replies_seen)  # four plain failures, the fifth locked the order
            assert locked == len(guesses) - 4, "\n---\n".join(replies_seen)
            assert replies.IDENTITY_CHECK_PAUSED in replies_seen[7]  # another conversation, the right postcode: not compared

        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                reported = await session.scalar(
                    select(func.count()).select_from(Escalation).where(Escalation.reason == "identity_check_failed")
                )
                order_row = await session.scalar(
                    select(IdentityCheckFailure).where(
                        IdentityCheckFailure.store_id == STORE, IdentityCheckFailure.scope == "order"
                    )
                )
        finally:
            await engine.dispose()
        assert reported == 1  # one case for the lock, not one per conversation
        assert order_row is not None and order_row.locked_until is not None and order_row.locks == 1
