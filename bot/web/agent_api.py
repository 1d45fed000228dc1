"""The agent console at /agent: its page, its JSON API and its live feed (SSE).

Security, in order of the request's path:
- the session is a random HttpOnly, SameSite=Strict cookie (Secure under
  HTTPS) of which the database keeps only the SHA-256;
- every state-changing request carries ``X-CSRF-Token``: the session's own
  token, or for the login the token the page was served with (double submit
  against an HttpOnly cookie); a foreign ``Origin`` is refused as well;
- failed logins are throttled per email and per address (429, Retry-After);
- every query is scoped to the agent's stores: another store's conversation
  answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from string import Template
from typing import Any

from aiohttp import web

from bot.agents import AgentAccounts, LoginThrottled, SignedInAgent
from bot.handoff import BadText, Change, Conflict, EngineUnavailable, HandoffService, NotFound
from bot.models import EscalationStatus
from bot.web.live import LiveHub

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "agent_session"
LOGIN_CSRF_COOKIE = "agent_login_csrf"
COOKIE_PATH = "/agent"
CSRF_HEADER = "X-CSRF-Token"
#: How often the feed looks in the database for changes made by other
#: processes (the action server's escalations, the worker's messages).
FEED_INTERVAL = 1.0
#: …looking back this far, since a row's time is set before its transaction commits.
FEED_OVERLAP = dt.timedelta(seconds=5)
KEEPALIVE_SECONDS = 15.0
#: The console's live feed marks the agent online this often.
PRESENCE_SECONDS = 20.0

CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

ACCOUNTS = web.AppKey("agent_accounts", AgentAccounts)
HANDOFF = web.AppKey("handoff", HandoffService)
SHOPPER_HUB = web.AppKey("agent_shopper_hub", LiveHub)
SIGNED_IN = web.RequestKey("signed_in_agent", SignedInAgent)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class AgentFeed:
    """One poller per gateway process, fanning changes out to the consoles of the stores concerned."""

    def __init__(self, handoff: HandoffService, interval: float = FEED_INTERVAL) -> None:
        self._handoff = handoff
        self._interval = interval
        self._subscribers: dict[asyncio.Queue[Change], frozenset[str]] = {}
        self._sent: dict[tuple[str, str], dt.datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, store_ids: frozenset[str]) -> asyncio.Queue[Change]:
        queue: asyncio.Queue[Change] = asyncio.Queue(200)
        self._subscribers[queue] = store_ids
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll())
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Change]) -> None:
        self._subscribers.pop(queue, None)

    def publish(self, change: Change) -> None:
        key = (change.kind, change.conversation_id)
        if self._sent.get(key, dt.datetime.min.replace(tzinfo=dt.timezone.utc)) >= change.at:
            return
        self._sent[key] = change.at
        for queue, stores in self._subscribers.items():
            if change.store_id in stores and not queue.full():
                queue.put_nowait(change)

    async def _poll(self) -> None:
        since = _now() - FEED_OVERLAP
        while self._subscribers:
            await asyncio.sleep(self._interval)
            started = _now()
            stores = frozenset().union(*self._subscribers.values())
            try:
                changes = await self._handoff.changes_since(stores, since)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the feed
                log.exception("agent feed poll failed")
                continue
            for change in changes:
                self.publish(change)
            since = started - FEED_OVERLAP
            self._sent = {k: at for k, at in self._sent.items() if at > since}

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


FEED = web.AppKey("agent_feed", AgentFeed)


def _secure(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def _set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name, value, path=COOKIE_PATH, httponly=True, samesite="Strict", secure=_secure(request), max_age=max_age
    )


def _same_origin(request: web.Request) -> bool:
    """Browsers send Origin on every cross-site POST; a client without one still needs the CSRF token."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin in (f"{request.scheme}://{request.host}", f"https://{request.host}")


