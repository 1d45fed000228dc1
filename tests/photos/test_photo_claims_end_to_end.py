"""End to end, with the real Rasa server and action server: a damaged-item report with two photos
becomes a case holding them, which the store's agent opens in the console; the agent asks for
another photo with one click, and the shopper's next upload joins the same case. The bot says
where photos went, never what they show."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from sqlalchemy import select

from bot.chat import replies
from bot.chat.conversations import ConversationService
from bot.core.config import Settings
from bot.core.db import create_engine, create_sessionmaker
from bot.core.models import Escalation, Photo
from bot.runtime.stack import Stack
from bot.web.app import create_app
from tests.conftest import signed_shopper
from tests.photos.sample_images import image_bytes
from tests.web.test_agent_api import Console, agent

pytestmark = pytest.mark.engine

STORE = "yangteng-auto"


@pytest.fixture
async def sessions(engine: tuple[Stack, Settings]):  # type: ignore[no-untyped-def]
    db = create_engine(engine[1].database_url)
    yield create_sessionmaker(db)
    await db.dispose()


@pytest.fixture
async def client(engine: tuple[Stack, Settings], sessions) -> AsyncIterator[TestClient]:  # type: ignore[no-untyped-def]
    client = TestClient(TestServer(create_app(engine[1], sessions)))
    await client.start_server()
    yield client
    await client.close()


async def say(client: TestClient, conversation: str, auth: dict[str, str], **body: Any) -> list[str]:
    response = await client.post(f"/api/v1/conversations/{conversation}/messages", json=body, headers=auth)
    assert response.status == 200, await response.text()
    return [m["text"] for m in (await response.json())["messages"] if m["sender"] == "bot"]


async def upload(client: TestClient, conversation: str, auth: dict[str, str], colour: tuple[int, int, int]) -> str:
    response = await client.post(
        f"/api/v1/conversations/{conversation}/photos", data=image_bytes("JPEG", (800, 600), colour=colour), headers=auth
    )
    assert response.status == 201, await response.text()
    return str((await response.json())["photo"]["id"])


async def test_a_damaged_item_report_with_photos_becomes_a_case_the_agent_opens(client: TestClient, sessions) -> None:  # type: ignore[no-untyped-def]
    secret = await ConversationService(sessions).shopper_secret(STORE)
    assert secret
    started = await client.post(
        f"/api/v1/stores/{STORE}/conversations", json={"shopper": signed_shopper(secret, "alex@example.com")}
    )
    assert started.status == 201
    data = await started.json()
    conversation, auth = data["conversation_id"], {"Authorization": f"Bearer {data['token']}"}

    await say(client, conversation, auth, text="my oil pan arrived damaged")
    await say(client, conversation, auth, text="FZ-20931")
    asked = await say(client, conversation, auth, text="the corner of the pan is dented and the box was crushed")
    assert asked == [replies.ASK_PROBLEM_PHOTOS["damaged"]]

    dent, label = (
        await upload(client, conversation, auth, (200, 30, 30)),
        await upload(client, conversation, auth, (30, 30, 200)),
    )
    recorded = await say(client, conversation, auth, photos=[dent, label])
    assert recorded[-1] == replies.PHOTOS_WITH_REPORT.format(count=2)
    assert "I've passed this to the store's team" in recorded[0]

    async with sessions() as session:
        case = (await session.scalars(select(Escalation).where(Escalation.conversation_id == conversation))).one()
        on_case = set((await session.scalars(select(Photo.id).where(Photo.escalation_id == case.id))).all())
    assert (case.reason, on_case) == ("damaged", {dent, label})

    async with Console(client.server) as console:
        assert (await console.login(*await agent(sessions, STORE))).status == 200
        view = await (await console.get(f"/agent/api/conversations/{conversation}")).json()
        [shown_case] = view["escalations"]
        assert (shown_case["reason"], [p["id"] for p in shown_case["photos"]]) == ("damaged", [dent, label])
        assert view["order"]["order_number"] == "FZ-20931" and view["order"]["items"]
        for photo_id, colour in ((dent, (200, 30, 30)), (label, (30, 30, 200))):
            response = await console.get(f"/agent/api/photos/{photo_id}")
            assert response.status == 200
            with Image.open(io.BytesIO(await response.read())) as opened:
                assert opened.size == (800, 600)
                assert all(abs(a - b) < 16 for a, b in zip(opened.getpixel((400, 300)), colour, strict=True))

        # The agent takes the case over and asks for another photo with one click.
        base = f"/agent/api/conversations/{conversation}"
        assert (await console.post(f"{base}/claim")).status == 200
        asked = await console.post(f"{base}/photo-request")
        assert asked.status == 201
        assert (await asked.json())["message"]["attachment"] == {"type": "photo_request"}

        # The shopper's next upload joins the same case, and the agent sees it there.
        more = await upload(client, conversation, auth, (30, 200, 30))
        assert await say(client, conversation, auth, photos=[more]) == []  # a person holds the chat: the bot is quiet
        view = await (await console.get(base)).json()
        assert [p["id"] for p in view["escalations"][0]["photos"]] == [dent, label, more]
        assert (await console.get(f"/agent/api/photos/{more}?variant=thumbnail")).status == 200

        # Handing back closes the case: a photo sent after that waits in the chat for a new report,
        # and the bot says so (with the report buttons).
        assert (await console.post(f"{base}/handback")).status == 200
    later = await upload(client, conversation, auth, (90, 90, 90))
    assert await say(client, conversation, auth, photos=[later]) == [replies.PHOTOS_KEPT]
    async with sessions() as session:
        on_case = set((await session.scalars(select(Photo.id).where(Photo.escalation_id == case.id))).all())
        later_case = await session.scalar(select(Photo.escalation_id).where(Photo.id == later))
    assert (on_case, later_case) == ({dent, label, more}, None)
