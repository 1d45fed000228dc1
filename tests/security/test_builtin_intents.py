"""Issue 13, items 2 and 3: shoppers cannot send Rasa's built-in intents, nor any
"/intent{...}" that is not a button the bot offered in their conversation.

Rasa strips a message (every Unicode space) and reads anything then starting with "/"
as an intent, its name stripped again: so "/ EXTERNAL_x", "/\\tRestart" and "  /restart"
are intents too. ``/restart`` wiped the identity check's counter; ``/ EXTERNAL_…`` (item 3)
re-sent a delivery confirmation. A refused message is a 400 (a websocket error frame),
and nothing is stored or sent to Rasa: the gateway checks before it stores, and it
stores before it sends.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ChatSession, ConversationService, NewMessage
from bot.core.models import Agent, Conversation
from bot.runtime.stack import free_port
from bot.web.turns import intent_named, parse_shopper_input
from tests.security.conftest import GatewayFactory

STORE = "yangteng-auto"
DELIVERED = '{"tracking_number": "9400111899223100000000"}'
ORDER_BUTTON = {"title": "FZ-20931 · 2026-11-20 · Oil pan gasket", "payload": '/inform{"order_id":"FZ-20931"}'}
PERSON_BUTTON = {"title": "Talk to a person", "payload": "/request_human"}

#: Rasa's own intents and external intents, however they are spaced or cased.
BUILT_IN = [
    "/restart",
    "/Restart",
    "/RESTART",
    "  /restart",
    "\n/restart",
    "\u3000/restart",
    "/ restart",
    "/\tRestart",
    "/restart ",
    "/re start",
    "/back",
    "/ back",
    "/session_start",
    "/Session_Start{}",
    "/out_of_scope",
    "/nlu_fallback",
    "/EXTERNAL_package_delivered" + DELIVERED,
    "/external_package_delivered",
    "/ EXTERNAL_package_delivered" + DELIVERED,
    "/\tEXTERNAL_package_delivered" + DELIVERED,
    "/ \t external_review_due",
    "/EXTERNAL_x",
    "/ EXTERNAL_x@0.99",
]
#: Intents a shopper was never offered a button for, and typed text that Rasa would read as an intent.
NOT_OFFERED = [
    "/greet",
    "/track_order",
    "/request_human",
    '/inform{"order_id":"FZ-20931"}',
    '/leave_review{"rating":"5"}',
    "/help",
    "/",
    "/ ",
    " / what",
    '/inform{"order_id":"FZ-20932"}',
]


@pytest.fixture
async def client(gateway: GatewayFactory) -> TestClient:
    # Nothing listens on Rasa's port: a message that got through would not be answered,
    # and every refused one must be refused before anyone is asked.
    return await gateway(RASA_PORT=str(free_port()), RATE_LIMIT_CONVERSATION_PER_MINUTE="1000")


async def start(client: TestClient) -> tuple[str, dict[str, str]]:
    response = await client.post(f"/api/v1/stores/{STORE}/conversations", json={})
    assert response.status == 201
    data = await response.json()
    return data["conversation_id"], {"Authorization": f"Bearer {data['token']}"}


async def transcript(client: TestClient, conversation: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/conversations/{conversation}/messages", headers=auth)
    assert response.status == 200
    return (await response.json())["messages"]


async def offer(sessions: async_sessionmaker[AsyncSession], conversation: str, *buttons: dict[str, str]) -> None:
    """The bot offers buttons, as Rasa's replies (or the worker's messages) are stored."""
    await ConversationService(sessions).append(
        ChatSession(conversation, STORE, None), [NewMessage("bot", "Which one?", list(buttons))]
    )


@pytest.mark.parametrize("message", BUILT_IN)
def test_rasa_reads_these_as_built_in_intents_and_the_parser_refuses_them(message: str) -> None:
    name = intent_named(message)
    assert name is not None and (
        name in {"restart", "back", "session_start", "out_of_scope", "nlu_fallback"} or name.startswith("external_")
    )
    for field in ("text", "payload"):
        with pytest.raises(ValueError, match="cannot be sent from the chat"):
            parse_shopper_input({field: message})


@pytest.mark.parametrize("words", ["where is my order / FZ-20931", "1/2 inch bolt", "and/or", "restart"])
def test_words_with_a_slash_elsewhere_are_words(words: str) -> None:
    assert intent_named(words) is None
    assert parse_shopper_input({"text": words}).for_rasa == words


@pytest.mark.parametrize("field", ["text", "payload"])
async def test_built_in_intents_are_refused_over_http_and_nothing_is_stored(
    client: TestClient, demo_sessions: async_sessionmaker[AsyncSession], field: str
) -> None:
    conversation, auth = await start(client)
    # Even a (hypothetical) button carrying one does not let it through.
    await offer(demo_sessions, conversation, {"title": "Start over", "payload": "/restart"}, PERSON_BUTTON)
    before = await transcript(client, conversation, auth)
    for message in BUILT_IN:
        response = await client.post(f"/api/v1/conversations/{conversation}/messages", json={field: message}, headers=auth)
        assert response.status == 400, message
        assert (await response.json())["error"] == "this intent cannot be sent from the chat"
    assert await transcript(client, conversation, auth) == before


@pytest.mark.parametrize("field", ["text", "payload"])
async def test_only_a_button_offered_in_this_conversation_is_taken(
    client: TestClient, demo_sessions: async_sessionmaker[AsyncSession], field: str
) -> None:
    conversation, auth = await start(client)
    elsewhere, _ = await start(client)
    await offer(demo_sessions, elsewhere, ORDER_BUTTON, PERSON_BUTTON)  # offered in another conversation only
    for message in NOT_OFFERED:
        response = await client.post(f"/api/v1/conversations/{conversation}/messages", json={field: message}, headers=auth)
        assert response.status == 400, message
        error = (await response.json())["error"]
        assert error == 'a message can start with "/" only as one of the buttons the assistant offered in this chat' or (
            field == "payload" and message.strip() in ("/", "/ ")  # nothing after the slash
        ), (message, error)
    assert await transcript(client, conversation, auth) == []

    # Once the bot offered them here, exactly those payloads go through (and are stored).
    await offer(demo_sessions, conversation, ORDER_BUTTON, PERSON_BUTTON)
    for button in (ORDER_BUTTON, PERSON_BUTTON):
        body = (
            {"payload": button["payload"], "title": button["title"]} if field == "payload" else {"text": button["payload"]}
        )
        response = await client.post(f"/api/v1/conversations/{conversation}/messages", json=body, headers=auth)
        assert response.status != 400, await response.text()
    shown = [m["text"] for m in await transcript(client, conversation, auth) if m["sender"] == "shopper"]
    assert shown == (
        [ORDER_BUTTON["title"], PERSON_BUTTON["title"]]
        if field == "payload"
        else [ORDER_BUTTON["payload"], PERSON_BUTTON["payload"]]
    )
    # Another order's number in the same button's shape is still refused.
    response = await client.post(
        f"/api/v1/conversations/{conversation}/messages", json={field: '/inform{"order_id":"FZ-20412"}'}, headers=auth
    )
    assert response.status == 400


async def test_websocket_frames_are_checked_the_same_way(
    client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    conversation, auth = await start(client)
    token = auth["Authorization"].removeprefix("Bearer ")
    await offer(demo_sessions, conversation, PERSON_BUTTON)
    before = await transcript(client, conversation, auth)
    async with client.ws_connect(f"/api/v1/conversations/{conversation}/ws?token={token}") as ws:
        for frame in [
            {"text": "/ EXTERNAL_package_delivered" + DELIVERED},
            {"payload": "/\tRestart"},
            {"text": "/session_start"},
            {"payload": "/greet"},
            {"text": '/inform{"order_id":"FZ-20931"}'},
        ]:
            await ws.send_json(frame)
            answer = await ws.receive_json(timeout=30)
            while answer.get("type") == "typing":
                answer = await ws.receive_json(timeout=30)
            assert answer["type"] == "error", (frame, answer)
    assert await transcript(client, conversation, auth) == before


async def test_a_conversation_a_person_holds_is_checked_the_same_way(
    client: TestClient, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """While an agent holds the chat, the gateway writes the shopper's words into Rasa's
    tracker as events (never answered by the bot): a "/restart" there would still reset it."""
    conversation, auth = await start(client)
    async with demo_sessions() as session, session.begin():
        agent = Agent(email="holder@example.com", name="Holder", password_hash="not-a-real-hash")
        session.add(agent)
        await session.flush()
        await session.execute(update(Conversation).where(Conversation.id == conversation).values(handled_by=agent.id))
    for message in ("/restart", "/ EXTERNAL_package_delivered" + DELIVERED, "/track_order"):
        response = await client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": message}, headers=auth)
        assert response.status == 400, message
    assert await transcript(client, conversation, auth) == []
    # Plain words still reach the person.
    response = await client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "hello?"}, headers=auth)
    assert response.status == 200
    assert [m["text"] for m in await transcript(client, conversation, auth)] == ["hello?"]
