"""One shopper turn: store the message, ask Rasa, store and announce the replies."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.chat.conversations import MAX_MESSAGE_CHARS, ChatSession, ConversationService, NewMessage, StoredMessage
from bot.chat.rasa_client import RasaClient, transcript_message
from bot.chat.unanswered import UnansweredTurns
from bot.core.refusals import ParamValue, Refusal
from bot.core.text_input import BadInput, loads
from bot.photos.conversation_photos import ConversationPhotos, PhotosNotSendable, photo_json
from bot.web.live import LiveHub

log = logging.getLogger(__name__)

# C0 controls except tab and newline, and DEL: PostgreSQL refuses NUL, and
# none of them means anything in a chat message.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class BadMessage(Refusal, ValueError):
    """A shopper's message that is not taken; ``status`` is the HTTP answer's, ``field`` where it is wrong."""

    def __init__(self, code: str, /, status: int = 400, **params: ParamValue) -> None:
        super().__init__(code, **params)
        self.status = status
        self.field: str | None = None

    @classmethod
    def of_input(cls, refused: BadInput) -> BadMessage:
        """Text in the message that is not usable (:mod:`bot.core.text_input`), where it is. Its params
        (they may hold a "field" of their own) are taken as they are, never as ``status``."""
        message = cls.__new__(cls)
        Refusal.__init__(message, refused.code, **refused.params)
        message.status = 400
        message.field = refused.field
        return message


#: Rasa reads "/intent{...}" (in a payload or a typed text alike) as an intent with entities in JSON.
_ENTITIES = re.compile(r"\s*/[^{@]*(\{.*\})", re.DOTALL)


def _check_entities(message: str, field: str) -> None:
    """The entities of a "/intent{...}" message are JSON that Rasa parses: their text is checked like
    any other JSON from outside (an escaped lone surrogate would otherwise reach the actions)."""
    entities = _ENTITIES.match(message)
    if entities is None:
        return
    try:
        loads(entities.group(1), field=f"{field} entities")
    except json.JSONDecodeError:
        return  # not entities to Rasa either: it takes the text as it is
    except BadInput as exc:
        raise BadMessage.of_input(exc) from None


#: Rasa's own intents (rasa.shared.core.constants.DEFAULT_INTENTS), as :func:`intent_named` gives them.
RASA_BUILT_IN_INTENTS = frozenset({"restart", "back", "session_start", "out_of_scope", "nlu_fallback"})
#: External intents (EXTERNAL_package_delivered, ...): what the worker triggers for the store.
EXTERNAL_INTENT_PREFIX = "external_"


def intent_named(message: str) -> str | None:
    """The intent that Rasa would read ``message`` as, lower case and without spaces, or
    ``None`` for a message Rasa takes as words.

    Rasa strips the text (Python's ``str.strip``, every Unicode space), and any text then
    starting with "/" is an intent, named by what follows up to "{" or "@", stripped again
    (rasa.shared.core.training_data.story_reader.yaml_story_reader). So "/ EXTERNAL_x",
    "/\tRestart" and "  /restart" are intents too.
    """
    stripped = message.strip()
    if not stripped.startswith("/"):
        return None
    name = re.split(r"[{@]", stripped[1:], maxsplit=1)[0]
    return "".join(name.split()).lower()


#: Photos one message may carry (each uploaded first: bot/web/photo_api.py).
MAX_PHOTOS_PER_MESSAGE = 5
#: What Rasa receives for a message of photos alone: the shopper said nothing it could read, so the
#: intent says what happened, and how many (the dialogue's photo step takes it; the bot never sees
#: the pictures and never says it did).
PHOTOS_INTENT = "share_photos"
#: A photo id as bot/photos/conversation_photos.py makes them (``secrets.token_urlsafe(24)``).
_PHOTO_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class ShopperInput:
    #: What Rasa receives: the text, or a button's payload.
    for_rasa: str
    #: What the transcript shows: the text, or the button's title.
    shown: str
    #: Uploaded photos the message carries, in order.
    photo_ids: tuple[str, ...] = ()

    @property
    def is_intent(self) -> bool:
        """Rasa reads it as "/intent{...}": allowed only as a button the bot offered in this chat
        (or as the gateway's own :data:`PHOTOS_INTENT` for a message of photos alone)."""
        return intent_named(self.for_rasa) is not None

    @property
    def is_photos_alone(self) -> bool:
        return bool(self.photo_ids) and self.for_rasa == f"/{PHOTOS_INTENT}"


def _photo_ids(photos: Any) -> tuple[str, ...]:
    if photos is None:
        return ()
    if not isinstance(photos, list) or not all(isinstance(p, str) and _PHOTO_ID.fullmatch(p) for p in photos):
        raise BadMessage("message_photos_invalid")
    if len(photos) > MAX_PHOTOS_PER_MESSAGE:
        raise BadMessage("message_photos_too_many", limit=MAX_PHOTOS_PER_MESSAGE)
    if len(set(photos)) != len(photos):
        raise BadMessage("message_photos_invalid")
    return tuple(photos)


def parse_shopper_input(body: Any) -> ShopperInput:
    """A shopper's message: ``text`` or a button's ``payload`` (with its ``title``), and ``photos``,
    a list of uploaded photo ids, with the text or alone."""
    if not isinstance(body, dict):
        raise BadMessage("body_not_object")
    photo_ids = _photo_ids(body.get("photos"))
    text, payload = body.get("text"), body.get("payload")
    if photo_ids and payload is not None:
        raise BadMessage("message_text_or_payload")
    if photo_ids and (text is None or (isinstance(text, str) and not _CONTROL.sub("", text).strip())):
        return ShopperInput(f"/{PHOTOS_INTENT}", "", photo_ids)
    if (text is None) == (payload is None):
        raise BadMessage("message_text_or_payload")
    raw = text if text is not None else payload
    if not isinstance(raw, str):
        raise BadMessage("message_not_string")
    if len(raw) > MAX_MESSAGE_CHARS:
        raise BadMessage("message_too_long", status=413, limit=MAX_MESSAGE_CHARS)
    cleaned = _CONTROL.sub("", raw)
    if not cleaned.strip():
        raise BadMessage("message_empty")
    _check_entities(cleaned, "text" if text is not None else "payload")
    intent = intent_named(cleaned)
    if intent is not None and (intent in RASA_BUILT_IN_INTENTS or intent.startswith(EXTERNAL_INTENT_PREFIX)):
        # Rasa's own intents reset or rewind the conversation (its identity-check state with
        # it), and external intents are the store's processes' alone (a delivery confirmation).
        raise BadMessage("message_intent_forbidden")
    if intent == PHOTOS_INTENT:
        # Only a message that does carry photos says it does.
        raise BadMessage("button_not_offered")
    if payload is not None:
        if intent is None:
            raise BadMessage("payload_not_intent")
        title = body.get("title")
        shown = _CONTROL.sub("", title)[:200] if isinstance(title, str) and title.strip() else cleaned
        return ShopperInput(cleaned, shown)
    return ShopperInput(cleaned, cleaned, photo_ids)


class ChatTurns:
    def __init__(
        self,
        conversations: ConversationService,
        rasa: RasaClient,
        hub: LiveHub,
        unanswered: UnansweredTurns,
        photos: ConversationPhotos,
    ) -> None:
        self.conversations, self.rasa, self.hub, self.unanswered = conversations, rasa, hub, unanswered
        self.photos = photos
        # One turn at a time per conversation, so replies never interleave;
        # a lock lives only while some turn of its conversation is waiting or running.
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    async def take(
        self, chat: ChatSession, shopper_input: ShopperInput, client_key: str | None = None
    ) -> list[StoredMessage]:
        """``client_key``: the shopper's address as limits count it (the actions' lockouts use it).

        A "/intent{...}" message is taken only if it is a button payload the bot offered in
        this conversation (:class:`BadMessage` otherwise, before anything is stored or sent):
        the shopper can't reach intents that no button of theirs leads to. This holds for
        HTTP messages and websocket frames, and while a person holds the chat.
        """
        if (
            shopper_input.is_intent
            and not shopper_input.is_photos_alone
            and not await self.conversations.offered_payload(chat, shopper_input.for_rasa)
        ):
            raise BadMessage("button_not_offered")
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
        attachment = None
        if shopper_input.photo_ids:
            try:
                photos = await self.photos.unsent(chat.store_id, chat.conversation_id, shopper_input.photo_ids)
            except PhotosNotSendable:
                raise BadMessage("message_photos_unknown") from None
            attachment = {"type": "photos", "photos": [photo_json(photo) for photo in photos]}
        # Stored before anything else happens: a failing assistant loses nothing.
        stored = await self.conversations.append(chat, [NewMessage("shopper", shopper_input.shown, attachment=attachment)])
        if shopper_input.photo_ids:
            await self.photos.attach_to_message(chat.store_id, chat.conversation_id, stored[0].seq, shopper_input.photo_ids)
        self.hub.new_messages(chat.conversation_id)
        metadata: dict[str, Any] = {"store_id": chat.store_id}
        if shopper_input.photo_ids:
            # Words with photos ("here they are") answer the report's photo step as photos alone do.
            metadata["photo_count"] = len(shopper_input.photo_ids)
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
            except (TimeoutError, aiohttp.ClientError):
                log.warning("Rasa did not record a message for the agent-held %s", chat.conversation_id, exc_info=True)
            return stored
        self.hub.typing(chat.conversation_id, True)
        try:
            replies = await self.rasa.send_message(chat.conversation_id, shopper_input.for_rasa, metadata)
        except (TimeoutError, aiohttp.ClientError):
            log.warning("Rasa did not answer in %s", chat.conversation_id, exc_info=True)
            replies = []
        finally:
            self.hub.typing(chat.conversation_id, False)
        answers = await self.conversations.append(chat, [transcript_message(r) for r in replies if isinstance(r, dict)])
        if not answers:
            # Rasa down, or an action failed (Rasa answers 200 with nothing): never silence.
            # The shopper is told so, and the worker asks again (bot/chat/unanswered.py).
            log.warning("the assistant gave no answer in %s; the message is queued to be asked again", chat.conversation_id)
            answers = await self.unanswered.hold(chat, stored[0].seq, shopper_input.for_rasa, metadata)
        self.hub.new_messages(chat.conversation_id)
        return stored + answers
