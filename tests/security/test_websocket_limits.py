"""Issue 13, item 9: websockets are bounded.

A gateway keeps at most a few sockets per conversation and per client address and closes
the others with code 4429; a socket opened without ``after`` starts from one ``last_seq``
read, never the whole transcript; GET messages comes in pages; and an idle socket makes no
database queries: messages written by other processes are pushed through the process's one
watcher (PostgreSQL LISTEN/NOTIFY; on SQLite one shared query a second for all sockets).
SQLite and PostgreSQL (the ``demo_sessions`` fixture behind the in-process ``gateway``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from sqlalchemy import event, insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ChatSession, ConversationService, NewMessage
from bot.core.clock import utc_now
from bot.core.db import create_engine, create_sessionmaker
from bot.core.models import Conversation, Message
from bot.web.live import TOO_MANY_SOCKETS
from tests.security.conftest import GatewayFactory

STORE = "yangteng-auto"


async def start(client: TestClient) -> tuple[str, str]:
    response = await client.post(f"/api/v1/stores/{STORE}/conversations", json={})
    assert response.status == 201
    body = await response.json()
    return body["conversation_id"], body["token"]


async def open_socket(
    client: TestClient, conversation: str, token: str, query: str = "", **headers: str
) -> aiohttp.ClientWebSocketResponse:
    return await client.ws_connect(f"/api/v1/conversations/{conversation}/ws?token={token}{query}", headers=headers)


async def is_served(ws: aiohttp.ClientWebSocketResponse) -> bool:
    """True if the server kept the socket (it answers a frame), False if it closed it with 4429."""
    await ws.send_str("not json")  # answered by the socket's own loop, without the assistant
    frame = await asyncio.wait_for(ws.receive(), 10)
    if frame.type == aiohttp.WSMsgType.TEXT:
        assert frame.json() == {"type": "error", "error": "frames must be JSON", "code": "frame_not_json", "params": {}}
        return True
    assert frame.type == aiohttp.WSMsgType.CLOSE, frame
    assert frame.data == TOO_MANY_SOCKETS and "too many open connections" in frame.extra
    return False


@contextmanager
def statements(sessions: async_sessionmaker[AsyncSession]) -> Iterator[list[str]]:
    """Every SQL statement the gateway's engine runs inside the block."""
    seen: list[str] = []
    engine = sessions.kw["bind"].sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def next_message(ws: aiohttp.ClientWebSocketResponse, timeout: float = 10) -> dict[str, Any]:
    while True:
        frame = await asyncio.wait_for(ws.receive_json(), timeout)
        if frame["type"] == "message":
            return frame["message"]


# --- caps ---


async def test_sockets_are_capped_per_conversation_and_per_address_with_close_code_4429(gateway: GatewayFactory) -> None:
    client = await gateway(WEBSOCKETS_PER_CONVERSATION="3", WEBSOCKETS_PER_ADDRESS="5", TRUSTED_PROXIES="127.0.0.1")
    conversation, token = await start(client)
    sockets = [await open_socket(client, conversation, token) for _ in range(3)]
    assert [await is_served(ws) for ws in sockets] == [True, True, True]
    fourth = await open_socket(client, conversation, token)
    assert not await is_served(fourth)
    assert fourth.close_code == TOO_MANY_SOCKETS
    # A closed socket gives its place back.
    await sockets.pop().close()
    await asyncio.sleep(0.2)
    sockets.append(await open_socket(client, conversation, token))
    assert await is_served(sockets[-1])

    # Per address: 3 on the first conversation + 2 elsewhere, then no more from this address...
    for _ in range(2):
        other, other_token = await start(client)
        sockets.append(await open_socket(client, other, other_token))
        assert await is_served(sockets[-1])
    last, last_token = await start(client)
    assert not await is_served(await open_socket(client, last, last_token))
    # ...while another shopper (another address behind the trusted proxy) is served.
    elsewhere = await open_socket(client, last, last_token, **{"X-Forwarded-For": "203.0.113.9"})
    assert await is_served(elsewhere)
    for ws in sockets + [elsewhere]:
        await ws.close()


# --- the history ---


