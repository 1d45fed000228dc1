"""Issue 13, item 13: a shopper signature carries the time the store signed it and expires;
plain (never-expiring) signatures work only for stores that opted in; the demo page, which
vouches for the demo shopper, exists only in demo mode."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ConversationService
from bot.chat.shopper_signatures import sign_shopper
from bot.core.clock import frozen_at, utc_now
from bot.core.models import Store
from bot.orders.importer import import_lines
from tests.conftest import signed_shopper
from tests.security.conftest import GatewayFactory

STORE = "yangteng-auto"
ALEX = "alex@example.com"
Sessions = async_sessionmaker[AsyncSession]


async def secret_of(sessions: Sessions, store: str = STORE) -> str:
    conversations = ConversationService(sessions)
    await conversations.ensure_shopper_secrets()
    secret = await conversations.shopper_secret(store)
    assert secret
    return secret


async def start(client, shopper: dict[str, object]):  # type: ignore[no-untyped-def]
    return await client.post(f"/api/v1/stores/{STORE}/conversations", json={"shopper": shopper})


def now_ts() -> int:
    return int(utc_now().timestamp())


async def test_a_fresh_timestamped_signature_opens_the_shoppers_conversation(
    gateway: GatewayFactory, demo_sessions: Sessions
) -> None:
    client = await gateway()
    secret = await secret_of(demo_sessions)

    first = await start(client, signed_shopper(secret, ALEX))
    again = await start(client, signed_shopper(secret, ALEX, now_ts() - 3000))  # made 50 minutes ago: still fine

    assert first.status == 201 and again.status == 201
    assert (await first.json())["conversation_id"] == (await again.json())["conversation_id"]


async def test_an_expired_signature_is_refused(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    client = await gateway(SHOPPER_SIGNATURE_MAX_AGE_SECONDS="600")
    secret = await secret_of(demo_sessions)

    old = signed_shopper(secret, ALEX, now_ts() - 601)
    response = await start(client, old)
    assert response.status == 401
    assert "expired" in (await response.json())["error"]
    # The same signature, replayed later (from a cached page, a log, a screenshot), stays refused.
    assert (await start(client, signed_shopper(secret, ALEX, now_ts() - 86_400 * 30))).status == 401
    assert (await start(client, signed_shopper(secret, ALEX, now_ts() - 590))).status == 201


async def test_a_signature_from_the_future_beyond_the_clock_skew_is_refused(
    gateway: GatewayFactory, demo_sessions: Sessions
) -> None:
    client = await gateway()
    secret = await secret_of(demo_sessions)

    ahead = await start(client, signed_shopper(secret, ALEX, now_ts() + 3600))
    assert ahead.status == 401 and "future" in (await ahead.json())["error"]
    # A store clock a minute fast is normal.
    assert (await start(client, signed_shopper(secret, ALEX, now_ts() + 60))).status == 201


async def test_the_time_is_signed_so_it_cannot_be_moved(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    client = await gateway(SHOPPER_SIGNATURE_MAX_AGE_SECONDS="600")
    secret = await secret_of(demo_sessions)

    expired = signed_shopper(secret, ALEX, now_ts() - 3600)
    refreshed = {**expired, "ts": now_ts()}  # the attacker updates the time, not the signature
    response = await start(client, refreshed)
    assert response.status == 401
    assert (await response.json())["error"] == "the shopper signature is not valid"


async def test_a_plain_signature_is_refused_unless_the_store_opted_in(
    gateway: GatewayFactory, demo_sessions: Sessions
) -> None:
    client = await gateway()
    secret = await secret_of(demo_sessions)
    plain = {"email": ALEX, "signature": sign_shopper(secret, ALEX, None)}

    refused = await start(client, plain)
    assert refused.status == 401 and "signed time (ts)" in (await refused.json())["error"]

    # The store opts in through its import line (a store whose server cannot sign a time yet).
    report = await import_lines(
        demo_sessions,
        ['{"type": "store", "id": "yangteng-auto", "name": "Yangteng Auto Parts", "plain_shopper_signatures": true}\n'],
    )
    assert report.ok, report.errors
    assert (await start(client, plain)).status == 201
    # Timestamped ones keep working there, and a plain signature of another email still does not.
    assert (await start(client, signed_shopper(secret, ALEX))).status == 201
    assert (await start(client, {**plain, "email": "mallory@example.com"})).status == 401

    # ... and opts out again.
    async with demo_sessions() as session, session.begin():
        await session.execute(update(Store).where(Store.id == STORE).values(plain_shopper_signatures=False))
    assert (await start(client, plain)).status == 401


async def test_a_bad_timestamp_is_a_400(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    client = await gateway()
    secret = await secret_of(demo_sessions)
    for ts in ("1700000000", 1.5e9, True, -1, 10**30, [1]):
        response = await start(client, {**signed_shopper(secret, ALEX), "ts": ts})
        assert response.status == 400, ts
        assert "ts" in (await response.json())["error"]


async def test_the_service_checks_the_age_against_the_injectable_clock(demo_sessions: Sessions) -> None:
    service = ConversationService(demo_sessions, signature_max_age_seconds=3600)
    secret = await secret_of(demo_sessions)
    signed = signed_shopper(secret, ALEX)
    moment = dt.datetime.fromtimestamp(signed["ts"], dt.UTC)

    with frozen_at(moment + dt.timedelta(minutes=59)):
        await service.start(STORE, ALEX, signed["signature"], signed["ts"])
    with frozen_at(moment + dt.timedelta(minutes=61)):
        try:
            await service.start(STORE, ALEX, signed["signature"], signed["ts"])
        except PermissionError as exc:
            assert "expired" in str(exc)
        else:
            raise AssertionError("an hour-old signature opened the conversation")


async def test_the_demo_page_exists_only_in_demo_mode(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    await secret_of(demo_sessions)
    production = await gateway(DEMO="0")
    default = await gateway()
    demo = await gateway(DEMO="1")

    for client in (production, default):
        for path in ("/", "/?shopper=anonymous"):
            response = await client.get(path)
            assert response.status == 404, path
            assert ALEX not in await response.text()
    page = await demo.get("/")
    assert page.status == 200
    text = await page.text()
    assert f'data-shopper-email="{ALEX}"' in text and "data-shopper-ts=" in text
