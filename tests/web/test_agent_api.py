"""The agent console's API through aiohttp's test client: sessions, CSRF,
bad logins, claim races, store separation, XSS-shaped text, the live feed,
and pause/resume in a real Rasa server. Store databases on SQLite and
PostgreSQL (the ``demo_sessions`` fixture)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.chat import replies
from bot.chat.conversations import ConversationService, NewMessage
from bot.chat.rasa_client import RasaClient
from bot.core.config import Settings
from bot.core.models import Escalation, LoginFailure, Message, Photo
from bot.runtime.stack import Stack
from bot.support.accounts import AgentAccounts
from bot.support.console_sessions import MAX_FAILURES_PER_EMAIL
from bot.support.escalations import EscalationService
from bot.support.handoff import MAX_NOTE_CHARS, MAX_REPLY_CHARS
from bot.web.app import create_app
from tests.conftest import signed_shopper
from tests.photos.sample_images import has_gps, image_bytes, with_gps_and_orientation

pytestmark = pytest.mark.engine

YANGTENG, BLOOMKIDS = "yangteng-auto", "bloomkids-baby"
XSS = "<img src=x onerror=\"document.title='pwned'\"><script>alert(1)</script>"


@pytest.fixture
async def server(engine: tuple[Stack, Settings], demo_sessions) -> AsyncIterator[TestServer]:  # type: ignore[no-untyped-def]
    """The gateway over the test's store database, talking to the real Rasa server."""
    server = TestServer(create_app(engine[1], demo_sessions))
    await server.start_server()
    yield server
    await server.close()


class Console:
    """One browser: its own cookie jar, signed in as one agent."""

    def __init__(self, server: TestServer) -> None:
        # Not aiohttp's TestClient: closing one would stop the shared server.
        self.client = aiohttp.ClientSession(base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def __aenter__(self) -> Console:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.close()

    async def login_csrf(self) -> str:
        page = await self.client.get("/agent")
        assert page.status == 200
        match = re.search(r'<meta name="login-csrf" content="([^"]+)"', await page.text())
        assert match, "the console page carries the login CSRF token"
        return match.group(1)

    async def login(self, email: str, password: str, csrf: str | None = None) -> aiohttp.ClientResponse:
        token = csrf if csrf is not None else await self.login_csrf()
        response = await self.client.post(
            "/agent/api/login", json={"email": email, "password": password}, headers={"X-CSRF-Token": token}
        )
        if response.status == 200:
            self.csrf = (await response.json())["csrf_token"]
        return response

    async def post(self, path: str, body: dict[str, Any] | None = None, **headers: str) -> aiohttp.ClientResponse:
        return await self.client.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf, **headers})

    async def get(self, path: str) -> aiohttp.ClientResponse:
        return await self.client.get(path)


async def agent(sessions, store: str, name: str = "Sam Lee") -> tuple[str, str]:  # type: ignore[no-untyped-def]
    email, password = f"{name.split()[0].lower()}.{secrets.token_hex(3)}@{store}.example", secrets.token_urlsafe(12)
    assert await AgentAccounts(sessions).add(email, name, password, [store])
    return email, password


async def signed_in(server: TestServer, sessions, store: str = YANGTENG, name: str = "Sam Lee") -> Console:  # type: ignore[no-untyped-def]
    console = Console(server)
    email, password = await agent(sessions, store, name)
    response = await console.login(email, password)
    assert response.status == 200, await response.text()
    return console


async def escalated(sessions, store: str = YANGTENG, reason: str = "shopper_request", words: str = "a person please") -> str:  # type: ignore[no-untyped-def]
    """A signed-in shopper's conversation with an open escalation; its id."""
    conversations = ConversationService(sessions)
    await conversations.ensure_shopper_secrets()
    email = f"shopper.{secrets.token_hex(3)}@example.com"
    shopper = signed_shopper(await conversations.shopper_secret(store) or "", email)
    chat, _ = await conversations.start(store, email, shopper["signature"], shopper["ts"])
    await conversations.append(chat, [NewMessage("shopper", words)])
    recorded = await EscalationService(sessions).record(chat.conversation_id, reason, words)
    assert recorded is not None
    return chat.conversation_id


# --- signing in ---


