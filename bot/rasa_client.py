"""The one small client for the Rasa server's HTTP API."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.config import Settings


class RasaClient:
    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self._base = settings.rasa_url
        self._token = settings.rasa_token
        self._http = session

    async def send_message(
        self, conversation_id: str, text: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Send a shopper message through the REST channel; returns the bot's replies.

        Metadata travels with every message: Rasa hands it to the actions as
        ``tracker.latest_message["metadata"]``.
        """
        async with self._http.post(
            f"{self._base}/webhooks/rest/webhook",
            json={"sender": conversation_id, "message": text, "metadata": metadata},
        ) as response:
            response.raise_for_status()
            return await response.json()

    async def parse(self, text: str) -> dict[str, Any]:
        async with self._http.post(
            f"{self._base}/model/parse", params={"token": self._token}, json={"text": text}
        ) as response:
            response.raise_for_status()
            return await response.json()

    async def is_up(self) -> bool:
        try:
            async with self._http.get(f"{self._base}/status", params={"token": self._token}) as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False
