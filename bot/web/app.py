"""The gateway's composition root: the one place its services are built and its parts mounted.

- the public chat API and websocket (:mod:`bot.web.chat_api`), and its photos (:mod:`bot.web.photo_api`);
- tracking webhooks (:mod:`bot.web.webhooks`);
- the widget, the OpenAPI description, the health check, the demo page (:mod:`bot.web.public_files`);
- the seller API under /api/v1/seller (:mod:`bot.web.seller_api`);
- the agent console at /agent and the seller console at /seller, each an aiohttp sub-application
  with its own sign-in middleware (:mod:`bot.web.agent_api`, :mod:`bot.web.seller_console`).

Every request passes the client-address and /api/ middlewares (:mod:`bot.web.middleware`) first.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.rasa_client import RasaClient
from bot.core.config import Settings
from bot.web.agent_api import add_agent_console
from bot.web.chat_api import add_chat_api
from bot.web.client_address import client_key_middleware, parse_trusted_proxies
from bot.web.continue_chat import add_continue_chat
from bot.web.demo_inbox import add_demo_inbox
from bot.web.email_links import add_email_links
from bot.web.email_webhooks import add_email_webhooks
from bot.web.middleware import AccessLog, api_middleware, security_headers
from bot.web.photo_api import add_photo_api
from bot.web.public_files import add_public_files
from bot.web.seller_api import add_seller_api
from bot.web.seller_console import add_seller_console
from bot.web.services import SERVICES, Services
from bot.web.shop_webhooks import add_shop_webhooks
from bot.web.webhooks import add_webhooks

#: The largest request body the gateway reads (a seller's PDF manual is the largest thing sent).
MAX_BODY_BYTES = 1024 * 1024


def create_app(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], *, rasa: RasaClient | None = None
) -> web.Application:
    """The gateway. ``rasa``: a client of the caller's to use instead of the gateway's own."""
    app = web.Application(
        middlewares=[client_key_middleware(parse_trusted_proxies(settings.trusted_proxies)), api_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SERVICES] = built = Services.build(settings, sessions, rasa)
    app.on_response_prepare.append(security_headers)

    async def running(_: web.Application) -> AsyncIterator[None]:
        async with built.running():
            yield

    app.cleanup_ctx.append(running)
    add_chat_api(app)
    add_photo_api(app)
    add_continue_chat(app)
    add_webhooks(app)
    add_shop_webhooks(app)
    add_email_links(app)
    add_email_webhooks(app)
    add_public_files(app, demo=settings.demo)
    add_demo_inbox(app, demo=settings.demo)
    add_seller_api(app)
    add_agent_console(app)
    add_seller_console(app)
    return app


def run_gateway(settings: Settings) -> None:
    from bot.core.db import get_sessionmaker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(
        create_app(settings, get_sessionmaker()),
        host=settings.gateway_host,
        port=settings.gateway_port,
        print=None,
        access_log_class=AccessLog,
    )
