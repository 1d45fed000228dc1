"""Handoff: an agent takes a conversation over from the bot and gives it back.

The lifecycle of an escalation is open → claimed → handed back or resolved.
Claiming sets ``conversations.handled_by`` with a conditional update, so two
agents can never both hold one conversation, and pauses the conversation in
Rasa (ConversationPaused): the bot is silent while Rasa keeps recording the
shopper's messages. Handing back or resolving resumes it.
While holding it, the agent answers the shopper and leaves notes for the team.

Every query takes the agent's stores and filters on them: an agent never
sees, or changes, another store's conversations.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat import replies
from bot.chat.conversations import ChatSession, ConversationService, NewMessage, StoredMessage
from bot.chat.rasa_client import RasaClient
from bot.core.clock import utc_now
from bot.core.db import rows_changed
from bot.core.models import Agent, Conversation, ConversationNote, Escalation, EscalationStatus, Photo, Store
from bot.core.refusals import Refusal
from bot.email.unread_messages import EmailFollowUps
from bot.photos.conversation_photos import photo_json
from bot.support.console_sessions import SignedInAgent
from bot.support.conversation_view import ConversationView, note_json
from bot.support.escalations import ACTIVE_STATUSES

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 2000
MAX_NOTE_CHARS = 4000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class Conflict(Refusal, RuntimeError):
    """The conversation is not in the state the request needs; the message says why."""


class EngineUnavailable(RuntimeError):
    """Rasa did not take the pause or resume; nothing was changed."""


class BadText(Refusal, ValueError):
    """A reply or note that is not text an agent can send."""


def clean_text(text: Any, limit: int) -> str:
    if not isinstance(text, str):
        raise BadText("text_not_string")
    cleaned = _CONTROL.sub("", text).strip()
    if not cleaned:
        raise BadText("text_empty")
    if len(cleaned) > limit:
        raise BadText("text_too_long", limit=limit)
    return cleaned


class HandoffService:
    """Claim, hand back or resolve, reply and note: an agent's changes to one conversation.

    Each looks the conversation up through ``view`` (the agent's stores only), writes the
    transcript through ``conversations``, and pauses or resumes the bot in ``rasa``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        conversations: ConversationService,
        rasa: RasaClient,
        view: ConversationView,
        emails: EmailFollowUps | None = None,
    ) -> None:
        self._sessions = sessions
        #: Queues an email of the reply for a shopper who has left the page (None: email is off).
        self._emails = emails
        self._conversations = conversations
        self._rasa = rasa
        self._view = view

    # --- taking over and giving back ---

    async def claim(self, agent: SignedInAgent, conversation_id: str) -> None:
        """Take the conversation over: only one agent ever wins, and the bot goes quiet."""
        now = utc_now()
        async with self._sessions() as session, session.begin():
            conversation = await self._view.locate(session, agent, conversation_id)
            won = await session.execute(
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.store_id == conversation.store_id,
                    Conversation.handled_by.is_(None),
                )
                .values(handled_by=agent.id, handled_since=now)
                .execution_options(synchronize_session=False)
            )
            if rows_changed(won) != 1:
                holder = await session.scalar(
                    select(Agent.name)
                    .join(Conversation, Conversation.handled_by == Agent.id)
                    .where(Conversation.id == conversation_id)
                )
                raise Conflict("conversation_claimed_by", holder=holder) if holder else Conflict("conversation_claimed")
            await session.execute(
                update(Escalation)
                .where(
                    Escalation.conversation_id == conversation_id,
                    Escalation.store_id == conversation.store_id,
                    Escalation.status.in_(ACTIVE_STATUSES),
                )
                .values(status=EscalationStatus.claimed.value, claimed_by=agent.id, claimed_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            store_name = await session.scalar(select(Store.name).where(Store.id == conversation.store_id))
            await self._conversations.append_in(
                session,
                self._chat(conversation),
                [NewMessage("store", f"{agent.name} from {store_name} has joined the chat.")],
            )
            # Inside the transaction: if Rasa refuses, the claim is undone and the bot keeps answering.
            await self._engine(self._rasa.pause(conversation_id))

    async def release(self, agent: SignedInAgent, conversation_id: str, outcome: EscalationStatus) -> None:
        """Hand the conversation back to the bot (``handed_back``) or close its case (``resolved``)."""
        now = utc_now()
        async with self._sessions() as session, session.begin():
            conversation = await self._view.locate(session, agent, conversation_id)
            released = await session.execute(
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.store_id == conversation.store_id,
                    Conversation.handled_by == agent.id,
                )
                .values(handled_by=None, handled_since=None)
                .execution_options(synchronize_session=False)
            )
            if rows_changed(released) != 1:
                raise Conflict("conversation_not_yours")
            await session.execute(
                update(Escalation)
                .where(
                    Escalation.conversation_id == conversation_id,
                    Escalation.store_id == conversation.store_id,
                    Escalation.status.in_(ACTIVE_STATUSES),
                )
                .values(status=outcome.value, closed_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            text = (
                f"{agent.name} has handed you back to the assistant. Ask me anything, or ask for a person again at any time."
                if outcome is EscalationStatus.handed_back
                else f"{agent.name} has marked this resolved. If you need anything else, just write here."
            )
            await self._conversations.append_in(session, self._chat(conversation), [NewMessage("store", text)])
            await self._engine(self._rasa.resume(conversation_id))

    @staticmethod
    async def _engine(call: Any) -> None:
        try:
            await call
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise EngineUnavailable(str(exc)) from exc

    @staticmethod
    def _chat(conversation: Conversation) -> ChatSession:
        return ChatSession(conversation.id, conversation.store_id, conversation.shopper_email)

    # --- writing ---

    async def reply(self, agent: SignedInAgent, conversation_id: str, text: Any) -> tuple[str, StoredMessage]:
        """The agent's answer: into the transcript (the shopper's widget shows it) and Rasa's tracker.
        Returns the conversation's store and the stored message."""
        body = clean_text(text, MAX_REPLY_CHARS)
        return await self._post(agent, conversation_id, NewMessage("agent", body, author=agent.name), body)

    async def ask_for_photos(
        self, agent: SignedInAgent, conversation_id: str, text: Any = None
    ) -> tuple[str, StoredMessage]:
        """One click in the console: a message asking the shopper for more photos, which the widget
        shows with its upload button (``attachment: {"type": "photo_request"}``). ``text``: the
        agent's own words instead of :data:`~bot.chat.replies.AGENT_PHOTO_REQUEST`."""
        body = replies.AGENT_PHOTO_REQUEST if text is None else clean_text(text, MAX_REPLY_CHARS)
        message = NewMessage("agent", body, attachment={"type": "photo_request"}, author=agent.name)
        return await self._post(agent, conversation_id, message, body)

    async def holds(self, agent: SignedInAgent, conversation_id: str) -> str:
        """The conversation's store if the agent holds it, else :class:`Conflict` (checked before a
        photo is decoded; :meth:`send_photo` checks again as it writes)."""
        async with self._sessions() as session:
            conversation = await self._view.locate(session, agent, conversation_id)
            if conversation.handled_by != agent.id:
                raise Conflict("claim_before_reply")
            return conversation.store_id

    async def send_photo(self, agent: SignedInAgent, conversation_id: str, photo: Photo) -> tuple[str, StoredMessage]:
        """The agent's image (a diagram of the right part, say), already kept in the conversation, as
        a message of its own."""
        attachment = {"type": "photos", "photos": [photo_json(photo)]}
        return await self._post(
            agent, conversation_id, NewMessage("agent", "", attachment=attachment, author=agent.name), "[photo]"
        )

    async def _post(
        self, agent: SignedInAgent, conversation_id: str, message: NewMessage, said_to_rasa: str
    ) -> tuple[str, StoredMessage]:
        async with self._sessions() as session, session.begin():
            conversation = await self._view.locate(session, agent, conversation_id)
            # Locks the row on PostgreSQL, so a concurrent hand-back cannot slip in between.
            holder = await session.scalar(
                select(Conversation.handled_by).where(Conversation.id == conversation_id).with_for_update()
            )
            if holder != agent.id:
                raise Conflict("claim_before_reply")
            chat = self._chat(conversation)
            [stored] = await self._conversations.append_in(session, chat, [message])
            if self._emails is not None:
                # In the same transaction: the reply and its email job are stored together, or neither.
                await self._emails.after_stored(session, chat, [stored], "agent_reply")
        try:
            await self._rasa.append_events(
                conversation_id,
                [{"event": "bot", "text": said_to_rasa, "metadata": {"agent": agent.name, "agent_id": agent.id}}],
            )
        except (TimeoutError, aiohttp.ClientError):
            # The shopper has it (the transcript is what the widget shows); Rasa's copy is history only.
            log.warning("Rasa did not record agent reply in %s", conversation_id, exc_info=True)
        return conversation.store_id, stored

    async def note(self, agent: SignedInAgent, conversation_id: str, text: Any) -> tuple[str, dict[str, Any]]:
        """An internal note (never in the shopper's transcript); returns the store and the note."""
        body = clean_text(text, MAX_NOTE_CHARS)
        async with self._sessions() as session, session.begin():
            conversation = await self._view.locate(session, agent, conversation_id)
            note = ConversationNote(
                store_id=conversation.store_id,
                conversation_id=conversation_id,
                agent_id=agent.id,
                author=agent.name,
                text=body,
            )
            session.add(note)
            await session.flush()
            return conversation.store_id, note_json(note)