@web.middleware
async def agent_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """For /agent/api/: the session, CSRF, JSON errors, and no caching."""
    if not request.path.startswith("/agent/api/"):
        return await handler(request)
    try:
        if request.method not in ("GET", "HEAD"):
            if not _same_origin(request):
                return _error(403, "cross-origin requests are refused")
        if request.path != "/agent/api/login":
            agent = await request.app[ACCOUNTS].session_for(request.cookies.get(SESSION_COOKIE))
            if agent is None:
                return _error(401, "please sign in")
            if request.method not in ("GET", "HEAD") and not agent.csrf_matches(request.headers.get(CSRF_HEADER)):
                return _error(403, "missing or wrong CSRF token; reload the page")
            request[SIGNED_IN] = agent
        response = await handler(request)
    except web.HTTPException as exc:
        response = _error(exc.status, exc.reason)
    except NotFound:
        response = _error(404, "no such conversation in your stores")
    except Conflict as exc:
        response = _error(409, str(exc))
    except BadText as exc:
        response = _error(400, str(exc))
    except EngineUnavailable:
        log.exception("Rasa did not take a pause or resume")
        response = _error(502, "the assistant engine is not answering; nothing was changed, try again")
    if not response.prepared:
        response.headers["Cache-Control"] = "no-store"
    return response


