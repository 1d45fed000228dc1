"""The one small client for the Rasa server's HTTP API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.config import Settings
from bot.conversations import NewMessage

ATTACHMENT_TYPES = {"pdf", "video", "image", "link"}


def _http_url(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def _attachment(reply: dict[str, Any]) -> dict[str, Any] | None:
    candidate = (reply.get("custom") or {}).get("attachment") if isinstance(reply.get("custom"), dict) else None
    candidate = candidate or reply.get("attachment")
    if isinstance(candidate, dict):
        url = _http_url(candidate.get("url"))
        kind = candidate.get("type")
        if url and kind in ATTACHMENT_TYPES:
            title = candidate.get("title")
            return {"type": kind, "url": url, "title": str(title)[:300] if title else ""}
    if reply.get("image") and _http_url(reply["image"]):
        return {"type": "image", "url": reply["image"], "title": ""}
    return None


def transcript_message(reply: dict[str, Any], sender: str = "bot") -> NewMessage:
    """A Rasa reply (REST channel or trigger_intent) as a transcript message."""
    buttons = [
        {"title": str(b.get("title", ""))[:200], "payload": str(b.get("payload", ""))[:2000]}
        for b in reply.get("buttons") or []
        if isinstance(b, dict)
    ]
    text = reply.get("text")
    return NewMessage(sender, text if isinstance(text, str) else "", buttons, _attachment(reply))


class RasaError(aiohttp.ClientError):
    """Rasa refused a call. The message never includes the API token."""


def _check(response: aiohttp.ClientResponse, what: str) -> None:
    if response.status >= 400:
        raise RasaError(f"Rasa answered {response.status} {response.reason} to {what}")


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
            _check(response, "a REST channel message")
            return await response.json()

    async def trigger_intent(
        self, conversation_id: str, intent: str, entities: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Run an external intent (``EXTERNAL_…``); returns the bot's messages."""
        async with self._http.post(
            f"{self._base}/conversations/{conversation_id}/trigger_intent",
            params={"token": self._token, "include_events": "NONE"},
            json={"name": intent, "entities": entities},
        ) as response:
            _check(response, f"trigger_intent {intent}")
            body = await response.json()
        return list(body.get("messages") or [])

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Add events to the conversation's tracker (pause, resume, an agent's message)."""
        async with self._http.post(
            f"{self._base}/conversations/{conversation_id}/tracker/events",
            params={"token": self._token, "include_events": "NONE"},
            json=events,
        ) as response:
            _check(response, "tracker/events")

    async def pause(self, conversation_id: str) -> None:
        """ConversationPaused: Rasa records the shopper's messages and stays silent."""
        await self.append_events(conversation_id, [{"event": "pause"}])

    async def resume(self, conversation_id: str) -> None:
        """ConversationResumed: the bot answers again from the next message."""
        await self.append_events(conversation_id, [{"event": "resume"}])

    async def is_paused(self, conversation_id: str) -> bool:
        async with self._http.get(
            f"{self._base}/conversations/{conversation_id}/tracker",
            params={"token": self._token, "include_events": "NONE"},
        ) as response:
            _check(response, "tracker")
            return bool((await response.json()).get("paused"))

    async def parse(self, text: str) -> dict[str, Any]:
        async with self._http.post(
            f"{self._base}/model/parse", params={"token": self._token}, json={"text": text}
        ) as response:
            _check(response, "model/parse")
            return await response.json()

    async def is_up(self) -> bool:
        try:
            async with self._http.get(f"{self._base}/status", params={"token": self._token}) as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False