async def test_a_socket_without_after_never_loads_the_transcript_and_get_pages(
    gateway: GatewayFactory, demo_sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    client = await gateway()
    conversation, token = await start(client)
    count = 3_000
    async with demo_sessions() as session, session.begin():
        await session.execute(
            insert(Message),
            [
                {
                    "store_id": STORE,
                    "conversation_id": conversation,
                    "seq": n,
                    "sender": "bot",
                    "text": f"message {n}",
                    "buttons": [],
                    "created_at": utc_now(),
                }
                for n in range(1, count + 1)
            ],
        )
        await session.execute(update(Conversation).where(Conversation.id == conversation).values(last_seq=count))

    with statements(demo_sessions) as run:
        ws = await open_socket(client, conversation, token)
        assert await is_served(ws)
    assert not [s for s in run if "FROM messages" in s], run

    # A message stored by another process (the worker, on its own engine) is the only one pushed.
    worker_engine = create_engine(database_url)
    try:
        worker = ConversationService(create_sessionmaker(worker_engine))
        await worker.append(ChatSession(conversation, STORE, None), [NewMessage("store", "Your parcel was delivered!")])
    finally:
        await worker_engine.dispose()
    pushed = await next_message(ws)
    assert (pushed["seq"], pushed["text"]) == (count + 1, "Your parcel was delivered!")
    await ws.close()

    # GET comes in pages: 200 by default, up to 500, each saying where the next starts.
    auth = {"Authorization": f"Bearer {token}"}
    first = await (await client.get(f"/api/v1/conversations/{conversation}/messages", headers=auth)).json()
    assert [m["seq"] for m in first["messages"]] == list(range(1, 201)) and first["next_after"] == 200
    seqs: list[int] = []
    after: int | None = 0
    while after is not None:
        page = await (
            await client.get(f"/api/v1/conversations/{conversation}/messages?after={after}&limit=500", headers=auth)
        ).json()
        assert len(page["messages"]) <= 500
        seqs += [m["seq"] for m in page["messages"]]
        after = page["next_after"]
    assert seqs == list(range(1, count + 2))
    for bad in ("limit=0", "limit=501", "limit=x", "limit=99999999999999999999999"):
        response = await client.get(f"/api/v1/conversations/{conversation}/messages?{bad}", headers=auth)
        assert response.status == 400, bad
        assert "error" in await response.json()


# --- pushes without polling ---


async def test_idle_sockets_make_no_queries_and_other_processes_messages_are_pushed(
    gateway: GatewayFactory, demo_sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    client = await gateway()
    sockets: list[tuple[str, str, aiohttp.ClientWebSocketResponse]] = []
    for _ in range(10):
        conversation, token = await start(client)
        ws = await open_socket(client, conversation, token)
        assert await is_served(ws)
        sockets.append((conversation, token, ws))
    await asyncio.sleep(1.5)  # the watcher is up

    idle_seconds = 4.0
    with statements(demo_sessions) as run:
        await asyncio.sleep(idle_seconds)
    if demo_sessions.kw["bind"].dialect.name == "postgresql":
        assert run == []  # LISTEN/NOTIFY: nothing at all
    else:
        # One shared query a second for all ten sockets, and none of their own.
        assert 1 <= len(run) <= idle_seconds + 1, run
        assert all(s.startswith("SELECT conversations.id, conversations.last_seq") for s in run), run

    # Another process writes to one conversation: that socket alone reads, and gets it.
    conversation, token, ws = sockets[3]
    worker_engine = create_engine(database_url)
    try:
        worker = ConversationService(create_sessionmaker(worker_engine))
        with statements(demo_sessions) as run:
            await worker.append(
                ChatSession(conversation, STORE, None), [NewMessage("agent", "Hello, Kim here", author="Kim")]
            )
            pushed = await next_message(ws)
            await asyncio.sleep(0.5)
    finally:
        await worker_engine.dispose()
    assert (pushed["sender"], pushed["text"]) == ("agent", "Hello, Kim here")
    assert len([s for s in run if "FROM messages" in s]) == 1, run
    for _, _, other in sockets:
        await other.close()
