"""The gateway in-process (aiohttp's test server) over a store database holding the demo stores.

Security tests that need no assistant answer use this: each builds the gateway with the
settings it is about (limits, trusted proxies, demo mode) through ``gateway``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import load_settings
from bot.web.app import create_app

GatewayFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def gateway(demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> AsyncIterator[GatewayFactory]:
    """``await gateway(TRUSTED_PROXIES="10.0.0.0/8", ...)``: a started test client; closed at the end."""
    clients: list[TestClient] = []

    async def start(**env: str) -> TestClient:
        settings = load_settings({"VAR_DIR": str(tmp_path), **env})
        client = TestClient(TestServer(create_app(settings, demo_sessions)))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()
