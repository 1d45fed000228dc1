"""The one small client for the Rasa server's HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.chat.conversations import NewMessage
from bot.core.config import Settings

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


#: The entity that marks which job triggered an external intent (the actions ignore it).
JOB_ENTITY = "job_key"
#: The metadata field that marks a shopper message the worker sends again.
RETRY_METADATA = "retry_of"


def replies_after(
    events: list[dict[str, Any]], is_the_message: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]] | None:
    """The bot's messages after the last user event that ``is_the_message``, as the REST
    channel gives them; None if the tracker holds no such user event."""
    found = None
    for index, event in enumerate(events):
        if event.get("event") == "user" and is_the_message(event):
            found = index
    if found is None:
        return None
    replies = []
    for event in events[found + 1 :]:
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            replies.extend(_as_collected(event))
    return replies


def _as_collected(event: dict[str, Any]) -> list[dict[str, Any]]:
    """A bot event as the REST channel and trigger_intent gave it at the time: Rasa's
    ``OutputChannel.send_response`` into its ``CollectingOutputChannel`` (rasa/core/channels/channel.py)
    splits one utterance into its text (by paragraph, or with its buttons), then its custom JSON,
    image and attachment, each a message of its own."""
    data = event.get("data")
    data = data if isinstance(data, dict) else {}
    message = {**data, "text": event.get("text")}
    if message.get("image") == message.get("attachment"):
        message["attachment"] = None
    collected: list[dict[str, Any]] = []
    buttons = message.get("quick_replies") or message.get("buttons")
    text = message.get("text")
    if buttons:
        collected.append({"buttons": buttons, **({"text": text} if text is not None else {})})
    elif isinstance(text, str) and text:
        collected.extend({"text": part} for part in text.strip().split("\n\n"))
    collected.extend({key: message[key]} for key in ("custom", "image", "attachment") if message.get(key))
    return collected


def triggered_by(job_key: str) -> Callable[[dict[str, Any]], bool]:
    """Matches the external user event that a job's trigger_intent put in the tracker."""

    def matches(event: dict[str, Any]) -> bool:
        entities = (event.get("parse_data") or {}).get("entities") or []
        return any(isinstance(e, dict) and e.get("entity") == JOB_ENTITY and e.get("value") == job_key for e in entities)

    return matches


def sent_again_by(job_key: str) -> Callable[[dict[str, Any]], bool]:
    """Matches the user event of a shopper message the worker sent again for a job."""

    def matches(event: dict[str, Any]) -> bool:
        metadata = event.get("metadata")
        return isinstance(metadata, dict) and metadata.get(RETRY_METADATA) == job_key

    return matches


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

    async def send_message(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
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

    async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any]) -> list[dict[str, Any]]:
        """Run an external intent (``EXTERNAL_…``); returns the bot's messages."""
        async with self._http.post(
            f"{self._base}/conversations/{conversation_id}/trigger_intent",
            params={"token": self._token, "include_events": "NONE"},
            json={"name": intent, "entities": entities},
        ) as response:
            _check(response, f"trigger_intent {intent}")
            body = await response.json()
        return list(body.get("messages") or [])

    async def events(self, conversation_id: str) -> list[dict[str, Any]]:
        """The conversation's tracker events (since its last restart)."""
        async with self._http.get(
            f"{self._base}/conversations/{conversation_id}/tracker",
            params={"token": self._token, "include_events": "AFTER_RESTART"},
        ) as response:
            _check(response, "tracker")
            return list((await response.json()).get("events") or [])

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


async def trigger_once(
    rasa: RasaClient, conversation_id: str, intent: str, entities: dict[str, Any], job_key: str, retried: bool
) -> list[dict[str, Any]]:
    """Run a job's external intent, marked with the job's key.

    On a retry (``retried``), the tracker is read first: if an earlier attempt reached Rasa
    and the bot spoke, but storing the messages failed, those same messages are used
    again instead of asking Rasa to send them a second time.
    """
    if retried:
        earlier = replies_after(await rasa.events(conversation_id), triggered_by(job_key))
        if earlier:
            return earlier
    return await rasa.trigger_intent(conversation_id, intent, {**entities, JOB_ENTITY: job_key})
