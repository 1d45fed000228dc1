"""Issue 13, item 5: nobody can flood the agents' queue.

New cases are limited per conversation and per client address, counted in the store
database (so across processes); over the limits the shopper hears the truth and no new
case is made. The queue comes in pages, most urgent then newest first, so 1,100 spam
cases never hide a new real one; and an agent closes spam in bulk, in their own stores only.
SQLite and PostgreSQL (the ``demo_sessions`` fixture).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions import escalations as escalation_actions
from bot.chat import replies
from bot.core.clock import frozen_at, utc_now
from bot.core.db import create_engine, create_sessionmaker
from bot.core.models import Conversation, Escalation, EscalationAllowance, EscalationStatus
from bot.support.accounts import AgentAccounts
from bot.support.escalations import EscalationLimited, EscalationLimits, EscalationService
from tests.security.conftest import GatewayFactory

YANGTENG, BLOOMKIDS = "yangteng-auto", "bloomkids-baby"
SPAM = 1_100


async def new_conversations(sessions: async_sessionmaker[AsyncSession], count: int, store: str = YANGTENG) -> list[str]:
    """``count`` anonymous conversations, inserted in one statement (what ``count`` widget loads make)."""
    ids = [secrets.token_urlsafe(18) for _ in range(count)]
    async with sessions() as session, session.begin():
        await session.execute(
            insert(Conversation), [{"id": i, "store_id": store, "last_seq": 0, "created_at": utc_now()} for i in ids]
        )
    return ids


async def cases(sessions: async_sessionmaker[AsyncSession], **where: Any) -> list[Escalation]:
    async with sessions() as session:
        query = select(Escalation).order_by(Escalation.id)
        for column, value in where.items():
            query = query.where(getattr(Escalation, column) == value)
        return list((await session.scalars(query)).all())


async def console(client: TestClient, sessions: async_sessionmaker[AsyncSession], store: str) -> dict[str, str]:
    """Sign an agent of ``store`` in on ``client``; the headers their state-changing requests carry."""
    email, password = f"agent.{secrets.token_hex(3)}@{store}.example", secrets.token_urlsafe(12)
    assert await AgentAccounts(sessions).add(email, "Sam Lee", password, [store])
    page = await client.get("/agent")
    match = re.search(r'<meta name="login-csrf" content="([^"]+)"', await page.text())
    assert match
    login = await client.post(
        "/agent/api/login", json={"email": email, "password": password}, headers={"X-CSRF-Token": match.group(1)}
    )
    assert login.status == 200, await login.text()
    return {"X-CSRF-Token": (await login.json())["csrf_token"]}


# --- the queue after a flood ---


async def test_a_new_case_reaches_the_first_page_after_1100_spam_cases(
    gateway: GatewayFactory, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    service = EscalationService(demo_sessions)
    # The flood: 1,100 conversations from 1,100 addresses (each under its own limits).
    for number, conversation_id in enumerate(await new_conversations(demo_sessions, SPAM)):
        recorded = await service.record(
            conversation_id, "shopper_request", f"spam {number}", client_key=f"198.51.{number // 250}.{number % 250}"
        )
        assert recorded is not None and not recorded.already_open
    # Then a real shopper: a parcel that never came (high priority), and a plain request (normal).
    [lost, asking] = await new_conversations(demo_sessions, 2)
    urgent = await service.record(lost, "not_received", "nothing at my door", client_key="203.0.113.7")
    plain = await service.record(asking, "shopper_request", "can a person call me", client_key="203.0.113.8")
    assert urgent is not None and plain is not None

    client = await gateway()
    await console(client, demo_sessions, YANGTENG)
    first = await (await client.get("/agent/api/queue")).json()
    assert first["total"] == SPAM + 2 and first["waiting"] == SPAM + 2
    page = [e["id"] for e in first["escalations"]]
    assert len(page) == 50
    assert page[:2] == [urgent.id, plain.id]  # most urgent first, then the newest
    # The oldest-waiting order still puts the urgent case first.
    oldest = await (await client.get("/agent/api/queue?order=oldest&limit=10")).json()
    assert oldest["escalations"][0]["id"] == urgent.id and plain.id not in [e["id"] for e in oldest["escalations"]]

    # Every case is reachable by paging, each once, in the queue's order.
    seen = list(page)
    cursor = first["next_cursor"]
    while cursor:
        response = await client.get("/agent/api/queue", params={"cursor": cursor, "limit": "200"})
        assert response.status == 200
        body = await response.json()
        seen += [e["id"] for e in body["escalations"]]
        cursor = body["next_cursor"]
    assert len(seen) == len(set(seen)) == SPAM + 2
    assert seen[2:] == sorted(seen[2:], reverse=True)  # newest first among the normal ones

    for bad in (
        "cursor=nonsense",
        "cursor=1.2.9999999999",
        "cursor=1.2.3.4",
        "limit=0",
        "limit=201",
        "limit=x",
        "order=random",
    ):
        response = await client.get(f"/agent/api/queue?{bad}")
        assert response.status == 400, bad
        assert "error" in await response.json()


# --- the limits ---


async def test_one_conversation_opens_at_most_three_cases_a_day(
    demo_sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    # Two services over two engines: two processes (say two action servers) sharing the count.
    other_engine = create_engine(database_url)
    try:
        first, second = EscalationService(demo_sessions), EscalationService(create_sessionmaker(other_engine))
        [conversation] = await new_conversations(demo_sessions, 1)
        made = [
            await first.record(conversation, "shopper_request", "a person please"),
            await second.record(conversation, "damaged", "cracked"),
            await first.record(conversation, "not_received", "not here"),
        ]
        assert all(m is not None and not m.already_open for m in made)
        # Asking again for the same reason adds to the same case, as before.
        again = await second.record(conversation, "damaged", "the box too")
        assert again is not None and again.id == made[1].id and not again.already_open
        # A fourth reason: no new case; the words go to the newest open one.
        fourth = await second.record(conversation, "wrong_item", "and a wrong bolt")
        assert fourth is not None and fourth.already_open and fourth.id == made[2].id
        assert len(await cases(demo_sessions, conversation_id=conversation)) == 3
        assert "and a wrong bolt" in (await cases(demo_sessions, id=made[2].id))[0].details
        # With every case closed, nothing to add to: refused, with the time until the day's window ends.
        async with demo_sessions() as session, session.begin():
            await session.execute(update(Escalation).values(status=EscalationStatus.resolved.value))
        with pytest.raises(EscalationLimited) as refused:
            await first.record(conversation, "shopper_request", "once more")
        assert dt.timedelta(0) < refused.value.retry_after <= dt.timedelta(days=1)
        assert len(await cases(demo_sessions, conversation_id=conversation)) == 3
    finally:
        await other_engine.dispose()


async def test_one_address_opens_at_most_ten_cases_an_hour_even_all_at_once(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    service = EscalationService(demo_sessions)
    conversations = await new_conversations(demo_sessions, 25)
    address = "2001:db8:1:2::/64"

    async def ask(conversation_id: str) -> str:
        try:
            recorded = await service.record(conversation_id, "shopper_request", "a person", client_key=address)
        except EscalationLimited:
            return "refused"
        assert recorded is not None and not recorded.already_open
        return "new"

    outcomes = await asyncio.gather(*(ask(c) for c in conversations[:20]))
    assert outcomes.count("new") == 10 and outcomes.count("refused") == 10
    assert len(await cases(demo_sessions)) == 10
    # Another address is not affected; the full one stays full.
    assert await service.record(conversations[20], "shopper_request", "hi", client_key="192.0.2.1") is not None
    with pytest.raises(EscalationLimited):
        await service.record(conversations[21], "damaged", "cracked", client_key=address)
    # The worker's messages carry no address: only the conversation's own limit applies.
    assert await service.record(conversations[22], "shopper_request", "hi") is not None
    assert len(await cases(demo_sessions)) == 12


async def test_the_limits_open_again_when_their_window_ends_and_ended_windows_are_deleted(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    service = EscalationService(demo_sessions, EscalationLimits(per_conversation_per_day=1, per_address_per_hour=1))
    first, second, third = await new_conversations(demo_sessions, 3)
    monday = dt.datetime(2026, 11, 30, 9, 10, tzinfo=dt.UTC)
    with frozen_at(monday):
        assert await service.record(first, "shopper_request", "hi", client_key="192.0.2.7") is not None
        with pytest.raises(EscalationLimited) as refused:
            await service.record(second, "shopper_request", "hi", client_key="192.0.2.7")
        assert refused.value.retry_after == dt.timedelta(minutes=50)  # the hour's window ends at 10:00
    with frozen_at(monday + dt.timedelta(hours=1)):
        assert await service.record(second, "shopper_request", "hi", client_key="192.0.2.7") is not None
    with frozen_at(monday + dt.timedelta(days=2)):
        assert await service.record(third, "shopper_request", "hi", client_key="192.0.2.7") is not None
        async with demo_sessions() as session:
            left = (await session.scalars(select(EscalationAllowance))).all()
        # Only the windows still running: this conversation's day and this address's hour.
        assert sorted((a.scope, a.key) for a in left) == [("address", "192.0.2.7"), ("conversation", third)]


# --- through the action, as Rasa calls it ---


def tracker(conversation_id: str, text: str, intent: str, client: str) -> Tracker:
    metadata = {"store_id": YANGTENG, "client_key": client}
    return Tracker.from_dict(
        {
            "sender_id": conversation_id,
            "slots": {"requested_slot": None},
            "latest_message": {"text": text, "intent": {"name": intent}, "entities": [], "metadata": metadata},
            "events": [
                {"event": "action", "name": "action_listen"},
                {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}, "metadata": metadata},
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


async def test_over_the_limit_the_shopper_hears_the_truth_and_no_case_is_made(
    demo_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = EscalationLimits(per_conversation_per_day=3, per_address_per_hour=2)
    monkeypatch.setattr(escalation_actions, "escalation_service", lambda: EscalationService(demo_sessions, limits))
    first, second, third = await new_conversations(demo_sessions, 3)
    address = "198.51.100.23"

    async def ask(conversation_id: str, text: str = "can I talk to a real person") -> list[str | None]:
        dispatcher = CollectingDispatcher()
        await escalation_actions.ActionEscalateToHuman().run(
            dispatcher, tracker(conversation_id, text, "request_human", address), {}
        )
        return [m.get("text") for m in dispatcher.messages]

    said = await ask(first)
    [case] = await cases(demo_sessions)
    assert said[0] and said[0].startswith(f"I've asked a person from the store to help you (reference E-{case.id})")
    assert (await ask(second))[0].startswith("I've asked a person")
    # The address has used its two: a third conversation gets an honest "not now" and no case.
    [refusal] = await ask(third)
    assert refusal and refusal.startswith("Sorry, I can't pass on another request to the store from here right now")
    assert "Please try again in about " in refusal and "{" not in refusal
    assert len(await cases(demo_sessions)) == 2
    # The first conversation reports a broken part: no new case, added to its open one.
    dispatcher = CollectingDispatcher()
    recorded = await escalation_actions.escalate(
        dispatcher, tracker(first, "it arrived cracked", "report_damaged", address), "damaged", "it arrived cracked"
    )
    assert recorded is not None and recorded.already_open and recorded.id == case.id
    [text] = [m.get("text") for m in dispatcher.messages]
    assert text and text.startswith(replies.ESCALATION_ALREADY_OPEN.split("{")[0] + f"E-{case.id}")
    assert len(await cases(demo_sessions)) == 2


# --- closing spam in bulk ---


async def test_an_agent_closes_spam_in_bulk_in_their_own_stores_only(
    gateway: GatewayFactory, demo_sessions: async_sessionmaker[AsyncSession]
) -> None:
    service = EscalationService(demo_sessions)
    mine = [
        await service.record(c, "shopper_request", "spam", client_key=f"192.0.2.{n}")
        for n, c in enumerate(await new_conversations(demo_sessions, 4))
    ]
    [theirs_conversation] = await new_conversations(demo_sessions, 1, store=BLOOMKIDS)
    theirs = await service.record(theirs_conversation, "shopper_request", "not spam")
    assert theirs is not None and all(m is not None for m in mine)
    claimed = mine[3]
    async with demo_sessions() as session, session.begin():
        await session.execute(
            update(Escalation).where(Escalation.id == claimed.id).values(status=EscalationStatus.claimed.value)
        )

    client = await gateway()
    headers = await console(client, demo_sessions, YANGTENG)
    asked = [mine[0].id, mine[1].id, claimed.id, theirs.id, 987654]
    # Without the CSRF token nothing happens.
    assert (await client.post("/agent/api/escalations/spam", json={"escalation_ids": asked})).status == 403
    response = await client.post("/agent/api/escalations/spam", json={"escalation_ids": asked}, headers=headers)
    assert response.status == 200
    assert await response.json() == {
        "closed": [mine[0].id, mine[1].id],
        "not_closed": sorted([claimed.id, theirs.id, 987654]),
    }
    statuses = {e.id: e.status for e in await cases(demo_sessions)}
    assert statuses == {mine[0].id: "spam", mine[1].id: "spam", mine[2].id: "open", claimed.id: "claimed", theirs.id: "open"}
    queue = await (await client.get("/agent/api/queue")).json()
    assert sorted(e["id"] for e in queue["escalations"]) == sorted([mine[2].id, claimed.id])
    # Closed once: closing again changes nothing.
    again = await client.post("/agent/api/escalations/spam", json={"escalation_ids": [mine[0].id]}, headers=headers)
    assert await again.json() == {"closed": [], "not_closed": [mine[0].id]}
    for bad in (
        {},
        {"escalation_ids": []},
        {"escalation_ids": ["1"]},
        {"escalation_ids": [True]},
        {"escalation_ids": [2**40]},
        {"escalation_ids": list(range(1, 202))},
    ):
        refused = await client.post("/agent/api/escalations/spam", json=bad, headers=headers)
        assert refused.status == 400, bad
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).where(Escalation.status == "spam")) == 2
