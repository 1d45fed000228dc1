"""One-click unsubscribe from review emails: the link in the email, through the gateway, into
the opt-out the chat honours too; the next review email is not sent."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import NewMessage
from bot.core.clock import frozen_at
from bot.core.config import load_settings
from bot.core.models import ReviewOptOut, ScheduledJob
from bot.email.signed_links import BadSignedLink, SignedLinks
from bot.email.unread_messages import SKIPPED_REVIEW_OPT_OUT, UNREAD_EMAIL
from bot.email.unsubscribe import Unsubscribes, unsubscribe_token, unsubscribe_url
from bot.reviews.invitations import REVIEW_INVITATION, REVIEW_REMINDER
from bot.reviews.shopper_reviews import ReviewService, opted_out_of_reviews
from bot.web.app import create_app
from tests.email.conftest import SmtpSink
from tests.email.test_unread_messages import (
    ALEX,
    DELAY,
    LINK_SECRET,
    NOW,
    PUBLIC,
    STORE,
    alex_chat,
    store_writes,
    worker_at,
)


@pytest.fixture(autouse=True)
def application_clock_at_now() -> Iterator[None]:
    with frozen_at(NOW):
        yield


@pytest.fixture
async def gateway(demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = load_settings({"VAR_DIR": str(tmp_path), "EMAIL_LINK_SECRET": LINK_SECRET, "PUBLIC_URL": PUBLIC})
    client = TestClient(TestServer(create_app(settings, demo_sessions)))
    await client.start_server()
    yield client
    await client.close()


async def test_the_one_click_post_stops_the_next_review_email(
    demo_sessions: async_sessionmaker[AsyncSession], smtp_sink: SmtpSink, gateway: TestClient
) -> None:
    chat = await alex_chat(demo_sessions)
    await store_writes(demo_sessions, chat, [NewMessage("store", "How is your oil pan?")], REVIEW_INVITATION)
    await worker_at(demo_sessions, smtp_sink, NOW + DELAY).run_due()
    (invitation,) = smtp_sink.mail.messages
    found = re.fullmatch(r"<(https://[^>]+)>", invitation["List-Unsubscribe"])
    assert found is not None and invitation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = found.group(1).removeprefix(PUBLIC)

    # The mail client's one-click POST (RFC 8058).
    response = await gateway.post(
        path,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 200
    assert await ReviewService(demo_sessions).is_opted_out(STORE, ALEX)  # the chat's own opt-out

    # The reminder is not emailed; the job says why.
    later = NOW + dt.timedelta(days=3)
    with frozen_at(later):
        await store_writes(demo_sessions, chat, [NewMessage("store", "A review would help us.")], REVIEW_REMINDER)
    await worker_at(demo_sessions, smtp_sink, later + DELAY).run_due()
    assert len(smtp_sink.mail.received) == 1
    async with demo_sessions() as session:
        jobs = (await session.scalars(select(ScheduledJob).where(ScheduledJob.kind == UNREAD_EMAIL))).all()
    assert [job.payload.get("skipped") for job in sorted(jobs, key=lambda j: j.id)] == [None, SKIPPED_REVIEW_OPT_OUT]


async def test_a_review_link_scanner_opening_the_link_unsubscribes_no_one(
    demo_sessions: async_sessionmaker[AsyncSession], gateway: TestClient
) -> None:
    token = unsubscribe_token(SignedLinks(LINK_SECRET), STORE, ALEX, NOW)
    assert (await gateway.get(f"/email/unsubscribe/{token}")).status == 200
    assert not await ReviewService(demo_sessions).is_opted_out(STORE, ALEX)


async def test_unsubscribes_ask_and_confirm(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    links = SignedLinks(LINK_SECRET)
    unsubscribes = Unsubscribes(demo_sessions, links)
    token = unsubscribe_token(links, STORE, " Alex@Example.COM ", NOW)
    asked = await unsubscribes.ask(token, NOW)
    assert asked is not None and (asked.store_id, asked.store_name) == (STORE, "Yangteng Auto Parts")
    async with demo_sessions() as session:
        assert not await opted_out_of_reviews(session, STORE, ALEX)

    first = await unsubscribes.confirm(token, NOW)
    again = await unsubscribes.confirm(token, NOW)
    assert first is not None and first.opted_out_now and again is not None and not again.opted_out_now
    async with demo_sessions() as session:
        assert await opted_out_of_reviews(session, STORE, "ALEX@example.com")
        assert not await opted_out_of_reviews(session, "bloomkids-baby", ALEX)
        assert (await session.scalars(select(ReviewOptOut.shopper_email))).all() == [ALEX]

    # Valid for a year, then refused.
    with pytest.raises(BadSignedLink, match="expired"):
        await unsubscribes.confirm(token, NOW + dt.timedelta(days=366))
    with pytest.raises(BadSignedLink):
        await unsubscribes.ask("not-a-token", NOW)


def test_the_unsubscribe_url() -> None:
    assert unsubscribe_url("https://chat.example/", "a.b") == "https://chat.example/email/unsubscribe/a.b"
