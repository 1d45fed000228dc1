"""The way back from an email to the chat (GET /continue/{token}, POST /api/v1/conversations/continue),
the page the gateway hosts for a store's chat (GET /chat/{store_id}), and the shopper's timezone, through
aiohttp's test client over a real store database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ConversationService
from bot.core.clock import utc_now
from bot.core.config import Settings, load_settings
from bot.core.models import Conversation, ConversationToken, Store
from bot.email.signed_links import CONTINUE_CHAT, UNSUBSCRIBE, SignedLinks
from bot.seller.store_settings import StoreSettingsService
from bot.web.app import create_app
from bot.web.continue_chat import NOTICE_CSP, shopper_timezone, with_continue_fragment
from bot.web.middleware import loggable_path

STORE = "yangteng-auto"
OTHER_STORE = "bloomkids-baby"
Sessions = async_sessionmaker[AsyncSession]


def _settings(tmp_path: Path, **env: str) -> Settings:
    return load_settings({"VAR_DIR": str(tmp_path), "PUBLIC_URL": "https://chat.example", **env})


async def _client(settings: Settings, sessions: Sessions) -> TestClient:
    client = TestClient(TestServer(create_app(settings, sessions)))
    await client.start_server()
    return client


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return _settings(tmp_path)


@pytest.fixture
async def client(demo_sessions: Sessions, settings: Settings) -> AsyncIterator[TestClient]:
    client = await _client(settings, demo_sessions)
    yield client
    await client.close()


def link(settings: Settings, store: str, conversation: str, *, days: float = 14, secret: str | None = None) -> str:
    return SignedLinks(secret or settings.email_link_secret).sign(
        CONTINUE_CHAT, [store, conversation], utc_now() + dt.timedelta(days=days)
    )


async def conversation(sessions: Sessions, store: str = STORE) -> str:
    chat, _ = await ConversationService(sessions).start(store)
    return chat.conversation_id


async def timezone_of(sessions: Sessions, conversation_id: str) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(Conversation.shopper_timezone).where(Conversation.id == conversation_id))


async def continue_with(client: TestClient, body: Any) -> tuple[int, dict[str, Any]]:
    response = await client.post("/api/v1/conversations/continue", json=body)
    return response.status, await response.json()


def refused(status_body: tuple[int, dict[str, Any]], status: int, code: str) -> None:
    assert status_body[0] == status, status_body
    assert status_body[1]["code"] == code, status_body


# --- GET /continue/{token} ---


async def test_a_link_redirects_to_the_hosted_page_with_the_token_in_the_fragment(
    client: TestClient, demo_sessions: Sessions, settings: Settings
) -> None:
    token = link(settings, STORE, await conversation(demo_sessions))
    response = await client.get(f"/continue/{token}", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"/chat/{STORE}#chat-continue={token}"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_a_link_redirects_to_the_stores_own_page_replacing_its_fragment(
    client: TestClient, demo_sessions: Sessions, settings: Settings
) -> None:
    await StoreSettingsService(demo_sessions).update(
        STORE, {"email": {"page_url": "https://shop.example/help?lang=en#reviews"}}, changed_by="test"
    )
    token = link(settings, STORE, await conversation(demo_sessions))
    response = await client.get(f"/continue/{token}", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"https://shop.example/help?lang=en#chat-continue={token}"


def test_the_fragment_replaces_any_and_the_address_is_ascii() -> None:
    assert with_continue_fragment("https://shop.example/p", "a.b") == "https://shop.example/p#chat-continue=a.b"
    assert with_continue_fragment("https://shop.example/p#x=1", "a.b") == "https://shop.example/p#chat-continue=a.b"
    assert with_continue_fragment("https://bücher.example/ä", "a.b") == (
        "https://xn--bcher-kva.example/%C3%A4#chat-continue=a.b"
    )


def _notice(body: str) -> str:
    assert "<script" not in body.lower()
    match = re.search(r'data-testid="continue-notice">([^<]*)<', body)
    assert match, body
    return match.group(1)


async def test_an_expired_link_says_so_and_points_to_the_stores_page(
    client: TestClient, demo_sessions: Sessions, settings: Settings
) -> None:
    token = link(settings, STORE, await conversation(demo_sessions), days=-1)
    response = await client.get(f"/continue/{token}", allow_redirects=False)
    assert response.status == 410
    assert response.headers["Content-Security-Policy"] == NOTICE_CSP
    assert "script-src" not in NOTICE_CSP and "default-src 'none'" in NOTICE_CSP
    assert response.headers["Referrer-Policy"] == "no-referrer"
    body = await response.text()
    assert _notice(body) == "This link has expired"
    assert f'href="/chat/{STORE}"' in body
    assert "Chat with Yangteng" in body


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda s, c: link(s, STORE, c, secret="another-secret"), id="other-secret"),
        pytest.param(
            lambda s, c: SignedLinks(s.email_link_secret).sign(UNSUBSCRIBE, [STORE, c], utc_now() + dt.timedelta(days=1)),
            id="unsubscribe-purpose",
        ),
        pytest.param(lambda s, c: link(s, OTHER_STORE, c), id="conversation-of-another-store"),
        pytest.param(lambda s, c: link(s, STORE, c)[:-3], id="truncated"),
        pytest.param(lambda s, c: "<b>not&a.link", id="markup"),
        pytest.param(lambda s, c: "x" * 3000, id="too-long"),
    ],
)
async def test_a_link_that_is_not_genuine_is_refused_with_a_page(
    client: TestClient, demo_sessions: Sessions, settings: Settings, make: Any
) -> None:
    token = make(settings, await conversation(demo_sessions))
    response = await client.get(f"/continue/{token}", allow_redirects=False)
    assert response.status == 400
    body = await response.text()
    assert _notice(body) == "This link is not valid"
    assert "<b>" not in body


async def test_a_link_whose_conversation_is_gone_points_to_the_stores_page(
    client: TestClient, demo_sessions: Sessions, settings: Settings
) -> None:
    conversation_id = await conversation(demo_sessions)
    token = link(settings, STORE, conversation_id)
    async with demo_sessions() as session, session.begin():
        await session.execute(delete(Conversation).where(Conversation.id == conversation_id))
    response = await client.get(f"/continue/{token}", allow_redirects=False)
    assert response.status == 400
    assert f'href="/chat/{STORE}"' in await response.text()
    refused(await continue_with(client, {"token": token}), 400, "email_link_invalid")


def test_the_access_log_never_writes_a_link() -> None:
    assert loggable_path("/continue/eyJ4Ijo.abc") == "/continue/{token}"


# --- POST /api/v1/conversations/continue ---


async def test_a_link_opens_its_conversation_and_no_other(
    client: TestClient, demo_sessions: Sessions, settings: Settings
) -> None:
    mine, other = await conversation(demo_sessions), await conversation(demo_sessions)
    status, body = await continue_with(client, {"token": link(settings, STORE, mine), "timezone": "Asia/Shanghai"})
    assert status == 200, body
    assert body["conversation_id"] == mine and body["store_id"] == STORE and len(body["token"]) >= 32
    bearer = {"Authorization": f"Bearer {body['token']}"}
    assert (await client.get(f"/api/v1/conversations/{mine}/messages", headers=bearer)).status == 200
    assert (await client.get(f"/api/v1/conversations/{other}/messages", headers=bearer)).status == 401
    assert await timezone_of(demo_sessions, mine) == "Asia/Shanghai"
    assert await timezone_of(demo_sessions, other) is None
    # Only the token's SHA-256 is kept.
    async with demo_sessions() as session:
        hashes = (await session.scalars(select(ConversationToken.token_hash))).all()
    assert body["token"] not in hashes and len(hashes) == 3


async def test_a_link_may_be_used_again_until_it_expires(
    client: TestClient, demo_sessions: Sessions, settings: Settings
) -> None:
    token = link(settings, STORE, await conversation(demo_sessions))
    first, second = await continue_with(client, {"token": token}), await continue_with(client, {"token": token})
    assert first[0] == second[0] == 200 and first[1]["token"] != second[1]["token"]


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        pytest.param(lambda s, c: link(s, STORE, c, days=-1), 410, "email_link_expired", id="expired"),
        pytest.param(lambda s, c: link(s, STORE, c, secret="another-secret"), 400, "email_link_invalid", id="other-secret"),
        pytest.param(
            lambda s, c: SignedLinks(s.email_link_secret).sign(UNSUBSCRIBE, [STORE, c], utc_now() + dt.timedelta(days=1)),
            400,
            "email_link_invalid",
            id="unsubscribe-purpose",
        ),
        pytest.param(lambda s, c: link(s, OTHER_STORE, c), 400, "email_link_invalid", id="another-store"),
        pytest.param(
            lambda s, c: SignedLinks(s.email_link_secret).sign(CONTINUE_CHAT, [c], utc_now() + dt.timedelta(days=1)),
            400,
            "email_link_invalid",
            id="one-field",
        ),
        pytest.param(lambda s, c: "", 400, "email_link_invalid", id="empty"),
        pytest.param(lambda s, c: 12, 400, "email_link_invalid", id="not-a-string"),
        pytest.param(lambda s, c: None, 400, "email_link_invalid", id="null"),
        pytest.param(lambda s, c: "\udcff.\x00", 400, "email_link_invalid", id="odd-text"),
    ],
)
async def test_a_link_that_opens_nothing_is_refused(
    client: TestClient, demo_sessions: Sessions, settings: Settings, make: Any, status: int, code: str
) -> None:
    conversation_id = await conversation(demo_sessions)
    token = make(settings, conversation_id)
    if isinstance(token, str) and "\udcff" in token:
        # A lone surrogate is not JSON text a client can send: send the escape as it would come.
        response = await client.post(
            "/api/v1/conversations/continue",
            data='{"token": "\\udcff.\\u0000"}',
            headers={"Content-Type": "application/json"},
        )
        assert response.status == 400
        return
    result = await continue_with(client, {"token": token})
    refused(result, status, code)
    assert "token" not in result[1] or result[1].get("field") == "token"
    async with demo_sessions() as session:
        assert len((await session.scalars(select(ConversationToken.token_hash))).all()) == 1  # the start's own


@pytest.mark.parametrize(
    ("data", "code"),
    [("{not json", "body_not_json"), ("[1]", "body_not_object"), ("", "body_not_json"), ('"x"', "body_not_object")],
)
async def test_a_body_that_is_not_an_object_is_refused(client: TestClient, data: str, code: str) -> None:
    response = await client.post("/api/v1/conversations/continue", data=data, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json())["code"] == code


async def test_continuing_is_rate_limited_by_address(demo_sessions: Sessions, tmp_path: Path) -> None:
    client = await _client(_settings(tmp_path, RATE_LIMIT_IP_PER_MINUTE="3"), demo_sessions)
    try:
        statuses = [(await client.post("/api/v1/conversations/continue", json={"token": "x"})).status for _ in range(5)]
        assert statuses[:3] == [400, 400, 400] and statuses[3:] == [429, 429]
        response = await client.get("/continue/x", allow_redirects=False)
        assert response.status == 429 and int(response.headers["Retry-After"]) >= 1
        assert (await client.get(f"/chat/{STORE}")).status == 429
    finally:
        await client.close()


# --- the shopper's timezone ---


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("Europe/Paris", "Europe/Paris"),
        ("UTC", "UTC"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Etc/Unknown", None),
        ("Mars/Olympus_Mons", None),
        ("../../etc/passwd", None),
        ("Europe", None),
        ("", None),
        ("E" * 65, None),
        (3, None),
        (None, None),
        (["UTC"], None),
    ],
)
def test_only_a_known_zone_is_kept(value: Any, kept: str | None) -> None:
    assert shopper_timezone(value) == kept


async def test_a_new_conversation_keeps_the_timezone_and_ignores_a_bad_one(
    client: TestClient, demo_sessions: Sessions
) -> None:
    started = {}
    for zone in ("America/New_York", "Not/AZone", 42, "x" * 500):
        response = await client.post(f"/api/v1/stores/{STORE}/conversations", json={"timezone": zone})
        assert response.status == 201, await response.text()
        started[str(zone)] = (await response.json())["conversation_id"]
    assert await timezone_of(demo_sessions, started["America/New_York"]) == "America/New_York"
    for zone in ("Not/AZone", "42", "x" * 500):
        assert await timezone_of(demo_sessions, started[zone]) is None


# --- GET /chat/{store_id} ---


async def test_the_hosted_page_holds_the_stores_widget(client: TestClient, demo_sessions: Sessions) -> None:
    async with demo_sessions() as session, session.begin():
        await session.execute(update(Store).where(Store.id == STORE).values(name='Yangteng <Auto> & "Parts"'))
    response = await client.get(f"/chat/{STORE}")
    assert response.status == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    # The widget shows the shopper's photos as object URLs (fetched with the token): blob: images, no more.
    assert "img-src 'self' data: https: blob:;" in csp and "script-src 'self' blob:" not in csp
    body = await response.text()
    assert "<title>Yangteng &lt;Auto&gt; &amp; &quot;Parts&quot;</title>" in body
    assert f'<script src="/widget.js" data-store="{STORE}" data-title="Yangteng &lt;Auto&gt;' in body
    assert 'data-open="always"' in body
    assert "<Auto>" not in body


@pytest.mark.parametrize("store", ["no-such-store", "%00", "x" * 300, "%3Cscript%3E"])
async def test_the_hosted_page_of_an_unknown_store_is_404(client: TestClient, store: str) -> None:
    response = await client.get(f"/chat/{store}")
    assert response.status == 404
    assert "<script" not in (await response.text()).lower()