async def test_the_console_page_is_locked_down(server: TestServer) -> None:
    async with Console(server) as console:
        page = await console.get("/agent")
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        cookie = page.headers["Set-Cookie"]
        assert "agent_login_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert (await console.get("/agent/api/queue")).status == 401
        assert (await console.get("/agent/static/agent/main.js")).status == 200
        assert (await console.get("/agent/static/i18n/agent.zh-CN.json")).status == 200
        assert (await console.get("/agent/static/i18n/seller.en.json")).status == 404  # each console serves its own texts
        assert (await console.get("/agent/static/..%2Fapp.py")).status == 404
        assert (await console.get("/agent/static/agent/..%2F..%2Fapp.py")).status == 404


async def test_a_good_login_sets_a_strict_http_only_session_cookie(server: TestServer, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    email, password = await agent(demo_sessions, YANGTENG)
    async with Console(server) as console:
        response = await console.login(email.upper(), password)  # emails are case-insensitive
        assert response.status == 200
        cookie = response.headers["Set-Cookie"]
        assert "agent_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "Path=/agent" in cookie and "Secure" not in cookie  # plain HTTP here
        body = await response.json()
        assert body["agent"]["stores"] == [{"id": YANGTENG, "name": "Yangteng Auto Parts", "role": "agent"}]
        me = await console.get("/agent/api/me")
        assert me.status == 200 and (await me.json())["agent"]["email"] == email
        # The limits the console's reply and note boxes count towards: the server's own, never repeated in JS.
        limits = {"reply_chars": MAX_REPLY_CHARS, "note_chars": MAX_NOTE_CHARS}
        assert body["limits"] == limits and (await me.json())["limits"] == limits


async def test_the_session_cookie_is_secure_behind_https(server: TestServer, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    email, password = await agent(demo_sessions, YANGTENG)
    async with Console(server) as console:
        csrf = await console.login_csrf()
        response = await console.client.post(
            "/agent/api/login",
            json={"email": email, "password": password},
            headers={"X-CSRF-Token": csrf, "X-Forwarded-Proto": "https"},
        )
        assert response.status == 200
        assert "Secure" in response.headers["Set-Cookie"]


async def test_bad_logins_are_refused_alike_and_then_throttled(server: TestServer, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    email, password = await agent(demo_sessions, YANGTENG)
    async with Console(server) as console:
        wrong = await console.login(email, password + "x")
        unknown = await console.login("nobody@example.com", password)
        assert wrong.status == unknown.status == 401
        assert (
            await wrong.json()
            == await unknown.json()
            == {"error": "wrong email or password", "code": "login_wrong", "params": {}}
        )
        assert "agent_session" not in wrong.headers.get("Set-Cookie", "")
        assert (await console.login(email, "", csrf=await console.login_csrf())).status == 400
        for _ in range(MAX_FAILURES_PER_EMAIL - 1):
            assert (await console.login(email, "guess-" + secrets.token_hex(4))).status == 401
        # Now even the right password waits: the guesser cannot tell.
        throttled = await console.login(email, password)
        assert throttled.status == 429
        assert 1 <= int(throttled.headers["Retry-After"]) <= 15 * 60
        assert (await console.get("/agent/api/me")).status == 401
    async with demo_sessions() as session:
        assert (
            await session.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.email == email))
            == MAX_FAILURES_PER_EMAIL
        )


async def test_login_needs_the_pages_csrf_token(server: TestServer, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    email, password = await agent(demo_sessions, YANGTENG)
    async with Console(server) as console:
        await console.login_csrf()
        assert (await console.login(email, password, csrf="")).status == 403
        assert (await console.login(email, password, csrf="forged")).status == 403
    async with Console(server) as fresh:  # no cookie from the page at all
        assert (await fresh.login(email, password, csrf="anything")).status == 403


async def test_logout_ends_the_session(server: TestServer, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    console = await signed_in(server, demo_sessions)
    async with console:
        assert (await console.client.post("/agent/api/logout")).status == 403  # CSRF applies to logout too
        assert (await console.post("/agent/api/logout")).status == 204
        assert (await console.get("/agent/api/me")).status == 401
        assert (await console.get("/agent/api/queue")).status == 401


# --- CSRF on every state change ---


@pytest.mark.parametrize("action", ["claim", "messages", "notes", "handback", "resolve"])
async def test_state_changes_need_the_sessions_csrf_token(server: TestServer, demo_sessions, action: str) -> None:  # type: ignore[no-untyped-def]
    conversation = await escalated(demo_sessions)
    console = await signed_in(server, demo_sessions)
    async with console:
        path = f"/agent/api/conversations/{conversation}/{action}"
        missing = await console.client.post(path, json={"text": "hi"})
        forged = await console.client.post(path, json={"text": "hi"}, headers={"X-CSRF-Token": "x" * 43})
        foreign = await console.post(path, {"text": "hi"}, Origin="https://evil.example")
        assert missing.status == forged.status == foreign.status == 403
    async with demo_sessions() as session:
        escalation = await session.scalar(select(Escalation).where(Escalation.conversation_id == conversation))
        assert escalation.status == "open" and escalation.claimed_by is None
        assert await session.scalar(select(func.count()).select_from(Message).where(Message.sender == "agent")) == 0


# --- the queue, and one store never sees another's ---


async def test_the_queue_puts_the_most_urgent_then_the_newest_first(server: TestServer, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    request = await escalated(demo_sessions, reason="shopper_request")
    damaged = await escalated(demo_sessions, reason="damaged", words="the pan is cracked")
    lost = await escalated(demo_sessions, reason="not_received", words="nothing at my door")
    console = await signed_in(server, demo_sessions)
    async with console:
        queue = (await (await console.get("/agent/api/queue")).json())["escalations"]
        assert [e["conversation_id"] for e in queue] == [lost, damaged, request]
        # ... or the longest waiting first, still most urgent first.
        oldest = (await (await console.get("/agent/api/queue?order=oldest")).json())["escalations"]
        assert [e["conversation_id"] for e in oldest] == [damaged, lost, request]
        queue = oldest
        first = queue[0]
        assert first["priority"] == "high" and first["reason_title"] == "Arrived damaged"
        assert first["status"] == "open" and first["waiting_seconds"] >= 0 and first["reference"].startswith("E-")


async def test_an_agent_never_sees_or_touches_another_stores_conversations(server: TestServer, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    theirs = await escalated(demo_sessions, store=BLOOMKIDS, reason="missing_parts", words="no screws in the box")
    mine = await escalated(demo_sessions, store=YANGTENG)
    yangteng = await signed_in(server, demo_sessions, YANGTENG)
    bloomkids = await signed_in(server, demo_sessions, BLOOMKIDS, name="Mei Chen")
    async with yangteng, bloomkids:
        queue = (await (await yangteng.get("/agent/api/queue")).json())["escalations"]
        assert [e["conversation_id"] for e in queue] == [mine]
        assert (await yangteng.get(f"/agent/api/conversations/{theirs}")).status == 404
        for action, body in (
            ("claim", {}),
            ("messages", {"text": "hi"}),
            ("notes", {"text": "x"}),
            ("handback", {}),
            ("resolve", {}),
        ):
            response = await yangteng.post(f"/agent/api/conversations/{theirs}/{action}", body)
            assert response.status == 404, action
        # The other store's agent works on it normally.
        other_queue = (await (await bloomkids.get("/agent/api/queue")).json())["escalations"]
        assert [e["conversation_id"] for e in other_queue] == [theirs]
        assert (await bloomkids.post(f"/agent/api/conversations/{theirs}/claim")).status == 200
        assert (await bloomkids.get(f"/agent/api/conversations/{mine}")).status == 404


# --- claiming, replying, handing back ---


async def test_two_agents_claiming_at_once_never_both_win(server: TestServer, demo_sessions, engine) -> None:  # type: ignore[no-untyped-def]
    sam = await signed_in(server, demo_sessions, name="Sam Lee")
    kim = await signed_in(server, demo_sessions, name="Kim Park")
    async with sam, kim:
        for _ in range(5):
            conversation = await escalated(demo_sessions)
            path = f"/agent/api/conversations/{conversation}/claim"
            responses = await asyncio.gather(sam.post(path), kim.post(path))
            statuses = sorted(r.status for r in responses)
            assert statuses == [200, 409], statuses
            loser = next(r for r in responses if r.status == 409)
            assert "already claimed by" in (await loser.json())["error"]
            winner = next(r for r in responses if r.status == 200)
            view = await winner.json()
            assert view["conversation"]["mine"] is True
            assert [e["status"] for e in view["escalations"]] == ["claimed"]
            joined = [m for m in view["messages"] if m["sender"] == "store" and "has joined the chat" in m["text"]]
            assert len(joined) == 1
            async with aiohttp.ClientSession() as http:
                assert await RasaClient(engine[1], http).is_paused(conversation)


async def test_reply_goes_to_the_shopper_as_the_agents_and_notes_never_do(server: TestServer, demo_sessions, engine) -> None:  # type: ignore[no-untyped-def]
    conversation = await escalated(demo_sessions, reason="damaged", words="the pan is cracked")
    console = await signed_in(server, demo_sessions, name="Lin Wei")
    async with console:
        base = f"/agent/api/conversations/{conversation}"
        early = await console.post(f"{base}/messages", {"text": "Hello"})
        assert early.status == 409  # claim first
        assert (await console.post(f"{base}/claim")).status == 200
        assert (await console.post(f"{base}/messages", {"text": "   "})).status == 400
        assert (await console.post(f"{base}/messages", {"text": "x" * 2001})).status == 400
        sent = await console.post(f"{base}/messages", {"text": "So sorry! Could you send a photo?"})
        assert sent.status == 201
        message = (await sent.json())["message"]
        assert message["sender"] == "agent" and message["author"] == "Lin Wei"
        note = await console.post(f"{base}/notes", {"text": "Offer a replacement, not a refund"})
        assert note.status == 201 and (await note.json())["note"]["author"] == "Lin Wei"
        view = await (await console.get(base)).json()
        assert [n["text"] for n in view["notes"]] == ["Offer a replacement, not a refund"]
    async with demo_sessions() as session:
        store_id = await session.scalar(select(Escalation.store_id).where(Escalation.conversation_id == conversation))
    shopper_view = await ConversationService(demo_sessions).messages_after(_chat(conversation, store_id), 0)
    assert [(m.sender, m.author, m.text) for m in shopper_view if m.sender == "agent"] == [
        ("agent", "Lin Wei", "So sorry! Could you send a photo?")
    ]
    assert all("replacement, not a refund" not in m.text for m in shopper_view)
    # Rasa's tracker has the agent's words as a bot event too.
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{engine[1].rasa_url}/conversations/{conversation}/tracker", params={"token": engine[1].rasa_token}
        ) as response,
    ):
        tracker = await response.json()
    assert any(e.get("event") == "bot" and e.get("text") == "So sorry! Could you send a photo?" for e in tracker["events"])


def _chat(conversation: str, store_id: str):  # type: ignore[no-untyped-def]
    from bot.chat.conversations import ChatSession

    return ChatSession(conversation, store_id, None)


async def test_hand_back_resumes_the_bot_and_closes_the_case(server: TestServer, demo_sessions, engine) -> None:  # type: ignore[no-untyped-def]
    conversation = await escalated(demo_sessions)
    sam = await signed_in(server, demo_sessions, name="Sam Lee")
    kim = await signed_in(server, demo_sessions, name="Kim Park")
    async with sam, kim, aiohttp.ClientSession() as http:
        rasa = RasaClient(engine[1], http)
        base = f"/agent/api/conversations/{conversation}"
        assert await rasa.send_message(conversation, "hi", {"store_id": YANGTENG})  # the chat so far
        assert (await sam.post(f"{base}/claim")).status == 200
        assert await rasa.is_paused(conversation)
        # While paused, Rasa records the shopper's words and says nothing.
        assert await rasa.send_message(conversation, "hello?", {"store_id": YANGTENG}) == []
        assert (await kim.post(f"{base}/handback")).status == 409  # only the holder hands back
        handed = await sam.post(f"{base}/handback")
        assert handed.status == 200
        view = await handed.json()
        assert view["conversation"]["handled_by"] is None
        assert [e["status"] for e in view["escalations"]] == ["handed_back"]
        assert "handed you back to the assistant" in view["messages"][-1]["text"]
        assert not await rasa.is_paused(conversation)
        replies = await rasa.send_message(conversation, "hello", {"store_id": YANGTENG})
        assert replies and replies[0].get("text")  # the bot answers again
        queue = (await (await sam.get("/agent/api/queue")).json())["escalations"]
        assert conversation not in [e["conversation_id"] for e in queue]
        # Claimed again later, then resolved.
        assert (await kim.post(f"{base}/claim")).status == 200
        resolved = await kim.post(f"{base}/resolve")
        assert resolved.status == 200
        assert "marked this resolved" in (await resolved.json())["messages"][-1]["text"]
        assert not await rasa.is_paused(conversation)


async def test_hostile_shopper_text_comes_back_as_plain_json_text(server: TestServer, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    conversation = await escalated(demo_sessions, words=XSS)
    console = await signed_in(server, demo_sessions)
    async with console:
        response = await console.get(f"/agent/api/conversations/{conversation}")
        assert response.headers["Content-Type"].startswith("application/json")
        view = await response.json()
        assert XSS in [m["text"] for m in view["messages"]]  # stored and returned verbatim, as data
        queue = (await (await console.get("/agent/api/queue")).json())["escalations"]
        assert "<img src=x" in queue[0]["summary"]


# --- the live feed and presence ---


async def _next_event(response: aiohttp.ClientResponse, kind: str, timeout: float = 10) -> str:
    async def read() -> str:
        event = None
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == kind:
                return line[6:]
        raise AssertionError("the feed ended")

    return await asyncio.wait_for(read(), timeout)


async def test_the_live_feed_announces_new_escalations_and_marks_the_agent_online(server: TestServer, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    escalations = EscalationService(demo_sessions)
    before = await escalations.availability(YANGTENG)
    assert before is not None and before.agents_online == 0
    console = await signed_in(server, demo_sessions)
    async with console:
        feed = await console.get("/agent/api/events")
        assert feed.headers["Content-Type"].startswith("text/event-stream")
        await _next_event(feed, "ready")
        online = await escalations.availability(YANGTENG)
        assert online is not None and online.agents_online == 1
        assert "connecting you with a person" in online.notice(dt.datetime.now(dt.UTC))
        # Another store's agent is not "online" for this store.
        assert (await escalations.availability(BLOOMKIDS)).agents_online == 0  # type: ignore[union-attr]
        # An escalation recorded by another process (the action server) arrives without a reload.
        conversation = await escalated(demo_sessions)
        await _next_event(feed, "queue")
        data = await _next_event(feed, "conversation")
        assert conversation in data
        feed.close()
    for _ in range(50):  # the gateway notices the closed feed
        after = await escalations.availability(YANGTENG)
        if after is not None and after.agents_online == 0:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the agent stayed online after closing the console")


async def test_while_an_agent_holds_the_chat_the_shoppers_words_are_kept_and_the_bot_is_silent(
    server: TestServer, demo_sessions, engine
) -> None:  # type: ignore[no-untyped-def]
    conversations = ConversationService(demo_sessions)
    await conversations.ensure_shopper_secrets()
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as shopper:
        started = await shopper.post(f"/api/v1/stores/{YANGTENG}/conversations", json={})
        chat = await started.json()
        auth = {"Authorization": f"Bearer {chat['token']}"}
        conversation = chat["conversation_id"]
        answered = await shopper.post(
            f"/api/v1/conversations/{conversation}/messages", json={"text": "I want a person"}, headers=auth
        )
        assert answered.status == 200
        assert any(m["sender"] == "bot" for m in (await answered.json())["messages"])
        console = await signed_in(server, demo_sessions)
        async with console:
            assert (await console.post(f"/agent/api/conversations/{conversation}/claim")).status == 200
            quiet = await shopper.post(
                f"/api/v1/conversations/{conversation}/messages", json={"text": "where is my order?"}, headers=auth
            )
            assert quiet.status == 200
            assert [(m["sender"], m["text"]) for m in (await quiet.json())["messages"]] == [
                ("shopper", "where is my order?")
            ]
            view = await (await console.get(f"/agent/api/conversations/{conversation}")).json()
            assert view["messages"][-1]["text"] == "where is my order?"
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{engine[1].rasa_url}/conversations/{conversation}/tracker", params={"token": engine[1].rasa_token}
        ) as response,
    ):
        events = (await response.json())["events"]
    assert [e["text"] for e in events if e["event"] == "user"][-1] == "where is my order?"
    assert events[-1]["event"] == "user"  # and the bot said nothing after it


# --- photos: the case's gallery, asking for more, sending an image ---


async def _shopper_with_photos(
    server: TestServer, sessions, store: str = YANGTENG, count: int = 2
) -> tuple[str, dict[str, str], list[str]]:  # type: ignore[no-untyped-def]
    """A shopper's conversation with a case, and ``count`` photos sent in it through the chat API."""
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as shopper:
        started = await (await shopper.post(f"/api/v1/stores/{store}/conversations", json={})).json()
        cid, auth = started["conversation_id"], {"Authorization": f"Bearer {started['token']}"}
        recorded = await EscalationService(sessions).record(cid, "damaged", "the pan is dented")
        assert recorded is not None
        photo_ids = []
        for shade in range(count):
            response = await shopper.post(
                f"/api/v1/conversations/{cid}/photos",
                data=image_bytes("PNG", (120, 90), colour=(shade * 90, 40, 40)),
                headers=auth,
            )
            assert response.status == 201, await response.text()
            photo_ids.append((await response.json())["photo"]["id"])
        sent = await shopper.post(f"/api/v1/conversations/{cid}/messages", json={"photos": photo_ids}, headers=auth)
        assert sent.status == 200
    return cid, auth, photo_ids


async def test_the_case_shows_its_photos_to_the_stores_agents_only(server: TestServer, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    cid, _, photo_ids = await _shopper_with_photos(server, demo_sessions)
    async with await signed_in(server, demo_sessions) as console:
        view = await (await console.get(f"/agent/api/conversations/{cid}")).json()
        [case] = view["escalations"]
        assert (case["reason"], [p["id"] for p in case["photos"]]) == ("damaged", photo_ids)
        assert case["photos"][0] == {"id": photo_ids[0], "width": 120, "height": 90}
        for photo_id in photo_ids:
            assert (await console.get(f"/agent/api/photos/{photo_id}?variant=thumbnail")).status == 200
    async with await signed_in(server, demo_sessions, BLOOMKIDS) as other:
        assert (await other.get(f"/agent/api/conversations/{cid}")).status == 404
        assert (await other.get(f"/agent/api/photos/{photo_ids[0]}")).status == 404


async def test_asking_for_more_photos_sends_the_prompt_with_the_upload_button(
    server: TestServer, demo_sessions, engine
) -> None:  # type: ignore[no-untyped-def]
    cid, auth, _ = await _shopper_with_photos(server, demo_sessions, count=1)
    async with await signed_in(server, demo_sessions) as console:
        base = f"/agent/api/conversations/{cid}"
        unclaimed = await console.post(f"{base}/photo-request")
        assert (unclaimed.status, (await unclaimed.json())["code"]) == (409, "claim_before_reply")
        assert (await console.post(f"{base}/claim")).status == 200
        asked = await console.post(f"{base}/photo-request")
        assert asked.status == 201
        message = (await asked.json())["message"]
        assert (message["sender"], message["text"], message["attachment"]) == (
            "agent",
            replies.AGENT_PHOTO_REQUEST,
            {"type": "photo_request"},
        )
        own_words = await console.post(f"{base}/photo-request", {"text": "One of the label too, please."})
        assert (await own_words.json())["message"]["text"] == "One of the label too, please."
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as shopper:
        transcript = await (await shopper.get(f"/api/v1/conversations/{cid}/messages", headers=auth)).json()
    assert [m["attachment"] for m in transcript["messages"] if m["sender"] == "agent"] == [{"type": "photo_request"}] * 2


async def test_an_agent_sends_an_image_checked_and_stripped_as_a_shoppers(server: TestServer, demo_sessions, engine) -> None:  # type: ignore[no-untyped-def]
    cid, auth, _ = await _shopper_with_photos(server, demo_sessions, count=1)
    diagram = with_gps_and_orientation("JPEG")
    async with await signed_in(server, demo_sessions) as console:
        base = f"/agent/api/conversations/{cid}"
        headers = {"X-CSRF-Token": console.csrf, "Content-Type": "image/jpeg"}
        unclaimed = await console.client.post(f"{base}/photos", data=diagram, headers=headers)
        assert (unclaimed.status, (await unclaimed.json())["code"]) == (409, "claim_before_reply")
        assert (await console.post(f"{base}/claim")).status == 200
        no_csrf = await console.client.post(f"{base}/photos", data=diagram, headers={"Content-Type": "image/jpeg"})
        assert no_csrf.status == 403
        script = await console.client.post(f"{base}/photos", data=b"#!/bin/sh\nrm -rf /\n", headers=headers)
        assert (script.status, (await script.json())["code"]) == (400, "photo_not_an_image")
        sent = await console.client.post(f"{base}/photos", data=diagram, headers=headers)
        assert sent.status == 201, await sent.text()
        message = (await sent.json())["message"]
        [photo] = message["attachment"]["photos"]
        assert (message["sender"], message["attachment"]["type"], photo["width"], photo["height"]) == (
            "agent",
            "photos",
            100,
            200,
        )
    async with await signed_in(server, demo_sessions, BLOOMKIDS) as other:
        foreign = await other.client.post(f"{base}/photos", data=diagram, headers={"X-CSRF-Token": other.csrf})
        assert foreign.status == 404
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as shopper:
        served = await shopper.get(f"/api/v1/conversations/{cid}/photos/{photo['id']}", headers=auth)
        assert served.status == 200
        assert not has_gps(await served.read())
    async with demo_sessions() as session:
        senders = (
            await session.scalars(select(Photo.sender).where(Photo.conversation_id == cid).order_by(Photo.created_at))
        ).all()
    assert senders == ["shopper", "agent"]
