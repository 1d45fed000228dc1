"""Conversations and their transcripts, as the shopper sees them.

Every message, the shopper's and the bot's, is stored here before the
gateway acknowledges it; a transcript survives a restart of any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.shopper_signatures import new_token, signature_is_valid, timestamp_problem, token_hash
from bot.core.clock import utc_now
from bot.core.db import dialect_insert
from bot.core.models import Conversation, ConversationToken, Message, Store, iso_utc
from bot.core.refusals import Refusal
from bot.core.text_input import without_surrogates

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
#: A button stays usable while its message is among the conversation's latest this many.
OFFERS_REMEMBERED = 200
#: On PostgreSQL every stored message is announced on this channel (the payload is the
#: conversation id), in the transaction that stores it: each gateway wakes that
#: conversation's websockets at once, whichever process wrote it.
NEW_MESSAGES_CHANNEL = "new_messages"
#: On SQLite (one machine) one query per gateway process, this often, finds the conversations
#: with new messages instead...
NEW_MESSAGES_POLL_SECONDS = 1.0
#: ...looking back this far, since a message's time is set before its transaction commits.
NEW_MESSAGES_OVERLAP = dt.timedelta(seconds=5)


#: How long an automatic message (delivery, review) waits before checking again while a person holds the chat.
AGENT_HOLD_RETRY = dt.timedelta(minutes=30)


class UnknownStore(LookupError):
    pass


class BadSignature(Refusal, PermissionError):
    """A shopper identity the store did not sign, or not recently enough; the code says which."""

    def __init__(self, store_id: str, code: str = "shopper_signature_invalid") -> None:
        super().__init__(code)
        self.store_id = store_id


@dataclass(frozen=True)
class ChatSession:
    """An authenticated conversation: what a bearer token opens."""

    conversation_id: str
    store_id: str
    shopper_email: str | None


@dataclass(frozen=True)
class NewMessage:
    sender: str
    text: str = ""
    buttons: list[dict[str, Any]] = field(default_factory=list)
    attachment: dict[str, Any] | None = None
    #: An agent's display name, for the agent's own messages.
    author: str | None = None


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    sender: str
    text: str
    buttons: list[dict[str, Any]]
    attachment: dict[str, Any] | None
    created_at: dt.datetime
    author: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "sender": self.sender,
            "author": self.author,
            "text": self.text,
            "buttons": self.buttons,
            "attachment": self.attachment,
            "created_at": iso_utc(self.created_at),
        }


def stored_message(message: Message) -> StoredMessage:
    return StoredMessage(
        message.seq,
        message.sender,
        message.text,
        list(message.buttons or []),
        message.attachment,
        message.created_at,
        message.author,
    )


class ConversationService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], signature_max_age_seconds: int = 3600) -> None:
        self._sessions = sessions
        #: SHOPPER_SIGNATURE_MAX_AGE_SECONDS (bot/core/config.py).
        self._signature_max_age = signature_max_age_seconds

    async def start(
        self, store_id: str, shopper_email: str | None = None, signature: str | None = None, ts: int | None = None
    ) -> tuple[ChatSession, str]:
        """Open a conversation and return it with a new bearer token.

        A shopper whose identity the store signed (with the time it signed, ``ts``, no older
        than the maximum age; without one only if the store opted in to plain signatures)
        lands in their existing conversation with that store, if any, so nothing the store
        sent is lost.
        """
        async with self._sessions() as session, session.begin():
            store = await session.get(Store, store_id)
            if store is None:
                raise UnknownStore(store_id)
            email = None
            if shopper_email is not None or signature is not None or ts is not None:
                now = utc_now()
                keys = store.shopper_secrets(now)
                valid = [signature_is_valid(key, shopper_email or "", signature or "", ts) for key in keys]
                if not shopper_email or not any(valid):
                    raise BadSignature(store_id)
                if ts is None and not store.plain_shopper_signatures:
                    raise BadSignature(store_id, "shopper_signature_needs_time")
                problem = None if ts is None else timestamp_problem(ts, now.timestamp(), self._signature_max_age)
                if problem:
                    raise BadSignature(store_id, problem)
                email = shopper_email.strip().lower()
            conversation = await self._conversation_for(session, store_id, email)
            token = new_token()
            session.add(ConversationToken(token_hash=token_hash(token), store_id=store_id, conversation_id=conversation.id))
            return ChatSession(conversation.id, store_id, email), token

    @staticmethod
    async def _conversation_for(session: AsyncSession, store_id: str, email: str | None) -> Conversation:
        """The identified shopper's latest conversation with the store, or a new one."""
        if email is None:
            conversation = Conversation(id=secrets.token_urlsafe(18), store_id=store_id)
            session.add(conversation)
            await session.flush()
            return conversation
        mine = select(Conversation).where(Conversation.store_id == store_id, Conversation.shopper_email == email)
        existing = await session.scalar(mine)
        if existing is not None:
            return existing
        # The worker (a delivery) and the widget (a page load) may open it at
        # the same moment: the unique index lets one insert win, and both use it.
        await session.execute(
            dialect_insert(session, Conversation)
            .values(id=secrets.token_urlsafe(18), store_id=store_id, shopper_email=email, last_seq=0, created_at=utc_now())
            .on_conflict_do_nothing()
        )
        return (await session.scalars(mine)).one()

    async def for_shopper(self, store_id: str, shopper_email: str) -> ChatSession:
        """Where the store writes to a shopper first: their conversation, made if needed."""
        async with self._sessions() as session, session.begin():
            chat, _ = await self.for_shopper_in(session, store_id, shopper_email)
            return chat

    @classmethod
    async def for_shopper_in(cls, session: AsyncSession, store_id: str, shopper_email: str) -> tuple[ChatSession, bool]:
        """Like :meth:`for_shopper`, inside the caller's transaction, and whether a person
        holds the chat now. The worker's automatic messages then wait (:data:`AGENT_HOLD_RETRY`
        at a time) until it is handed back, and are not lost. One transaction, because the
        worker does this for every message it sends."""
        email = shopper_email.strip().lower()
        conversation = await cls._conversation_for(session, store_id, email)
        return ChatSession(conversation.id, store_id, email), conversation.handled_by is not None

    async def authenticate(self, conversation_id: str, token: str | None) -> ChatSession | None:
        if not token:
            return None
        digest = token_hash(token)
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(ConversationToken.token_hash, Conversation.id, Conversation.store_id, Conversation.shopper_email)
                    .join(Conversation, Conversation.id == ConversationToken.conversation_id)
                    .where(ConversationToken.token_hash == digest, Conversation.id == conversation_id)
                )
            ).first()
        if row is None or not hmac.compare_digest(row[0], digest):
            return None
        return ChatSession(row[1], row[2], row[3])

    async def append(self, chat: ChatSession, messages: Sequence[NewMessage]) -> list[StoredMessage]:
        """Store messages in order, in one transaction, with the next sequence numbers."""
        if not messages:
            return []
        async with self._sessions() as session, session.begin():
            return await self.append_in(session, chat, messages)

    @staticmethod
    async def append_in(session: AsyncSession, chat: ChatSession, messages: Sequence[NewMessage]) -> list[StoredMessage]:
        """Like :meth:`append`, inside the caller's transaction."""
        if not messages:
            return []
        now = utc_now()
        last = await session.scalar(
            update(Conversation)
            .where(Conversation.id == chat.conversation_id, Conversation.store_id == chat.store_id)
            .values(last_seq=Conversation.last_seq + len(messages), last_message_at=now)
            .returning(Conversation.last_seq)
        )
        if last is None:
            raise LookupError(chat.conversation_id)
        rows = [
            Message(
                store_id=chat.store_id,
                conversation_id=chat.conversation_id,
                seq=last - len(messages) + index + 1,
                sender=message.sender,
                # What reaches the transcript is text: a lone surrogate in a reply (a template saved
                # before such input was refused, an action's output) becomes U+FFFD instead of
                # failing the store, and with it the shopper's turn.
                author=without_surrogates(message.author),
                text=without_surrogates(message.text),
                buttons=without_surrogates(message.buttons),
                attachment=without_surrogates(message.attachment),
                created_at=now,
            )
            for index, message in enumerate(messages)
        ]
        session.add_all(rows)
        await session.flush()
        if session.bind.dialect.name == "postgresql":
            # Delivered to the listeners when, and only if, this transaction commits.
            await session.execute(select(func.pg_notify(NEW_MESSAGES_CHANNEL, chat.conversation_id)))
        return [stored_message(row) for row in rows]

    async def mark_read(self, chat: ChatSession, seq: int) -> None:
        """The shopper's widget was given the messages up to ``seq`` (it fetched them, or an open
        websocket pushed them): no email goes out for them (bot/email/unread_messages.py)."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Conversation)
                .where(
                    Conversation.id == chat.conversation_id,
                    Conversation.store_id == chat.store_id,
                    Conversation.shopper_read_seq < seq,
                )
                .values(shopper_read_seq=seq)
            )

    async def handled_by(self, chat: ChatSession) -> int | None:
        """The agent holding the conversation now, if a person has taken it over."""
        async with self._sessions() as session:
            return await session.scalar(
                select(Conversation.handled_by).where(
                    Conversation.id == chat.conversation_id, Conversation.store_id == chat.store_id
                )
            )

    async def last_seq(self, chat: ChatSession) -> int:
        """The conversation's latest message number (0 before the first): where "only new ones" starts."""
        async with self._sessions() as session:
            last = await session.scalar(
                select(Conversation.last_seq).where(
                    Conversation.id == chat.conversation_id, Conversation.store_id == chat.store_id
                )
            )
        return int(last or 0)

    async def watch_new_messages(
        self, on_new: Callable[[str], None], on_missed: Callable[[], None], active: Callable[[], bool] = lambda: True
    ) -> None:
        """Until cancelled, call ``on_new(conversation_id)`` whenever any process stores messages.

        PostgreSQL: LISTEN on :data:`NEW_MESSAGES_CHANNEL` over one connection of its own (no
        queries at all); ``on_missed()`` after (re)connecting, since notifications sent while
        it was away are lost. SQLite: one query per :data:`NEW_MESSAGES_POLL_SECONDS` for all the
        process's listeners, and none while ``active()`` says nobody listens.
        """
        engine = self._sessions.kw["bind"]
        if engine.dialect.name == "postgresql":
            await self._listen(engine.url, on_new, on_missed)
        else:
            await self._poll(on_new, active)

    @staticmethod
    async def _listen(url: Any, on_new: Callable[[str], None], on_missed: Callable[[], None]) -> None:
        import asyncpg

        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        while True:
            try:
                connection = await asyncpg.connect(dsn, timeout=10)
            except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
                log.warning("cannot LISTEN for new messages (%s); retrying", exc)
                await asyncio.sleep(2.0)
                continue
            lost = asyncio.Event()
            try:
                connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
                await connection.add_listener(
                    NEW_MESSAGES_CHANNEL, lambda _connection, _pid, _channel, payload: on_new(payload)
                )
                on_missed()
                await lost.wait()
                log.warning("the LISTEN connection for new messages closed; reconnecting")
            finally:
                with contextlib.suppress(Exception):
                    await connection.close(timeout=2)

    async def _poll(self, on_new: Callable[[str], None], active: Callable[[], bool]) -> None:
        announced: dict[str, tuple[int, dt.datetime]] = {}  # conversation -> (last seq woken for, its time)
        since = utc_now() - NEW_MESSAGES_OVERLAP
        while True:
            await asyncio.sleep(NEW_MESSAGES_POLL_SECONDS)
            started = utc_now()
            if not active():
                since, announced = started - NEW_MESSAGES_OVERLAP, {}
                continue
            async with self._sessions() as session:
                changed = (
                    await session.execute(
                        select(Conversation.id, Conversation.last_seq, Conversation.last_message_at).where(
                            Conversation.last_message_at > since
                        )
                    )
                ).all()
            for conversation_id, last_seq, at in changed:
                if announced.get(conversation_id, (0, at))[0] < last_seq:
                    announced[conversation_id] = (last_seq, at)
                    on_new(conversation_id)
            since = started - NEW_MESSAGES_OVERLAP
            announced = {c: seen for c, seen in announced.items() if seen[1] > since}

    async def offered_payload(self, chat: ChatSession, payload: str) -> bool:
        """Is ``payload`` one of the buttons the bot (or the store) offered in this conversation,
        among its latest :data:`OFFERS_REMEMBERED` messages? Compared as Rasa reads them
        (stripped), and in constant time."""
        wanted = payload.strip().encode()
        async with self._sessions() as session:
            offers = await session.scalars(
                select(Message.buttons)
                .where(
                    Message.conversation_id == chat.conversation_id,
                    Message.store_id == chat.store_id,
                    Message.sender != "shopper",
                )
                .order_by(Message.seq.desc())
                .limit(OFFERS_REMEMBERED)
            )
            offered = [
                button["payload"].strip().encode()
                for buttons in offers
                for button in buttons or []
                if isinstance(button, dict) and isinstance(button.get("payload"), str)
            ]
        return any([hmac.compare_digest(wanted, candidate) for candidate in offered])

    async def messages_after(self, chat: ChatSession, after: int = 0, limit: int = 500) -> list[StoredMessage]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == chat.conversation_id,
                    Message.store_id == chat.store_id,
                    Message.seq > after,
                )
                .order_by(Message.seq)
                .limit(limit)
            )
            return [stored_message(row) for row in rows]

    async def shopper_secret(self, store_id: str) -> str | None:
        async with self._sessions() as session:
            return await session.scalar(select(Store.shopper_secret).where(Store.id == store_id))

    async def ensure_shopper_secrets(self) -> list[str]:
        """Give every store without a shopper secret a random one (demo setup)."""
        async with self._sessions() as session, session.begin():
            stores = (await session.scalars(select(Store).where(Store.shopper_secret.is_(None)))).all()
            for store in stores:
                store.shopper_secret = secrets.token_hex(32)
            return [store.id for store in stores]
