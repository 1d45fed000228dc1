"""Issue 13, item 6 (the chat's side, in-process): a shopper's message the assistant cannot
answer gets an honest answer in the transcript, and is queued to be asked again; never
silence, never a bare error.

Rasa here is unreachable (nothing listens on its port). The end-to-end test with the real
Rasa and a killed action server is ``tests/security/test_no_lost_replies.py``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat import replies
from bot.chat.unanswered import UNANSWERED_TURN
from bot.core.clock import utc_now
from bot.core.models import JobStatus, ScheduledJob
from tests.engine import free_port
from tests.security.conftest import GatewayFactory

STORE = "yangteng-auto"


async def _chat(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = await client.post(f"/api/v1/stores/{STORE}/conversations", json={})
    assert response.status == 201
    return await response.json()


async def _unanswered(sessions: async_sessionmaker[AsyncSession]) -> list[ScheduledJob]:
    async with sessions() as session:
        return list((await session.scalars(select(ScheduledJob).where(ScheduledJob.kind == UNANSWERED_TURN))).all())


async def test_a_message_rasa_cannot_answer_gets_the_honest_answer_and_is_queued_again(
    gateway: GatewayFactory, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = await gateway(RASA_PORT=str(free_port()))
    chat = await _chat(client)
    headers = {"Authorization": f"Bearer {chat['token']}"}
    before = utc_now()
    response = await client.post(
        f"/api/v1/conversations/{chat['conversation_id']}/messages", json={"text": "where is my order?"}, headers=headers
    )
    assert response.status == 200  # was 502, with nothing in the transcript for the shopper to read
    messages = (await response.json())["messages"]
    assert [(m["sender"], m["text"]) for m in messages] == [
        ("shopper", "where is my order?"),
        ("bot", replies.ASSISTANT_SILENT),
    ]
    stored = await client.get(f"/api/v1/conversations/{chat['conversation_id']}/messages", headers=headers)
    assert [m["text"] for m in (await stored.json())["messages"]] == ["where is my order?", replies.ASSISTANT_SILENT]

    [job] = await _unanswered(demo_sessions)
    assert job.store_id == STORE and job.status == JobStatus.pending.value
    assert job.payload["conversation_id"] == chat["conversation_id"] and job.payload["seq"] == messages[0]["seq"]
    assert job.payload["text"] == "where is my order?" and job.payload["metadata"]["store_id"] == STORE
    assert before <= job.due_at <= utc_now() + dt.timedelta(seconds=10)  # asked again within seconds


async def test_over_the_websocket_too(gateway: GatewayFactory, demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    client = await gateway(RASA_PORT=str(free_port()))
    chat = await _chat(client)
    ws = await client.ws_connect(f"/api/v1/conversations/{chat['conversation_id']}/ws?token={chat['token']}&after=0")
    try:
        await ws.send_json({"text": "hello"})
        seen: list[tuple[str, str]] = []
        while len(seen) < 2:
            frame = await ws.receive_json(timeout=10)
            assert frame["type"] != "error", (
                frame
            )  # was {"type": "error", "error": "the assistant is not answering right now"}
            if frame["type"] == "message":
                seen.append((frame["message"]["sender"], frame["message"]["text"]))
        assert seen == [("shopper", "hello"), ("bot", replies.ASSISTANT_SILENT)]
    finally:
        await ws.close()
    assert len(await _unanswered(demo_sessions)) == 1
