"""One shopper turn: store the message, ask Rasa, store and announce the replies."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.conversations import MAX_MESSAGE_CHARS, ChatSession, ConversationService, NewMessage, StoredMessage
from bot.rasa_client import RasaClient, transcript_message
from bot.web.live import LiveHub

log = logging.getLogger(__name__)

# C0 controls except tab and newline, and DEL: PostgreSQL refuses NUL, and
# none of them means anything in a chat message.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class BadMessage(ValueError):
    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


class AssistantUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class ShopperInput:
    #: What Rasa receives: the text, or a button's payload.
    for_rasa: str
    #: What the transcript shows: the text, or the button's title.
    shown: str


def parse_shopper_input(body: Any) -> ShopperInput:
    if not isinstance(body, dict):
        raise BadMessage("the body must be a JSON object")
    text, payload = body.get("text"), body.get("payload")
    if (text is None) == (payload is None):
        raise BadMessage('send either "text" or "payload"')
    raw = text if text is not None else payload
    if not isinstance(raw, str):
        raise BadMessage('"text" and "payload" must be strings')
    if len(raw) > MAX_MESSAGE_CHARS:
        raise BadMessage(f"a message can have at most {MAX_MESSAGE_CHARS:,} characters", status=413)
    cleaned = _CONTROL.sub("", raw)
    if not cleaned.strip():
        raise BadMessage("the message is empty")
    if cleaned.strip().lower().startswith("/external_"):
        # Only the store's own processes may trigger external intents.
        raise BadMessage("this intent cannot be sent from the chat")
    if payload is not None:
        if not cleaned.startswith("/"):
            raise BadMessage('a payload starts with "/", like "/inform{...}"')
        title = body.get("title")
        shown = _CONTROL.sub("", title)[:200] if isinstance(title, str) and title.strip() else cleaned
        return ShopperInput(cleaned, shown)
    return ShopperInput(cleaned, cleaned)


class ChatTurns:
    def __init__(self, conversations: ConversationService, rasa: RasaClient, hub: LiveHub) -> None:
        self.conversations, self.rasa, self.hub = conversations, rasa, hub
        # One turn at a time per conversation, so replies never interleave;
        # a lock lives only while some turn of its conversation is waiting or running.
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    async def take(self, chat: ChatSession, shopper_input: ShopperInput, client_key: str | None = None) -> list[StoredMessage]:
        """``client_key``: the shopper's address as limits count it (the actions' lockouts use it)."""
        key = chat.conversation_id
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                return await self._take(chat, shopper_input, client_key)
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def _take(self, chat: ChatSession, shopper_input: ShopperInput, client_key: str | None) -> list[StoredMessage]:
        # Stored before anything else happens: a failing assistant loses nothing.
        stored = await self.conversations.append(chat, [NewMessage("shopper", shopper_input.shown)])
        self.hub.new_messages(chat.conversation_id)
        metadata = {"store_id": chat.store_id}
        if chat.shopper_email:
            metadata["shopper_email"] = chat.shopper_email
        if client_key:
            metadata["client_key"] = client_key
        if await self.conversations.handled_by(chat) is not None:
            # A person has the conversation. Rasa is paused, but a new Rasa
            # session (after an idle hour) would lift the pause, so the words
            # go into the tracker as an event, which never makes the bot speak.
            try:
                parsed = await self.rasa.parse(shopper_input.for_rasa)
                await self.rasa.append_events(
                    chat.conversation_id,
                    [{"event": "user", "text": shopper_input.for_rasa, "parse_data": parsed, "metadata": metadata}],
                )
            except (aiohttp.ClientError, asyncio.TimeoutError):
                log.warning("Rasa did not record a message for the agent-held %s", chat.conversation_id, exc_info=True)
            return stored
        self.hub.typing(chat.conversation_id, True)
        try:
            replies = await self.rasa.send_message(chat.conversation_id, shopper_input.for_rasa, metadata)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise AssistantUnavailable(str(exc)) from exc
        finally:
            self.hub.typing(chat.conversation_id, False)
        answers = await self.conversations.append(chat, [transcript_message(r) for r in replies if isinstance(r, dict)])
        if answers:
            self.hub.new_messages(chat.conversation_id)
        return stored + answers
