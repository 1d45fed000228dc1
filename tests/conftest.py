"""Shared fixtures: store databases on SQLite and PostgreSQL, the demo data, and a real
assistant (Rasa server and action server) per test module.

PostgreSQL tests run against TEST_POSTGRES_URL (default: the local server at
127.0.0.1:5432, database ``test``). Without a server they are skipped, unless
REQUIRE_POSTGRES=1 (as in CI), where a missing server fails the run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.rasa_client import RasaClient
from bot.core.config import PROJECT_ROOT, Settings, load_settings, normalize_database_url
from bot.core.db import create_engine, create_sessionmaker
from bot.core.migrate import upgrade
from bot.orders.importer import import_lines
from bot.runtime.stack import Stack
from tests.engine import running_engine

DEMO_DATA = PROJECT_ROOT / "demo" / "demo_stores.jsonl"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


async def _admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def signed_shopper(secret: str, email: str, ts: int | None = None) -> dict[str, Any]:
    """The chat API's ``shopper`` object as a store's server makes it: signed now (or at ``ts``)."""
    from bot.chat.shopper_signatures import sign_shopper
    from bot.core.clock import utc_now

    ts = int(utc_now().timestamp()) if ts is None else ts
    return {"email": email, "ts": ts, "signature": sign_shopper(secret, email, ts)}


def demo_objects() -> list[dict[str, Any]]:
    """The demo file's lines, parsed."""
    with DEMO_DATA.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session; its async URL."""
    name = f"aftersales_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as exc:  # noqa: BLE001 - any failure means "no server"
        message = f"PostgreSQL at {POSTGRES_URL} is not available: {exc}"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    base = normalize_database_url(POSTGRES_URL)
    yield base.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _run_now(coroutine: Any) -> None:
    """Run ``coroutine`` from a synchronous fixture, on a thread of its own, so that the test's
    event loop is never touched."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, coroutine).result()


def _admin_now(sql: str) -> None:
    _run_now(_admin(sql))


async def _fill(database_url: str, template: str) -> None:
    """Migrate the database at ``database_url``; for the ``demo`` template, load the demo stores too."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        if template == "demo":
            with DEMO_DATA.open(encoding="utf-8") as lines:
                report = await import_lines(create_sessionmaker(engine), lines)
            assert report.ok, report.errors
    finally:
        await engine.dispose()


#: The databases a test may start from: ``migrated`` (empty, at the latest schema) and ``demo``
#: (also holding the demo stores). Each is built once per test session and copied for every test,
#: because migrating and importing per test cost about 0.7 s each, over 1,500 database tests.
TEMPLATES = ("migrated", "demo")


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("templates")
    paths = {template: folder / f"{template}.db" for template in TEMPLATES}
    for template, path in paths.items():
        _run_now(_fill(f"sqlite+aiosqlite:///{path}", template))
    return paths


@pytest.fixture(scope="session")
def postgres_templates(postgres_database: str) -> Iterator[dict[str, str]]:
    """Template databases on the PostgreSQL server (``CREATE DATABASE ... TEMPLATE`` copies one in
    about 0.1 s); their names."""
    prefix = postgres_database.rsplit("/", 1)[1]
    names = {template: f"{prefix}_{template}" for template in TEMPLATES}
    try:
        for template, name in names.items():
            _admin_now(f'CREATE DATABASE "{name}"')
            _run_now(_fill(postgres_database.rsplit("/", 1)[0] + f"/{name}", template))
        yield names
    finally:
        for name in names.values():
            _admin_now(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wanted_template(request: pytest.FixtureRequest) -> str | None:
    """What the test's fixtures start from: the demo stores, an empty migrated database, or nothing."""
    if "demo_sessions" in request.fixturenames:
        return "demo"
    if "sessions" in request.fixturenames:
        return "migrated"
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own: a copy of the template its fixtures start from
    (``sessions``: migrated; ``demo_sessions``: the demo stores), or empty for a test that
    migrates by itself."""
    template = _wanted_template(request)
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        if template:
            shutil.copyfile(request.getfixturevalue("sqlite_templates")[template], path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server = request.getfixturevalue("postgres_database").rsplit("/", 1)[0]
    name = f"aftersales_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{request.getfixturevalue("postgres_templates")[template]}"' if template else ""
    _admin_now(f'CREATE DATABASE "{name}"{copy}')
    yield f"{server}/{name}"
    _admin_now(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """An empty, migrated store database."""
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def demo_sessions(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """A store database holding the committed demo stores (``database_url`` copied them in)."""
    return sessions


#: ``TEST_TRAVEL_TO=2031-06-15T09:30:00Z`` runs the in-process tests with the wall clock moved
#: there (still ticking). CI does this after the suite, so a test that only passes near the day it
#: was written fails at once. Processes the tests start (Rasa, the action server) keep the real
#: clock, so CI runs the tests that start none (``-m "not engine"``) this way.
TRAVEL_TO = os.environ.get("TEST_TRAVEL_TO")


def pytest_configure(config: pytest.Config) -> None:
    if TRAVEL_TO:
        import time_machine

        traveller = time_machine.travel(dt.datetime.fromisoformat(TRAVEL_TO.replace("Z", "+00:00")), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that opens the browser is a browser test, and one on a store database a database test
    (``-m "not browser and not database"`` leaves them out), however it reaches the ``browser`` or
    ``database_url`` fixture: no module has to remember the markers."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
        if "database_url" in fixtures:
            item.add_marker(pytest.mark.database)


def pytest_report_header(config: pytest.Config) -> str | None:
    return f"wall clock moved to {TRAVEL_TO} (TEST_TRAVEL_TO)" if TRAVEL_TO else None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With FAIL_ON_SKIP=1 (CI), a skipped test fails the run: nothing may hide."""
    if os.environ.get("FAIL_ON_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"FAIL_ON_SKIP=1: {len(skipped)} test(s) skipped", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="module")
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Settings]]:
    """A real Rasa server and action server over a fresh copy of the demo stores, one per test
    module, so that one module's lockouts and conversations never reach another's. A module
    that also needs the gateway or the worker says so: ``ENGINE_PROCESSES = {"with_gateway": True}``."""
    processes: dict[str, bool] = getattr(request.module, "ENGINE_PROCESSES", {})
    with running_engine(tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2]), **processes) as engine:
        yield engine


@pytest.fixture
async def rasa(engine: tuple[Stack, Settings]) -> AsyncIterator[RasaClient]:
    """A client of the module's Rasa server, as the gateway talks to it."""
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        yield RasaClient(engine[1], http)


@pytest.fixture
async def demo_gateway(demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> AsyncIterator[Any]:
    """The gateway over the demo stores, in this process (aiohttp's test client): for the webhooks
    and APIs that need no answer from Rasa."""
    from aiohttp.test_utils import TestClient, TestServer

    from bot.web.app import create_app

    client = TestClient(TestServer(create_app(load_settings({"VAR_DIR": str(tmp_path)}), demo_sessions)))
    await client.start_server()
    yield client
    await client.close()
