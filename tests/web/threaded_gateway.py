"""The gateway for the agent console's browser tests: served in this process on a thread of its own,
over a SQLite store database holding the demo stores. The console's pages need no assistant for what
these tests do (the queue, reading a conversation), so no Rasa is started."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import load_settings
from bot.core.db import create_engine, create_sessionmaker
from bot.core.migrate import upgrade
from bot.orders.importer import import_lines
from bot.support.accounts import AgentAccounts
from bot.web.app import create_app
from tests.conftest import DEMO_DATA

Sessions = async_sessionmaker[AsyncSession]
Seeded = TypeVar("Seeded")


async def add_agent(sessions: Sessions, store: str, name: str = "Kim Ho") -> tuple[str, str]:
    """A new support agent of the store: (email, password)."""
    email, password = f"{name.split()[0].lower()}.{secrets.token_hex(3)}@{store}.example", secrets.token_urlsafe(12)
    assert await AgentAccounts(sessions).add(email, name, password, [store])
    return email, password


class ThreadedGateway(Generic[Seeded]):
    """The gateway app on 127.0.0.1:<free port>, served by an event loop on its own thread;
    ``seed(sessions)`` adds what the test needs to the demo stores, and its answer is ``seeded``."""

    def __init__(
        self,
        var_dir: Path,
        seed: Callable[[Sessions], Awaitable[Seeded]],
        env: dict[str, str] | None = None,
        rasa: Any = None,
    ) -> None:
        """``env``: more settings (a ``GATEWAY_PORT`` in it is the port served, for pages that post
        back to the gateway's own URL); ``rasa``: a stand-in RasaClient for what needs answers."""
        self.var_dir = var_dir
        self.seed = seed
        self.env = env or {}
        self.rasa = rasa
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=300)

    async def _start(self) -> None:
        self.settings = settings = load_settings(
            {"VAR_DIR": str(self.var_dir), "DATABASE_URL": f"sqlite:///{self.var_dir / 'store.db'}", **self.env}
        )
        self.engine = create_engine(settings.database_url)
        await upgrade(self.engine)
        self.sessions = create_sessionmaker(self.engine)
        with DEMO_DATA.open(encoding="utf-8") as lines:
            assert (await import_lines(self.sessions, lines)).ok
        self.seeded: Seeded = await self.seed(self.sessions)
        self.runner = web.AppRunner(create_app(settings, self.sessions, rasa=self.rasa))
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", int(self.env.get("GATEWAY_PORT", "0")))
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.engine.dispose()

    def __enter__(self) -> ThreadedGateway[Seeded]:
        self.thread.start()
        self.run(self._start())
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self.run(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
