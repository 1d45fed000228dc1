"""Item 4: the login throttle is atomic, logins have their own per-address limit, and password
hashing is bounded per process.

The password checks are counted by instrumenting ``bot.support.credentials._verify`` (the argon2 call): of
20 parallel wrong logins for one email, from two "gateway processes" (two engines, two
connection pools on the same database), at most 5 may reach it. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import bot.support.credentials
from bot.core.db import create_engine, create_sessionmaker
from bot.core.models import LoginFailure
from bot.support.accounts import AgentAccounts
from bot.support.console_sessions import MAX_FAILURES_PER_EMAIL, ConsoleSessions, LoginThrottled
from bot.support.credentials import PasswordCheckBusy, PasswordHashing
from tests.security.conftest import GatewayFactory

EMAIL, PASSWORD = "lin@yangteng.example", "lins-real-password"


class CountingVerify:
    """Stands in for ``bot.support.credentials._verify`` around the real one: counts calls and the most at once."""

    def __init__(self, delay: float = 0.0) -> None:
        self.real = bot.support.credentials._verify
        self.delay = delay
        self.calls = 0
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.delay:
                time.sleep(self.delay)
            return self.real(password_hash, password)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def verify(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingVerify]:
    counting = CountingVerify()
    monkeypatch.setattr(bot.support.credentials, "_verify", counting)
    yield counting


async def test_parallel_wrong_logins_make_at_most_five_password_checks(
    database_url: str, demo_sessions: async_sessionmaker[AsyncSession], verify: CountingVerify
) -> None:
    assert await AgentAccounts(demo_sessions).add(EMAIL, "Lin", PASSWORD, ["yangteng-auto"])
    # A second "gateway process": its own engine and connection pool on the same database.
    other_engine = create_engine(database_url)
    try:
        roomy = PasswordHashing(workers=2, waiting=64)  # the bound is not what this test is about
        processes = [ConsoleSessions(demo_sessions, roomy), ConsoleSessions(create_sessionmaker(other_engine), roomy)]

        async def attempt(n: int) -> str:
            try:
                result = await processes[n % 2].login(EMAIL, f"guess-{n}", f"198.51.100.{n % 2 + 1}")
            except LoginThrottled:
                return "throttled"
            return "wrong" if result is None else "signed in"

        outcomes = await asyncio.gather(*(attempt(n) for n in range(20)))
    finally:
        await other_engine.dispose()
    assert verify.calls == MAX_FAILURES_PER_EMAIL
    assert sorted(outcomes) == ["throttled"] * (20 - MAX_FAILURES_PER_EMAIL) + ["wrong"] * MAX_FAILURES_PER_EMAIL
    async with demo_sessions() as session:
        counted = await session.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.email == EMAIL))
    assert counted == MAX_FAILURES_PER_EMAIL  # throttled attempts are not counted: the lock ends on time
    # Even the right password now waits, without a check.
    with pytest.raises(LoginThrottled):
        await processes[0].login(EMAIL, PASSWORD, "203.0.113.9")
    assert verify.calls == MAX_FAILURES_PER_EMAIL


async def test_logins_have_their_own_per_address_limit(gateway: GatewayFactory, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    assert await AgentAccounts(demo_sessions).add(EMAIL, "Lin", PASSWORD, ["yangteng-auto"])
    client = await gateway(TRUSTED_PROXIES="127.0.0.1", RATE_LIMIT_LOGIN_PER_MINUTE="3")

    async def login(forwarded_for: str, password: str = PASSWORD, console: str = "agent") -> tuple[int, str]:
        # A sign-in uses up the page's login token: the console reloads for a new one.
        token = (await client.get(f"/{console}")).cookies[f"{console}_login_csrf"].value
        response = await client.post(
            f"/{console}/api/login",
            json={"email": EMAIL, "password": password},
            headers={"X-CSRF-Token": token, "X-Forwarded-For": forwarded_for},
        )
        return response.status, response.headers.get("Retry-After", "")

    # Successful sign-ins count too: each costs a password check.
    assert [(await login("198.51.100.7"))[0] for _ in range(3)] == [200, 200, 200]
    status, retry_after = await login("198.51.100.7")
    assert status == 429 and 1 <= int(retry_after) <= 60
    # Both consoles share the limit; invitation links are behind it as well.
    assert (await login("198.51.100.7", console="seller"))[0] == 429
    csrf = (await client.get("/agent")).cookies["agent_login_csrf"].value
    join = await client.post(
        "/agent/api/join",
        json={"token": "x" * 43, "password": "whatever-password"},
        headers={"X-CSRF-Token": csrf, "X-Forwarded-For": "198.51.100.7"},
    )
    assert join.status == 429
    # Another address is not held up.
    assert (await login("198.51.100.8"))[0] == 200


async def test_password_hashing_is_bounded_per_process(verify: CountingVerify) -> None:
    verify.delay = 0.2
    hashing = PasswordHashing(workers=2, waiting=2)
    digest = bot.support.credentials._hasher.hash("some-password")
    tasks = [asyncio.create_task(hashing.verify(digest, "some-password")) for _ in range(10)]
    await asyncio.sleep(0.05)
    # The excess is refused at once, while the admitted ones are still computing or waiting.
    refused_at_once = [t for t in tasks if t.done()]
    assert len(refused_at_once) == 6 and all(isinstance(t.exception(), PasswordCheckBusy) for t in refused_at_once)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert verify.most_at_once == 2  # at most `workers` argon2 computations at once
    assert sum(r is True for r in results) == 4  # two computing, two waiting


async def test_a_busy_gateway_answers_503_at_once_and_counts_no_failure(
    gateway: GatewayFactory, demo_sessions, verify: CountingVerify
) -> None:  # type: ignore[no-untyped-def]
    verify.delay = 0.5
    for n in range(6):
        assert await AgentAccounts(demo_sessions).add(f"agent{n}@yangteng.example", "Agent", PASSWORD, ["yangteng-auto"])
    client = await gateway(PASSWORD_HASH_WORKERS="1", PASSWORD_HASH_WAITING="1")
    csrf = (await client.get("/agent")).cookies["agent_login_csrf"].value

    async def login(n: int) -> int:
        response = await client.post(
            "/agent/api/login",
            json={"email": f"agent{n}@yangteng.example", "password": "wrong password"},
            headers={"X-CSRF-Token": csrf},
        )
        if response.status == 503:
            assert response.headers["Retry-After"] and "error" in await response.json()
        return response.status

    statuses = await asyncio.gather(*(login(n) for n in range(6)))
    assert sorted(statuses) == [401, 401, 503, 503, 503, 503]
    assert verify.most_at_once == 1
    async with demo_sessions() as session:
        # Refused for lack of a slot is not a failed guess: only the checked ones count.
        assert await session.scalar(select(func.count()).select_from(LoginFailure)) == 2
