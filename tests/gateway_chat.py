"""A seller and one signed-in shopper talking to a running gateway, for end-to-end tests.

Both sides go over the gateway's public HTTP API, as a store's server and its shop page would:
the seller with an API token, the shopper with a conversation opened by a signed shopper object.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from bot.chat.conversations import ConversationService
from bot.core.config import Settings
from bot.core.db import create_engine, create_sessionmaker
from bot.seller.api_tokens import ApiTokens
from tests.conftest import signed_shopper

__all__ = ["GatewayChat", "gateway_chat"]


class GatewayChat:
    """The seller (with an API token) and one signed-in shopper of ``store``, over the gateway's HTTP API."""

    def __init__(self, settings: Settings, http: aiohttp.ClientSession, store: str, seller_token: str) -> None:
        self.api = f"{settings.gateway_url}/api/v1"
        self.http, self.store = http, store
        self.seller = {"Authorization": f"Bearer {seller_token}"}
        self.conversation_id, self.chat_token = "", ""

    async def seller_call(self, method: str, path: str, body: Any) -> dict[str, Any]:
        """A seller API call (``path`` under ``/seller``) that must succeed; its JSON answer."""
        async with self.http.request(method, f"{self.api}/seller{path}", headers=self.seller, json=body) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def import_lines(self, *objects: dict[str, Any]) -> None:
        """Push catalogue objects through the seller import, one JSON line each, as a store's feed does."""
        lines = "\n".join(json.dumps(o) for o in objects)
        async with self.http.post(f"{self.api}/seller/imports", headers=self.seller, data=lines) as r:
            assert r.status == 200, await r.text()

    async def open(self, shopper_secret: str, email: str) -> None:
        """Start the shopper's conversation, signed with the store's shopper secret."""
        async with self.http.post(
            f"{self.api}/stores/{self.store}/conversations",
            json={"shopper": signed_shopper(shopper_secret, email)},
        ) as r:
            assert r.status == 201, await r.text()
            body = await r.json()
        self.conversation_id, self.chat_token = body["conversation_id"], body["token"]

    def _conversation(self) -> tuple[str, dict[str, str]]:
        return f"{self.api}/conversations/{self.conversation_id}/messages", {"Authorization": f"Bearer {self.chat_token}"}

    async def send(self, body: dict[str, str]) -> list[dict[str, Any]]:
        """Send a message (typed text or a tapped button) and return the replies: every message not the shopper's."""
        url, headers = self._conversation()
        async with self.http.post(url, headers=headers, json=body) as r:
            assert r.status == 200, await r.text()
            return [m for m in (await r.json())["messages"] if m["sender"] != "shopper"]

    async def say(self, text: str) -> list[str]:
        """Type ``text``; the replies' texts."""
        return [m["text"] for m in await self.send({"text": text})]

    async def transcript(self) -> list[dict[str, Any]]:
        """Every message of the conversation so far, as the shopper's page reloads it."""
        url, headers = self._conversation()
        async with self.http.get(url, headers=headers) as r:
            assert r.status == 200, await r.text()
            return (await r.json())["messages"]


@asynccontextmanager
async def gateway_chat(settings: Settings, store: str, shopper_email: str) -> AsyncIterator[GatewayChat]:
    """A new seller API token for ``store`` and an open conversation for ``shopper_email``, signed with the
    store's shopper secret, as the store's own server would sign it."""
    db = create_engine(settings.database_url)
    try:
        sessions = create_sessionmaker(db)
        token = await ApiTokens(sessions).create(store, "gateway chat e2e")
        secret = await ConversationService(sessions).shopper_secret(store)
    finally:
        await db.dispose()
    assert secret, f"{store} has no shopper secret"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90)) as http:
        chat = GatewayChat(settings, http, store, token)
        await chat.open(secret, shopper_email)
        yield chat
