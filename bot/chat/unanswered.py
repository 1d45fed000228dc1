"""A shopper's message the assistant did not answer: said so honestly, and asked again.

Rasa answers 200 with no messages when a custom action fails (the action server is down, a
database error), and cannot answer at all when it is down itself. Every shopper turn that
reaches Rasa has an answer otherwise (each rule and story ends with the bot speaking; a
conversation a person holds never reaches Rasa's prediction), so an empty answer is a failure.

The shopper's message is already in the transcript. The gateway then stores
:data:`bot.chat.replies.ASSISTANT_SILENT` as the bot's message and queues an ``unanswered_turn`` job
in the same transaction. The worker sends the message to Rasa again, with the job queue's
back-off, and the answer joins the transcript, unless the conversation has moved on meanwhile:
the shopper wrote again (that newer message got its own answer), or a person took it over
(they read the message themselves). After the last attempt the job is failed and the store's
seller sees it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat import replies
from bot.chat.conversations import ChatSession, ConversationService, NewMessage, StoredMessage
from bot.chat.rasa_client import RETRY_METADATA, RasaClient, replies_after, sent_again_by, transcript_message
from bot.core.clock import utc_now
from bot.core.jobs import Job, JobQueue, NoReply, enqueue
from bot.core.models import Conversation, Message, MessageSender

#: Job kind: one shopper message to send to the assistant again.
UNANSWERED_TURN = "unanswered_turn"
#: The first retry comes this soon: most outages are a restarting process.
FIRST_RETRY = dt.timedelta(seconds=3)


class UnansweredTurns:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], rasa: RasaClient | None = None) -> None:
        self._sessions = sessions
        self._rasa = rasa

    async def hold(
        self, chat: ChatSession, shopper_seq: int, for_rasa: str, metadata: dict[str, Any]
    ) -> list[StoredMessage]:
        """The gateway's side: tell the shopper, and queue the message to be asked again, in one transaction."""
        async with self._sessions() as session, session.begin():
            told = await ConversationService.append_in(session, chat, [NewMessage("bot", replies.ASSISTANT_SILENT)])
            await enqueue(
                session,
                chat.store_id,
                UNANSWERED_TURN,
                f"{UNANSWERED_TURN}:{chat.conversation_id}:{shopper_seq}",
                {"conversation_id": chat.conversation_id, "seq": shopper_seq, "text": for_rasa, "metadata": metadata},
                utc_now() + FIRST_RETRY,
            )
        return told

    async def answer(self, job: Job, queue: JobQueue) -> int:
        """The worker's side: ask again; returns how many answers reached the transcript."""
        assert self._rasa is not None, "the worker's UnansweredTurns needs the Rasa client"
        conversation_id, seq = job.payload["conversation_id"], job.payload["seq"]
        async with self._sessions() as session:
            conversation = await session.scalar(
                select(Conversation).where(Conversation.id == conversation_id, Conversation.store_id == job.store_id)
            )
            newer = await session.scalar(
                select(Message.seq)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.store_id == job.store_id,
                    Message.sender == MessageSender.shopper.value,
                    Message.seq > seq,
                )
                .limit(1)
            )
        if conversation is None or conversation.handled_by is not None or newer is not None:
            await queue.finish(job)  # gone, with a person, or moved on: nothing to ask again
            return 0
        chat = ChatSession(conversation.id, conversation.store_id, conversation.shopper_email)
        answers = None
        if job.attempts > 1:
            # An earlier attempt may have reached Rasa, which answered, and then failed to store it.
            answers = replies_after(await self._rasa.events(conversation_id), sent_again_by(job.key)) or None
        if answers is None:
            metadata = {**job.payload.get("metadata", {}), RETRY_METADATA: job.key}
            answers = await self._rasa.send_message(conversation_id, job.payload["text"], metadata)
        messages = [transcript_message(reply) for reply in answers if isinstance(reply, dict)]
        if not messages:
            raise NoReply(f"the shopper's message {seq} in {conversation_id} is still unanswered")
        async with self._sessions() as session, session.begin():
            stored = await ConversationService.append_in(session, chat, messages)
            await queue.finish(job, session)
        return len(stored)
