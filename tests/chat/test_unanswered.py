"""The worker's side of an unanswered shopper message (bot/chat/unanswered.py), on SQLite and PostgreSQL:
asked again until answered, never after the conversation moved on, never answered twice."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat import replies
from bot.chat.conversations import ChatSession, ConversationService, NewMessage
from bot.chat.rasa_client import RETRY_METADATA
from bot.chat.unanswered import FIRST_RETRY, UNANSWERED_TURN, UnansweredTurns
from bot.core.clock import utc_now
from bot.core.jobs import FAILURE_NO_REPLY, JobQueue
from bot.core.models import Agent, Conversation, JobStatus, ScheduledJob
from bot.runtime.worker import Worker
from bot.shipping.deliveries import DeliveryNotices
from bot.support.accounts import AgentAccounts

STORE = "yangteng-auto"


class ShopperRasa:
    """The REST channel as the worker sees it; ``silent`` while an action fails."""

    def __init__(self, silent: bool = False) -> None:
        self.silent = silent
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.tracker: list[dict[str, Any]] = []

    async def send_message(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        self.sent.append((text, metadata))
        self.tracker.append({"event": "user", "text": text, "metadata": metadata})
        said = [] if self.silent else [f"the answer to {text!r}"]
        self.tracker.extend({"event": "bot", "text": t, "data": {"buttons": None}} for t in said)
        return [{"recipient_id": conversation_id, "text": t} for t in said]

    async def events(self, conversation_id: str) -> list[dict[str, Any]]:
        return list(self.tracker)


async def unanswered(sessions: async_sessionmaker[AsyncSession], text: str = "where is my order?") -> ChatSession:
    """A shopper wrote, and the gateway got no answer: what ``ChatTurns`` does then."""
    service = ConversationService(sessions)
    chat = await service.for_shopper(STORE, "alex@example.com")
    [said] = await service.append(chat, [NewMessage("shopper", text)])
    told = await UnansweredTurns(sessions).hold(chat, said.seq, text, {"store_id": STORE, "client_key": "203.0.113.7"})
    assert [(m.sender, m.text) for m in told] == [("bot", replies.ASSISTANT_SILENT)]
    return chat


async def run_due(sessions: async_sessionmaker[AsyncSession], rasa: ShopperRasa, later: int = 0) -> ScheduledJob:
    """Run the due unanswered_turn job ``later`` seconds after its due time; returns its row after."""
    async with sessions() as session:
        due = await session.scalar(select(ScheduledJob.due_at).where(ScheduledJob.kind == UNANSWERED_TURN))
    queue = JobQueue(sessions, "w1", clock=lambda: due)
    turns = UnansweredTurns(sessions, rasa)  # type: ignore[arg-type]
    worker = Worker(queue, DeliveryNotices(sessions, rasa), unanswered=turns)  # type: ignore[arg-type]
    [job] = await queue.claim()
    await worker.run_job(job)
    async with sessions() as session:
        return await session.scalar(select(ScheduledJob).where(ScheduledJob.id == job.id))


async def transcript(sessions: async_sessionmaker[AsyncSession], chat: ChatSession) -> list[tuple[str, str]]:
    return [(m.sender, m.text) for m in await ConversationService(sessions).messages_after(chat)]


async def test_the_message_is_asked_again_until_answered_and_the_answer_joins_the_transcript(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    chat = await unanswered(demo_sessions)
    async with demo_sessions() as session:
        job = await session.scalar(select(ScheduledJob).where(ScheduledJob.kind == UNANSWERED_TURN))
    assert job.due_at <= utc_now() + FIRST_RETRY

    rasa = ShopperRasa(silent=True)  # the action server is still down
    row = await run_due(demo_sessions, rasa)
    assert row.status == JobStatus.pending.value and row.failure_reason == FAILURE_NO_REPLY
    rasa.silent = False  # back
    row = await run_due(demo_sessions, rasa)
    assert row.status == JobStatus.done.value
    assert await transcript(demo_sessions, chat) == [
        ("shopper", "where is my order?"),
        ("bot", replies.ASSISTANT_SILENT),
        ("bot", "the answer to 'where is my order?'"),
    ]
    # The same words and the same metadata (the lockouts count the shopper's address), marked as a retry.
    assert [text for text, _ in rasa.sent] == ["where is my order?"] * 2
    assert rasa.sent[-1][1] == {"store_id": STORE, "client_key": "203.0.113.7", RETRY_METADATA: row.key}


async def test_an_answer_rasa_gave_but_was_not_stored_is_not_asked_for_twice(
    demo_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = await unanswered(demo_sessions)
    rasa = ShopperRasa()
    real_append = ConversationService.append_in

    async def failing(session, chat, messages):  # type: ignore[no-untyped-def]
        raise OSError("the database went away")

    monkeypatch.setattr(ConversationService, "append_in", staticmethod(failing))
    assert (await run_due(demo_sessions, rasa)).status == JobStatus.pending.value
    monkeypatch.setattr(ConversationService, "append_in", staticmethod(real_append))
    assert (await run_due(demo_sessions, rasa)).status == JobStatus.done.value
    assert len(rasa.sent) == 1
    assert (await transcript(demo_sessions, chat))[-1] == ("bot", "the answer to 'where is my order?'")


async def test_a_conversation_that_moved_on_is_not_asked_again(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await unanswered(demo_sessions)
    await ConversationService(demo_sessions).append(chat, [NewMessage("shopper", "hello?"), NewMessage("bot", "Hi!")])
    rasa = ShopperRasa()
    assert (await run_due(demo_sessions, rasa)).status == JobStatus.done.value
    assert rasa.sent == []


async def test_a_conversation_a_person_holds_is_not_asked_again(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await unanswered(demo_sessions)
    await AgentAccounts(demo_sessions).add("lin@yangteng.example", "Lin", "a-long-password", [STORE])
    async with demo_sessions() as session, session.begin():
        agent_id = await session.scalar(select(Agent.id).where(Agent.email == "lin@yangteng.example"))
        await session.execute(
            update(Conversation).where(Conversation.id == chat.conversation_id).values(handled_by=agent_id)
        )
    rasa = ShopperRasa()
    assert (await run_due(demo_sessions, rasa)).status == JobStatus.done.value
    assert rasa.sent == []  # the person reads the message themselves
