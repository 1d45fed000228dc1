"""The public chat API, through aiohttp's test client, against a real Rasa
server and a real action server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jsonschema
import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate as validate_spec

from bot.chat.conversations import ConversationService, NewMessage
from bot.chat.shopper_signatures import sign_shopper
from bot.core.clock import utc_now
from bot.core.config import Settings
from bot.core.db import create_engine, create_sessionmaker
from bot.runtime.stack import Stack
from bot.web.app import create_app
from bot.web.public_files import OPENAPI
from tests.conftest import signed_shopper

pytestmark = pytest.mark.engine

STORE = "yangteng-auto"
SPEC = yaml.safe_load(OPENAPI.read_text())


def _schema(name: str) -> dict[str, Any]:
    """A component schema with its references resolvable, as JSON Schema."""
    schema = dict(SPEC["components"]["schemas"][name])
    schema["components"] = SPEC["components"]
    return schema


def conforms(body: Any, schema_name: str) -> None:
    # OpenAPI 3.0 "nullable" is not JSON Schema; map it before validating.
    jsonschema.validate(body, _nullable_to_json_schema(_schema(schema_name)))


def _nullable_to_json_schema(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _nullable_to_json_schema(v) for k, v in node.items()}
        if node.pop("nullable", False):
            return {"anyOf": [{"type": "null"}, node]}
        return node
    if isinstance(node, list):
        return [_nullable_to_json_schema(v) for v in node]
    return node


@pytest.fixture
async def sessions(engine: tuple[Stack, Settings]):  # type: ignore[no-untyped-def]
    db = create_engine(engine[1].database_url)
    yield create_sessionmaker(db)
    await db.dispose()


async def _client(settings: Settings, sessions) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(TestServer(create_app(settings, sessions)))
    await client.start_server()
    return client


@pytest.fixture
async def client(engine: tuple[Stack, Settings], sessions) -> AsyncIterator[TestClient]:  # type: ignore[no-untyped-def]
    client = await _client(engine[1], sessions)
    yield client
    await client.close()


async def start(client: TestClient, store: str = STORE, **body: Any) -> tuple[str, dict[str, str]]:
    response = await client.post(f"/api/v1/stores/{store}/conversations", json=body)
    assert response.status == 201, await response.text()
    data = await response.json()
    assert len(data["conversation_id"]) >= 20 and len(data["token"]) >= 32
    return data["conversation_id"], {"Authorization": f"Bearer {data['token']}"}


async def say(client: TestClient, conversation: str, auth: dict[str, str], **body: Any) -> list[dict[str, Any]]:
    response = await client.post(f"/api/v1/conversations/{conversation}/messages", json=body, headers=auth)
    assert response.status == 200, await response.text()
    data = await response.json()
    conforms(data, "MessageList")
    return data["messages"]


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)


async def _secret(sessions, store: str = STORE) -> str:  # type: ignore[no-untyped-def]
    secret = await ConversationService(sessions).shopper_secret(store)
    assert secret
    return secret


# --- the document ---


def test_openapi_document_is_valid() -> None:
    validate_spec(SPEC)


async def test_every_api_route_is_documented_and_every_documented_route_exists(client: TestClient) -> None:
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith(("/api/", "/webhooks/"))
        and route.method != "HEAD"
    }
    documented = {
        (method, path)
        for path, item in SPEC["paths"].items()
        for method in item
        if method in ("get", "post", "patch", "put", "delete")
    }
    assert served == documented


# --- conversations and tokens ---


async def test_unknown_store_is_404(client: TestClient) -> None:
    response = await client.post("/api/v1/stores/no-such-store/conversations", json={})
    assert response.status == 404
    conforms(await response.json(), "Error")


async def test_bad_signature_is_401(client: TestClient, sessions) -> None:  # type: ignore[no-untyped-def]
    secret = await _secret(sessions)
    forged = signed_shopper(secret + "x", "alex@example.com")
    response = await client.post(f"/api/v1/stores/{STORE}/conversations", json={"shopper": forged})
    assert response.status == 401
    assert (await response.json())["error"] == "the shopper signature is not valid"
    # A valid signature for another email does not carry over either.
    other = signed_shopper(secret, "mallory@example.com")
    response = await client.post(
        f"/api/v1/stores/{STORE}/conversations", json={"shopper": {**other, "email": "alex@example.com"}}
    )
    assert response.status == 401


async def test_a_signature_of_another_store_is_refused(client: TestClient, sessions) -> None:  # type: ignore[no-untyped-def]
    other_store_secret = await _secret(sessions, "bloomkids-baby")
    response = await client.post(
        f"/api/v1/stores/{STORE}/conversations", json={"shopper": signed_shopper(other_store_secret, "alex@example.com")}
    )
    assert response.status == 401


async def test_bad_token_is_401_everywhere(client: TestClient) -> None:
    conversation, auth = await start(client)
    other, other_auth = await start(client)
    wrong = [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": auth["Authorization"].replace("Bearer", "Basic")},
        other_auth,
    ]
    for headers in wrong:
        response = await client.get(f"/api/v1/conversations/{conversation}/messages", headers=headers)
        assert response.status == 401, headers
        conforms(await response.json(), "Error")
        response = await client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "hi"}, headers=headers)
        assert response.status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(f"/api/v1/conversations/{conversation}/ws?token=nope")
    assert refused.value.status == 401


# --- chatting ---


async def test_where_is_my_order_through_the_gateway(client: TestClient) -> None:
    conversation, auth = await start(client)
    first = await say(client, conversation, auth, text="where is my order FZ-20931?")
    assert [m["sender"] for m in first] == ["shopper", "bot"]
    assert [m["seq"] for m in first] == [1, 2]
    assert first[0]["text"] == "where is my order FZ-20931?"
    answer = await say(client, conversation, auth, text="alex@example.com")
    assert "9400111899223100000000" in texts(answer)

    response = await client.get(f"/api/v1/conversations/{conversation}/messages?after=0", headers=auth)
    page = await response.json()
    conforms(page, "MessagePage")
    history = page["messages"]
    assert page["next_after"] is None  # all of it on one page
    assert [m["seq"] for m in history] == list(range(1, len(history) + 1))
    assert history == first + answer
    later = await client.get(f"/api/v1/conversations/{conversation}/messages?after=2", headers=auth)
    assert (await later.json())["messages"] == answer


async def test_signed_shopper_picks_an_order_with_a_button(client: TestClient, sessions) -> None:  # type: ignore[no-untyped-def]
    shopper = signed_shopper(await _secret(sessions), "alex@example.com")
    conversation, auth = await start(client, shopper=shopper)
    [_, question] = await say(client, conversation, auth, text="where is my order?")
    button = next(b for b in question["buttons"] if b["title"].startswith("FZ-20931"))
    reply = await say(client, conversation, auth, payload=button["payload"], title=button["title"])
    assert reply[0]["sender"] == "shopper" and reply[0]["text"] == button["title"]
    assert "9400111899223100000000" in texts(reply)
    # The same shopper opening the widget again lands in the same conversation.
    again, again_auth = await start(client, shopper=shopper)
    assert again == conversation and again_auth != auth
    history = await client.get(f"/api/v1/conversations/{again}/messages", headers=again_auth)
    assert len((await history.json())["messages"]) == len(reply) + 2


async def test_an_oversized_message_is_refused_and_nothing_is_stored(client: TestClient) -> None:
    conversation, auth = await start(client)
    response = await client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "x" * 2001}, headers=auth)
    assert response.status == 413
    assert "2,000" in (await response.json())["error"]
    huge = await client.post(
        f"/api/v1/conversations/{conversation}/messages", data=b'{"text": "' + b"y" * 100_000 + b'"}', headers=auth
    )
    assert huge.status == 413
    history = await client.get(f"/api/v1/conversations/{conversation}/messages", headers=auth)
    assert (await history.json())["messages"] == []
    ok = await say(client, conversation, auth, text="x" * 2000)
    assert ok[0]["text"] == "x" * 2000


@pytest.mark.parametrize(
    "body, status",
    [
        (b"not json", 400),
        (b'["a list"]', 400),
        (b'{"text": ""}', 400),
        (b'{"text": "   "}', 400),
        (b'{"text": 5}', 400),
        (b'{"text": "a", "payload": "/greet"}', 400),
        (b'{"payload": "no slash"}', 400),
        (b'{"text": "/EXTERNAL_package_delivered{\\"tracking_number\\": \\"9400111899223100000000\\"}"}', 400),
        (b'{"payload": " /external_package_delivered"}', 400),
    ],
)
async def test_malformed_messages_get_a_clear_400(client: TestClient, body: bytes, status: int) -> None:
    conversation, auth = await start(client)
    response = await client.post(
        f"/api/v1/conversations/{conversation}/messages", data=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status == status
    assert (await response.json())["error"]


async def test_control_characters_are_dropped_before_storage(client: TestClient) -> None:
    conversation, auth = await start(client)
    messages = await say(client, conversation, auth, text="hel\x00lo\x1b[31m\nthere")
    assert messages[0]["text"] == "hello[31m\nthere"


async def test_script_comes_back_as_inert_text(client: TestClient) -> None:
    conversation, auth = await start(client)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = await client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": hostile}, headers=auth)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    messages = (await response.json())["messages"]
    assert messages[0]["text"] == hostile  # stored and returned verbatim, as data
    history = await client.get(f"/api/v1/conversations/{conversation}/messages", headers=auth)
    assert (await history.json())["messages"][0]["text"] == hostile


async def test_rate_limit_per_conversation(engine: tuple[Stack, Settings], sessions) -> None:  # type: ignore[no-untyped-def]
    strict = Settings(**{**engine[1].__dict__, "conversation_messages_per_minute": 6})  # burst of 2
    client = await _client(strict, sessions)
    try:
        conversation, auth = await start(client)
        for _ in range(2):
            await say(client, conversation, auth, text="hello")
        response = await client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "hello"}, headers=auth)
        assert response.status == 429
        assert int(response.headers["Retry-After"]) >= 1
        conforms(await response.json(), "Error")
        # Another conversation is not affected.
        other, other_auth = await start(client)
        await say(client, other, other_auth, text="hello")
    finally:
        await client.close()


async def test_rate_limit_per_ip(engine: tuple[Stack, Settings], sessions) -> None:  # type: ignore[no-untyped-def]
    strict = Settings(**{**engine[1].__dict__, "ip_requests_per_minute": 5})
    client = await _client(strict, sessions)
    try:
        statuses = [(await client.post("/api/v1/stores/no-such-store/conversations", json={})).status for _ in range(6)]
        assert statuses == [404] * 5 + [429]
        response = await client.get("/api/v1/openapi.yaml")
        assert response.status == 429 and response.headers["Retry-After"]
    finally:
        await client.close()


async def test_a_conversation_continues_after_the_gateway_restarts(engine: tuple[Stack, Settings], sessions) -> None:  # type: ignore[no-untyped-def]
    first = await _client(engine[1], sessions)
    conversation, auth = await start(first)
    await say(first, conversation, auth, text="where is my order FZ-20931")
    await first.close()

    second = await _client(engine[1], sessions)  # a new process would see the same database
    try:
        history = await second.get(f"/api/v1/conversations/{conversation}/messages", headers=auth)
        assert [m["sender"] for m in (await history.json())["messages"]] == ["shopper", "bot"]
        answer = await say(second, conversation, auth, text="10027")
        assert "9400111899223100000000" in texts(answer)
        assert answer[0]["seq"] == 3
    finally:
        await second.close()


async def test_cors_preflight_for_embedding_on_store_sites(client: TestClient) -> None:
    response = await client.options(
        f"/api/v1/stores/{STORE}/conversations",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    limited = await client.post(
        "/api/v1/stores/no-such-store/conversations", json={}, headers={"Origin": "https://shop.example"}
    )
    assert "Retry-After" in limited.headers["Access-Control-Expose-Headers"]


# --- the websocket ---


async def _next_message(ws: aiohttp.ClientWebSocketResponse, timeout: float = 20) -> dict[str, Any]:
    while True:
        frame = await asyncio.wait_for(ws.receive_json(), timeout)
        if frame["type"] == "message":
            return frame["message"]


async def test_websocket_pushes_replies_and_messages_from_other_processes(client: TestClient, sessions) -> None:  # type: ignore[no-untyped-def]
    conversation, auth = await start(client)
    token = auth["Authorization"].split()[1]
    async with client.ws_connect(f"/api/v1/conversations/{conversation}/ws?token={token}") as ws:
        await ws.send_json({"type": "message", "text": "hello"})
        shopper = await _next_message(ws)
        assert shopper["sender"] == "shopper" and shopper["text"] == "hello"
        bot = await _next_message(ws)
        assert bot["sender"] == "bot" and bot["seq"] == 2

        # Sent through HTTP by another tab: pushed here too.
        await say(client, conversation, auth, text="thanks")
        assert (await _next_message(ws))["text"] == "thanks"
        await _next_message(ws)

        # Written by another process (an agent, the worker): woken by the process's one watcher.
        service = ConversationService(sessions)
        chat = await service.authenticate(conversation, token)
        assert chat is not None
        await service.append(chat, [NewMessage("store", "Your parcel was delivered!")])
        pushed = await _next_message(ws, timeout=10)
        assert pushed["sender"] == "store" and pushed["text"] == "Your parcel was delivered!"

        await ws.send_str("not json")
        frame = await asyncio.wait_for(ws.receive_json(), 10)
        while frame["type"] == "typing":
            frame = await asyncio.wait_for(ws.receive_json(), 10)
        assert frame == {"type": "error", "error": "frames must be JSON", "code": "frame_not_json", "params": {}}


# --- the demo page and the widget ---


async def test_demo_page_embeds_the_widget_with_a_valid_signed_identity(client: TestClient, sessions) -> None:  # type: ignore[no-untyped-def]
    page = await client.get("/")
    assert page.status == 200
    html = await page.text()
    assert 'src="/widget.js"' in html and 'data-store="yangteng-auto"' in html
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https: blob:;" in page.headers["Content-Security-Policy"]  # the widget's photos
    ts = int(re.search(r'data-shopper-ts="([0-9]+)"', html)[1])  # type: ignore[index]
    assert abs(ts - utc_now().timestamp()) < 60  # signed as the page is made, not once for ever
    signature = sign_shopper(await _secret(sessions), "alex@example.com", ts)
    assert f'data-shopper-signature="{signature}"' in html
    anonymous = await (await client.get("/?shopper=anonymous")).text()
    assert "data-shopper-signature" not in anonymous
    widget = await client.get("/widget.js")
    assert widget.status == 200 and "javascript" in widget.headers["Content-Type"]