def _agent(request: web.Request) -> SignedInAgent:
    return request[SIGNED_IN]  # type: ignore[no-any-return]


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise web.HTTPBadRequest(reason="the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="the body must be a JSON object")
    return body


async def console_page(request: web.Request) -> web.Response:
    """The console's page, with a fresh login CSRF token (meta tag + HttpOnly cookie)."""
    token = secrets.token_urlsafe(32)
    page = Template((STATIC / "agent.html").read_text(encoding="utf-8")).safe_substitute(login_csrf=token)
    response = web.Response(
        text=page, content_type="text/html",
        headers={"Content-Security-Policy": CONSOLE_CSP, "Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=None)
    return response


async def console_static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    types = {"agent.js": "application/javascript", "agent.css": "text/css"}
    if name not in types:
        raise web.HTTPNotFound()
    return web.FileResponse(STATIC / name, headers={"Content-Type": f"{types[name]}; charset=utf-8", "Cache-Control": "no-cache"})


async def login(request: web.Request) -> web.Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    given = request.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        return _error(403, "missing or wrong CSRF token; reload the page")
    body = await _body(request)
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        return _error(400, 'send "email" and "password"')
    if len(email) > 320 or len(password) > 1000:
        return _error(401, "wrong email or password")
    try:
        result = await request.app[ACCOUNTS].login(email, password, request.remote or "unknown")
    except LoginThrottled as exc:
        return _error(429, str(exc), {"Retry-After": str(exc.retry_after)})
    if result is None:
        return _error(401, "wrong email or password")
    agent, token = result
    response = web.json_response(agent.as_json())
    _set_cookie(request, response, SESSION_COOKIE, token, max_age=12 * 3600)
    response.del_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)
    return response


async def logout(request: web.Request) -> web.Response:
    await request.app[ACCOUNTS].logout(request.cookies.get(SESSION_COOKIE, ""))
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


async def me(request: web.Request) -> web.Response:
    return web.json_response(_agent(request).as_json())


async def queue(request: web.Request) -> web.Response:
    return web.json_response({"escalations": await request.app[HANDOFF].queue(_agent(request))})


async def conversation(request: web.Request) -> web.Response:
    view = await request.app[HANDOFF].conversation(_agent(request), request.match_info["conversation_id"])
    return web.json_response(view)


def _changed(request: web.Request, conversation_id: str, store_id: str, queue_too: bool = True) -> None:
    """Tell this process's consoles and the shopper's widget at once; other processes learn from the feed's poll."""
    now = _now()
    feed: AgentFeed = request.app[FEED]
    if queue_too:
        feed.publish(Change("queue", store_id, conversation_id, now))
    feed.publish(Change("conversation", store_id, conversation_id, now))
    request.app[SHOPPER_HUB].new_messages(conversation_id)


async def claim(request: web.Request) -> web.Response:
    agent, cid = _agent(request), request.match_info["conversation_id"]
    handoff = request.app[HANDOFF]
    await handoff.claim(agent, cid)
    view = await handoff.conversation(agent, cid)
    _changed(request, cid, view["conversation"]["store_id"])
    return web.json_response(view)


async def _release(request: web.Request, outcome: EscalationStatus) -> web.Response:
    agent, cid = _agent(request), request.match_info["conversation_id"]
    handoff = request.app[HANDOFF]
    await handoff.release(agent, cid, outcome)
    view = await handoff.conversation(agent, cid)
    _changed(request, cid, view["conversation"]["store_id"])
    return web.json_response(view)


async def hand_back(request: web.Request) -> web.Response:
    return await _release(request, EscalationStatus.handed_back)


async def resolve(request: web.Request) -> web.Response:
    return await _release(request, EscalationStatus.resolved)


async def reply(request: web.Request) -> web.Response:
    agent, cid = _agent(request), request.match_info["conversation_id"]
    body = await _body(request)
    store_id, message = await request.app[HANDOFF].reply(agent, cid, body.get("text"))
    _changed(request, cid, store_id, queue_too=False)
    return web.json_response({"message": message.as_json()}, status=201)


async def note(request: web.Request) -> web.Response:
    agent, cid = _agent(request), request.match_info["conversation_id"]
    body = await _body(request)
    store_id, saved = await request.app[HANDOFF].note(agent, cid, body.get("text"))
    _changed(request, cid, store_id, queue_too=False)
    return web.json_response({"note": saved}, status=201)


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: ``queue`` (refresh the queue) and ``conversation`` (refresh that one)."""
    agent = _agent(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    accounts = request.app[ACCOUNTS]
    feed: AgentFeed = request.app[FEED]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    changes = feed.subscribe(agent.store_ids)
    await accounts.seen(token)
    loop = asyncio.get_running_loop()
    last_presence = loop.time()
    try:
        await response.write(b"retry: 3000\n\nevent: ready\ndata: {}\n\n")
        while True:
            try:
                change = await asyncio.wait_for(changes.get(), KEEPALIVE_SECONDS)
            except asyncio.TimeoutError:
                await response.write(b": keep-alive\n\n")
            else:
                data = json.dumps({"conversation_id": change.conversation_id} if change.kind == "conversation" else {})
                await response.write(f"event: {change.kind}\ndata: {data}\n\n".encode())
            if loop.time() - last_presence >= PRESENCE_SECONDS:
                if await accounts.session_for(token) is None:
                    break  # signed out elsewhere, or expired
                await accounts.seen(token)
                last_presence = loop.time()
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        feed.unsubscribe(changes)
        with contextlib.suppress(Exception):
            await asyncio.shield(accounts.offline(token))
    return response


def add_agent_console(app: web.Application, accounts: AgentAccounts, shopper_hub: LiveHub) -> None:
    """Mount the console; ``app[HANDOFF]`` is set once the HTTP client to Rasa exists."""
    app[ACCOUNTS] = accounts
    app[SHOPPER_HUB] = shopper_hub
    app.middlewares.append(agent_middleware)
    app.router.add_get("/agent", console_page)
    app.router.add_get("/agent/", console_page)
    app.router.add_get("/agent/static/{name}", console_static)
    app.router.add_post("/agent/api/login", login)
    app.router.add_post("/agent/api/logout", logout)
    app.router.add_get("/agent/api/me", me)
    app.router.add_get("/agent/api/queue", queue)
    app.router.add_get("/agent/api/events", events)
    app.router.add_get("/agent/api/conversations/{conversation_id}", conversation)
    app.router.add_post("/agent/api/conversations/{conversation_id}/claim", claim)
    app.router.add_post("/agent/api/conversations/{conversation_id}/messages", reply)
    app.router.add_post("/agent/api/conversations/{conversation_id}/notes", note)
    app.router.add_post("/agent/api/conversations/{conversation_id}/handback", hand_back)
    app.router.add_post("/agent/api/conversations/{conversation_id}/resolve", resolve)
