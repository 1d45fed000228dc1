"""Item 7: a lone UTF-16 surrogate ("\\ud800", valid JSON but not text) is refused where it arrives,
with a 400 that names the field, and nothing is stored; what the bot says is cleaned instead.

Every body here is written with ``json.dumps``, which escapes a surrogate exactly as an attacker
would send it (``"\\ud800"``). Before the fix each of these answered 500 (or, for the importer,
stopped the import with a traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ChatSession, ConversationService, NewMessage
from bot.core.db import create_engine, create_sessionmaker
from bot.core.models import Agent, CannedReply, Message, Order, Product, Store, StoreSettingsVersion, TrackingWebhookEvent
from bot.orders.importer import import_lines
from bot.seller.api_tokens import ApiTokens
from bot.seller.store_settings import StoreSettingsService
from bot.seller.templates import store_templates
from bot.shipping.tracking_updates import simple_signature
from tests.engine import bot_cli, engine_settings, running_engine
from tests.security.conftest import GatewayFactory

Sessions = async_sessionmaker[AsyncSession]
STORE = "yangteng-auto"
SKU = "OP-1001"
LONE = "\ud800"
WEBHOOK_SECRET = "text-check-webhook-secret"


def body(value: object) -> dict[str, object]:
    """Request arguments for a JSON body that carries the escape as it travels (``"\\ud800"``)."""
    raw = json.dumps(value)
    assert "\\ud800" in raw
    return {"data": raw, "headers": {"Content-Type": "application/json"}}


def refused(answer: dict[str, object], field: str) -> None:
    assert answer["field"] == field, answer
    assert f'"{field}"' in str(answer["error"]) and "surrogate" in str(answer["error"]), answer


async def count(sessions: Sessions, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def conversation(client: TestClient) -> tuple[str, dict[str, str]]:
    response = await client.post(f"/api/v1/stores/{STORE}/conversations")
    assert response.status == 201
    started = await response.json()
    return started["conversation_id"], {"Authorization": f"Bearer {started['token']}"}


async def seller(sessions: Sessions) -> dict[str, str]:
    return {"Authorization": f"Bearer {await ApiTokens(sessions).create(STORE, 'text checks')}"}


async def test_a_message_is_refused_naming_the_field_and_nothing_is_stored(
    gateway: GatewayFactory, demo_sessions: Sessions
) -> None:
    client = await gateway()
    cid, auth = await conversation(client)
    for sent, field in (
        ({"text": f"where is my order {LONE}"}, "text"),
        ({"payload": "/greet", "title": f"Hi {LONE}"}, "title"),
        ({"text": "ok", LONE: 1}, "body (a key)"),
    ):
        raw = json.dumps(sent)
        assert "\\ud800" in raw
        response = await client.post(
            f"/api/v1/conversations/{cid}/messages", data=raw, headers={**auth, "Content-Type": "application/json"}
        )
        assert response.status == 400
        refused(await response.json(), field)
    assert await count(demo_sessions, Message) == 0


async def test_payload_entities_are_checked_as_the_json_rasa_reads(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    """The surrogate hides one level down: the payload's own text is clean, its entities are not."""
    client = await gateway()
    cid, auth = await conversation(client)
    headers = {**auth, "Content-Type": "application/json"}
    for key in ("payload", "text"):
        sent = json.dumps({key: '/inform{"order_number": "\\ud800"}'})
        assert "\\\\ud800" in sent  # the payload's text holds a backslash, not a surrogate
        response = await client.post(f"/api/v1/conversations/{cid}/messages", data=sent, headers=headers)
        assert response.status == 400
        refused(await response.json(), f"{key} entities.order_number")
    assert await count(demo_sessions, Message) == 0


