"""One async engine and one session factory per process."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from bot.core.config import get_settings


def create_engine(database_url: str) -> AsyncEngine:
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            # WAL lets the action server read while the importer writes.
            # synchronous=NORMAL (SQLite's advice for WAL): a commit no longer
            # waits for fsync, so the single write lock is held for far less
            # time; a crash of any process loses nothing, only a power cut can
            # lose the last commits. Production runs on PostgreSQL.
            # SQLite only enforces foreign keys when asked to.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_async_engine(database_url, pool_pre_ping=True)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: services return loaded objects after commit.
    return async_sessionmaker(engine, expire_on_commit=False)


@lru_cache(maxsize=1)
def get_engine() -> AsyncEngine:
    """The process-wide engine, built from the settings on first use."""
    return create_engine(get_settings().database_url)


@lru_cache(maxsize=1)
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    """The process-wide session factory."""
    return create_sessionmaker(get_engine())


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """``INSERT`` with ``ON CONFLICT`` clauses, for the session's database (PostgreSQL or SQLite)."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    return insert(table)


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed. ``session.execute`` is typed to return a ``Result``;
    for such a statement it is a ``CursorResult``, which alone counts them (SQLAlchemy's advice: cast)."""
    return cast(CursorResult[Any], result).rowcount
