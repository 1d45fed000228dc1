"""/email/unsubscribe/{token}: the one-click POST opts out, the GET only asks, a bad token changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import utc_now
from bot.core.config import load_settings
from bot.core.models import ReviewOptOut, Store
from bot.email.signed_links import CONTINUE_CHAT, SignedLinks
from bot.email.unsubscribe import unsubscribe_token
from bot.web.app import create_app

STORE = "yangteng-auto"
SECRET = "email-link-secret-web-test-91c2"
LINKS = SignedLinks(SECRET)
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
async def gateway(demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = load_settings({"VAR_DIR": str(tmp_path), "EMAIL_LINK_SECRET": SECRET})
    client = TestClient(TestServer(create_app(settings, demo_sessions)))
    await client.start_server()
    yield client
    await client.close()


async def opted_out(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(select(ReviewOptOut.store_id, ReviewOptOut.shopper_email))
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


def token_for(address: str = "Alex@Example.com", store_id: str = STORE) -> str:
    return unsubscribe_token(LINKS, store_id, address, utc_now())


async def test_the_one_click_post_opts_the_address_out_once(
    gateway: TestClient, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    token = token_for()
    for _ in range(2):  # again is harmless
        response = await gateway.post(f"/email/unsubscribe/{token}", data=ONE_CLICK)
        assert response.status == 200
        assert "You are unsubscribed" in await response.text()
    assert await opted_out(demo_sessions) == [(STORE, "alex@example.com")]
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script" not in csp


async def test_the_confirm_pages_button_posts_the_same(
    gateway: TestClient, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    token = token_for()
    # A link scanner (or the shopper) opens the link: a page that asks, nothing changes.
    for _ in range(3):
        page = await gateway.get(f"/email/unsubscribe/{token}")
        assert page.status == 200
    text = await page.text()
    assert '<form method="post"' in text and 'name="List-Unsubscribe" value="One-Click"' in text
    assert f'action="/email/unsubscribe/{token}"' in text and "<script" not in text
    assert "Yangteng Auto Parts" in text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert await opted_out(demo_sessions) == []
    # HEAD is a GET too: it changes nothing either.
    assert (await gateway.head(f"/email/unsubscribe/{token}")).status == 200
    assert await opted_out(demo_sessions) == []

    assert (await gateway.post(f"/email/unsubscribe/{token}", data=ONE_CLICK)).status == 200
    assert await opted_out(demo_sessions) == [(STORE, "alex@example.com")]


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "a.b",
        "x" * 2000,
        # Made for another purpose: continuing a chat does not unsubscribe.
        LINKS.sign(CONTINUE_CHAT, [STORE, "alex@example.com"], dt.datetime(2099, 1, 1, tzinfo=dt.UTC)),
        # Signed with another secret.
        unsubscribe_token(SignedLinks("another secret"), STORE, "alex@example.com", dt.datetime(2099, 1, 1, tzinfo=dt.UTC)),
    ],
)
async def test_a_bad_token_is_refused_and_changes_nothing(
    gateway: TestClient, demo_sessions: async_sessionmaker[AsyncSession], token: str
) -> None:
    for method in ("GET", "POST"):
        response = await gateway.request(method, f"/email/unsubscribe/{token}", data=ONE_CLICK if method == "POST" else None)
        assert response.status == 400
        text = await response.text()
        assert "this link is not valid" in text and "Nothing was changed." in text and "<script" not in text
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert await opted_out(demo_sessions) == []


async def test_an_expired_token_is_refused_and_changes_nothing(
    gateway: TestClient, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    long_ago = utc_now() - dt.timedelta(days=400)
    token = unsubscribe_token(LINKS, STORE, "alex@example.com", long_ago)
    response = await gateway.post(f"/email/unsubscribe/{token}", data=ONE_CLICK)
    assert response.status == 400 and "this link has expired" in await response.text()
    assert await opted_out(demo_sessions) == []


async def test_a_store_that_is_gone_is_a_404_not_an_error(
    gateway: TestClient, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    token = token_for(store_id="no-such-store")
    assert (await gateway.get(f"/email/unsubscribe/{token}")).status == 404
    assert (await gateway.post(f"/email/unsubscribe/{token}", data=ONE_CLICK)).status == 404
    assert await opted_out(demo_sessions) == []


async def test_the_stores_name_is_text_on_the_page(
    gateway: TestClient, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with demo_sessions() as session, session.begin():
        await session.execute(update(Store).where(Store.id == STORE).values(name='<script>alert("x")</script> & Co'))
    token = token_for()
    for response in (
        await gateway.get(f"/email/unsubscribe/{token}"),
        await gateway.post(f"/email/unsubscribe/{token}", data=ONE_CLICK),
    ):
        text = await response.text()
        assert "<script>" not in text and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in text
