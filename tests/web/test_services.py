"""The gateway's services: built once in create_app, those that talk to Rasa only while it runs,
and a Rasa client the caller gives used instead of the gateway's own. No Rasa server here."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.rasa_client import RasaClient
from bot.core.config import Settings, load_settings
from bot.runtime.stack import free_port
from bot.web.app import create_app
from bot.web.services import SERVICES

Sessions = async_sessionmaker[AsyncSession]


def settings_without_rasa(tmp_path: Path) -> Settings:
    # A port nothing listens on: the gateway's own client finds no Rasa.
    return load_settings({"VAR_DIR": str(tmp_path), "RASA_PORT": str(free_port())})


async def test_without_rasa_the_health_check_says_degraded(sessions: Sessions, tmp_path: Path) -> None:
    async with TestClient(TestServer(create_app(settings_without_rasa(tmp_path), sessions))) as client:
        response = await client.get("/healthz")
        assert response.status == 503
        assert await response.json() == {"status": "degraded", "rasa": False}


async def test_a_given_rasa_client_is_the_one_the_gateway_uses(sessions: Sessions, tmp_path: Path) -> None:
    """The gateway's settings name no Rasa that runs; the client handed to create_app reaches one
    (here a server answering Rasa's /status), and the health check asks it."""
    asked: list[str] = []

    async def status(request: web.Request) -> web.Response:
        asked.append(request.query.get("token", ""))
        return web.json_response({"model_file": "assistant.tar.gz"})

    stand_in = web.Application()
    stand_in.router.add_get("/status", status)
    port = free_port()
    runner = web.AppRunner(stand_in)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as http:
            given = RasaClient(load_settings({"VAR_DIR": str(tmp_path), "RASA_PORT": str(port)}), http)
            app = create_app(settings_without_rasa(tmp_path), sessions, rasa=given)
            async with TestClient(TestServer(app)) as client:
                response = await client.get("/healthz")
                assert response.status == 200 and (await response.json())["rasa"] is True
                assert len(asked) == 1
                assert app[SERVICES].engine.rasa is given
    finally:
        await runner.cleanup()


async def test_the_services_that_talk_to_rasa_exist_only_while_the_gateway_runs(sessions: Sessions, tmp_path: Path) -> None:
    app = create_app(settings_without_rasa(tmp_path), sessions)
    built = app[SERVICES]
    with pytest.raises(RuntimeError, match="not running"):
        built.engine  # noqa: B018 - the property is what is tested
    async with TestClient(TestServer(app)):
        assert app[SERVICES] is built  # one container, under one key, for the whole process
        turns, handoff = built.engine.turns, built.engine.handoff
        assert turns is built.engine.turns and handoff is built.engine.handoff
    with pytest.raises(RuntimeError, match="not running"):
        built.engine  # noqa: B018