async def test_starting_a_conversation_with_a_surrogate_email(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    client = await gateway()
    before = await count(demo_sessions, Message)
    response = await client.post(
        f"/api/v1/stores/{STORE}/conversations", **body({"shopper": {"email": f"alex{LONE}@example.com", "signature": "00"}})
    )
    assert response.status == 400
    refused(await response.json(), "shopper.email")
    assert await count(demo_sessions, Message) == before


async def test_a_websocket_frame_is_refused_naming_the_field(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    client = await gateway()
    cid, auth = await conversation(client)
    token = auth["Authorization"].split()[1]
    async with client.ws_connect(f"/api/v1/conversations/{cid}/ws?token={token}") as ws:
        await ws.send_str(json.dumps({"type": "message", "text": f"hello {LONE}"}))
        frame = await ws.receive(timeout=10)
        assert frame.type == WSMsgType.TEXT
        answer = json.loads(frame.data)
        assert answer["type"] == "error"
        refused(answer, "text")
    assert await count(demo_sessions, Message) == 0


async def test_a_template_with_a_surrogate_cannot_be_saved(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    client = await gateway()
    auth = await seller(demo_sessions)
    response = await client.patch(
        "/api/v1/seller/settings",
        **body({"templates": {"greeting": f"Hi {LONE}, welcome to {{store_name}}"}}),
    )
    assert response.status == 401  # the token is needed first
    response = await client.patch(
        "/api/v1/seller/settings",
        data=json.dumps({"templates": {"greeting": f"Hi {LONE}, welcome to {{store_name}}"}}),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status == 400
    refused(await response.json(), "templates.greeting")
    assert await count(demo_sessions, StoreSettingsVersion) == 0
    # The chat's greeting is still the default one.
    assert "after-sales assistant" in await StoreSettingsService(demo_sessions).greeting(STORE, None)


async def test_a_stored_surrogate_template_cannot_break_the_chat(demo_sessions: Sessions) -> None:
    """A version saved before the check existed (or written by hand): the greeting renders with U+FFFD,
    and a bot reply holding a surrogate is stored cleaned, on SQLite and PostgreSQL alike."""
    async with demo_sessions() as session, session.begin():
        session.add(
            StoreSettingsVersion(
                store_id=STORE,
                version=1,
                settings={"templates": {"greeting": f"Hi {LONE}, welcome to {{store_name}}"}},
                changed_by="before the fix",
                summary="changed templates.greeting",
            )
        )
    async with demo_sessions() as session:
        assert (await store_templates(session, STORE))["greeting"] == "Hi \ufffd, welcome to {store_name}"
    greeting = await StoreSettingsService(demo_sessions).greeting(STORE, None)
    assert greeting == "Hi \ufffd, welcome to Yangteng Auto Parts"

    conversations = ConversationService(demo_sessions)
    chat, _ = await conversations.start(STORE)
    assert isinstance(chat, ChatSession)
    [stored] = await conversations.append(
        chat,
        [
            NewMessage(
                "bot",
                f"Hi {LONE}",
                [{"title": f"Yes {LONE}", "payload": "/affirm"}],
                {"type": "link", "url": "https://example.com/", "title": f"Guide {LONE}"},
            )
        ],
    )
    [again] = await conversations.messages_after(chat, 0)
    for message in (stored, again):
        assert message.text == "Hi \ufffd"
        assert message.buttons == [{"title": "Yes \ufffd", "payload": "/affirm"}]
        assert message.attachment == {"type": "link", "url": "https://example.com/", "title": "Guide \ufffd"}


@pytest.mark.engine
async def test_hello_still_answers_when_a_stored_greeting_holds_a_surrogate(tmp_path: Path) -> None:
    """The issue's case end to end: one stored template with a surrogate made every "hello" at the store
    answer 500. Through the gateway process, the real Rasa and action server, hello is answered."""
    with running_engine(tmp_path, with_gateway=True) as (_, settings):
        db = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(db)() as session, session.begin():
                session.add(
                    StoreSettingsVersion(
                        store_id=STORE,
                        version=1,
                        changed_by="before the fix",
                        summary="changed templates.greeting",
                        settings={"templates": {"greeting": f"Hi {LONE}, this is {{store_name}}"}},
                    )
                )
        finally:
            await db.dispose()
        async with aiohttp.ClientSession() as http:
            created = await http.post(f"{settings.gateway_url}/api/v1/stores/{STORE}/conversations", json={})
            assert created.status == 201
            started = await created.json()
            response = await http.post(
                f"{settings.gateway_url}/api/v1/conversations/{started['conversation_id']}/messages",
                json={"text": "hello"},
                headers={"Authorization": f"Bearer {started['token']}"},
            )
            assert response.status == 200, await response.text()
            said = [m["text"] for m in (await response.json())["messages"] if m["sender"] == "bot"]
            assert "Hi \ufffd, this is Yangteng Auto Parts" in said, said


async def test_team_emails_and_names(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    client = await gateway()
    auth = {**await seller(demo_sessions), "Content-Type": "application/json"}
    agents = await count(demo_sessions, Agent)
    for sent, field in (
        ({"email": f"new{LONE}@yangteng-auto.example", "name": "New Hire"}, "email"),
        ({"email": "new@yangteng-auto.example", "name": f"New {LONE}"}, "name"),
    ):
        response = await client.post("/api/v1/seller/team", data=json.dumps(sent), headers=auth)
        assert response.status == 400
        refused(await response.json(), field)
    assert await count(demo_sessions, Agent) == agents


async def test_guides(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    client = await gateway()
    auth = {**await seller(demo_sessions), "Content-Type": "application/json"}
    async with demo_sessions() as session:
        steps_before = await session.scalar(
            select(Product.install_steps).where(Product.store_id == STORE, Product.sku == SKU)
        )
    response = await client.put(
        f"/api/v1/seller/products/{SKU}/guide",
        data=json.dumps({"install_steps": ["Drain the oil", f"Fit {LONE}"]}),
        headers=auth,
    )
    assert response.status == 400
    refused(await response.json(), "install_steps[1]")
    async with demo_sessions() as session:
        assert (
            await session.scalar(select(Product.install_steps).where(Product.store_id == STORE, Product.sku == SKU))
            == steps_before
        )


def _order_line(number: str, name: str) -> str:
    return json.dumps(
        {
            "type": "order",
            "store": STORE,
            "order_number": number,
            "status": "processing",
            "placed_at": "2026-11-01T10:00:00Z",
            "shopper": {"name": name, "email": "sam@example.com"},
            "shipping": {"postcode": "10001", "country": "US"},
            "items": [{"sku": SKU, "name": "Oil pan"}],
        }
    )


async def test_the_importer_reports_the_line_and_the_field(demo_sessions: Sessions) -> None:
    lines = [
        _order_line("TXT-1", "Sam Lee"),
        _order_line("TXT-2", f"Sam {LONE}"),
        json.dumps({"type": "canned_reply", "store": STORE, "title": "Hi", "text": f"Hello {LONE}"}),
    ]
    report = await import_lines(demo_sessions, lines)
    assert report.imported["order"] == 1
    assert [number for number, _ in report.errors] == [2, 3]
    assert '"shopper.name"' in report.errors[0][1] and "surrogate" in report.errors[0][1]
    assert '"text"' in report.errors[1][1]
    async with demo_sessions() as session:
        numbers = set(await session.scalars(select(Order.order_number).where(Order.order_number.like("TXT-%"))))
        assert numbers == {"TXT-1"}
        assert await session.scalar(select(func.count()).select_from(CannedReply).where(CannedReply.title == "Hi")) == 0


@pytest.mark.slow  # runs `python -m bot` in a process of its own
def test_the_import_command_reports_the_line_and_the_field(tmp_path: Path) -> None:
    """``python -m bot import``: the bad line is reported with its number and field, the good ones imported."""
    settings = engine_settings(tmp_path)
    assert bot_cli(settings, "migrate").returncode == 0
    data = tmp_path / "stores.jsonl"
    data.write_text(
        "\n".join(
            [
                json.dumps({"type": "store", "id": "text-check", "name": "Text Check"}),
                json.dumps({"type": "store", "id": "text-check-2", "name": f"Bad {LONE}"}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = bot_cli(settings, "import", str(data))
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert 'stores.jsonl:2: "name"' in output and "surrogate" in output, output
    assert "1 bad line" in output, output


async def test_the_seller_order_push_reports_the_line_and_the_field(
    gateway: GatewayFactory, demo_sessions: Sessions
) -> None:
    client = await gateway()
    auth = await seller(demo_sessions)
    pushed = "\n".join([_order_line("TXT-10", "Kim Park"), _order_line("TXT-11", f"Kim {LONE}")])
    response = await client.post(
        "/api/v1/seller/imports", data=pushed, headers={**auth, "Content-Type": "application/x-ndjson"}
    )
    assert response.status == 422
    report = await response.json()
    assert report["imported"]["order"] == 1
    [error] = report["errors"]
    assert error["line"] == 2 and '"shopper.name"' in error["error"] and "surrogate" in error["error"]
    async with demo_sessions() as session:
        assert set(await session.scalars(select(Order.order_number).where(Order.order_number.like("TXT-1%")))) == {"TXT-10"}


@pytest.mark.parametrize("field", ["events[0].message", "event_id", "tracking_number"])
async def test_tracking_events(gateway: GatewayFactory, demo_sessions: Sessions, field: str) -> None:
    async with demo_sessions() as session, session.begin():
        await session.execute(update(Store).where(Store.id == STORE).values(webhook_secret=WEBHOOK_SECRET))
    client = await gateway()
    update_body: dict[str, object] = {
        "event_id": "evt-text-1",
        "tracking_number": "9400111899223100000000",
        "status": "InTransit",
        "events": [{"time": "2026-11-20T10:00:00Z", "tag": "InTransit", "message": "Departed"}],
    }
    if field == "events[0].message":
        update_body["events"] = [{"time": "2026-11-20T10:00:00Z", "tag": "InTransit", "message": f"Departed {LONE}"}]
    else:
        update_body[field] = f"x{LONE}"
    raw = json.dumps(update_body).encode()
    response = await client.post(
        f"/webhooks/tracking/{STORE}",
        data=raw,
        headers={"X-Signature": simple_signature(WEBHOOK_SECRET, raw), "Content-Type": "application/json"},
    )
    assert response.status == 400
    refused(await response.json(), field)
    assert await count(demo_sessions, TrackingWebhookEvent) == 0
