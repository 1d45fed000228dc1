"""The agent console at /agent: its JSON API and its live feed (SSE).

Signing in, cookies, CSRF and login throttling are :mod:`bot.web.console_auth`'s,
shared with the seller console. Every query is scoped to the agent's stores:
another store's conversation answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from aiohttp import web

from bot.core.clock import utc_now
from bot.core.models import EscalationStatus
from bot.support.console_queue import QUEUE_PAGE, SPAM_BATCH_MAX, BadQueueRequest, Change
from bot.support.console_sessions import SignedInAgent
from bot.support.conversation_view import NotFound
from bot.support.handoff import MAX_NOTE_CHARS, MAX_REPLY_CHARS, BadText, Conflict, EngineUnavailable
from bot.web.console_auth import ConsoleAuth
from bot.web.json_io import json_error, read_json_object, refusal_response
from bot.web.photo_api import photo_response, take_photo
from bot.web.services import services

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
#: The console's live feed marks the agent online this often.
PRESENCE_SECONDS = 20.0


def _errors(exc: Exception) -> web.Response | None:
    """How the handoff service's refusals reach the console."""
    if isinstance(exc, NotFound):
        return json_error(404, "conversation_not_found")
    if isinstance(exc, Conflict):
        return refusal_response(409, exc)
    if isinstance(exc, (BadText, BadQueueRequest)):
        return refusal_response(400, exc)
    if isinstance(exc, EngineUnavailable):
        log.exception("Rasa did not take a pause or resume")
        return json_error(502, "engine_unavailable")
    return None


def _agent_view(agent: SignedInAgent) -> dict[str, Any]:
    """The account as the support console sees it, with the limits its reply and note boxes count
    towards (the console counts as the server does, and need not repeat the numbers)."""
    return {**agent.as_json(), "limits": {"reply_chars": MAX_REPLY_CHARS, "note_chars": MAX_NOTE_CHARS}}


AUTH = ConsoleAuth(
    "agent",
    {"agent.css": "text/css"},
    # The shared modules the console imports, by name: it needs no other (format.js is the seller's).
    static_globs=(
        "agent/*.js",
        "shared/dom.js",
        "shared/i18n.js",
        "shared/safe-text.js",
        "shared/console-api.js",
        "shared/refusals.js",
        "i18n/agent.*.json",
        "i18n/refusals.*.json",
    ),
    view=_agent_view,
    errors=_errors,
)
_agent = AUTH.agent


async def queue(request: web.Request) -> web.Response:
    """One page of the queue: ``?limit=`` (1–200, default 50), ``?order=newest|oldest``, ``?cursor=``
    (the previous page's ``next_cursor``)."""
    query = request.query
    limit_text = query.get("limit", str(QUEUE_PAGE))
    if not limit_text.isascii() or not limit_text.isdigit() or len(limit_text) > 4:
        return json_error(400, "queue_limit_invalid")
    page = await services(request).console_queue.queue(
        _agent(request), limit=int(limit_text), cursor=query.get("cursor") or None, order=query.get("order", "newest")
    )
    return web.json_response(page)


async def close_as_spam(request: web.Request) -> web.Response:
    """Close several waiting cases as spam: ``{"escalation_ids": [1, 2, …]}`` (the agent's stores only)."""
    body = await read_json_object(request)
    ids = body.get("escalation_ids")
    if (
        not isinstance(ids, list)
        or not ids
        or len(ids) > SPAM_BATCH_MAX
        or not all(type(i) is int and 0 < i < 2**31 for i in ids)
    ):
        return json_error(400, "spam_ids_invalid", {"max": SPAM_BATCH_MAX})
    closed = await services(request).console_queue.close_as_spam(_agent(request), ids)
    now = utc_now()
    feed = services(request).engine.feed
    for _, store_id, conversation_id in closed:
        feed.publish(Change("queue", store_id, conversation_id, now))
        feed.publish(Change("conversation", store_id, conversation_id, now))
    done = {escalation_id for escalation_id, _, _ in closed}
    return web.json_response({"closed": sorted(done), "not_closed": sorted(set(ids) - done)})


async def conversation(request: web.Request) -> web.Response:
    view = await services(request).conversation_view.conversation(_agent(request), request.match_info["conversation_id"])
    return web.json_response(view)


def _changed(request: web.Request, conversation_id: str, store_id: str, queue_too: bool = True) -> None:
    """Tell this process's consoles and the shopper's widget at once; other processes learn from the feed's poll."""
    now = utc_now()
    feed = services(request).engine.feed
    if queue_too:
        feed.publish(Change("queue", store_id, conversation_id, now))
    feed.publish(Change("conversation", store_id, conversation_id, now))
    services(request).hub.new_messages(conversation_id)


async def claim(request: web.Request) -> web.Response:
    agent, cid = _agent(request), request.match_info["conversation_id"]
    await services(request).engine.handoff.claim(agent, cid)
    view = await services(request).conversation_view.conversation(agent, cid)
    _changed(request, cid, view["conversation"]["store_id"])
    return web.json_response(view)


async def _release(request: web.Request, outcome: EscalationStatus) -> web.Response:
    agent, cid = _agent(request), request.match_info["conversation_id"]
    await services(request).engine.handoff.release(agent, cid, outcome)
    view = await services(request).conversation_view.conversation(agent, cid)
    _changed(request, cid, view["conversation"]["store_id"])
    return web.json_response(view)


async def hand_back(request: web.Request) -> web.Response:
    return await _release(request, EscalationStatus.handed_back)


async def resolve(request: web.Request) -> web.Response:
    return await _release(request, EscalationStatus.resolved)


async def reply(request: web.Request) -> web.Response:
    agent, cid = _agent(request), request.match_info["conversation_id"]
    body = await read_json_object(request)
    store_id, message = await services(request).engine.handoff.reply(agent, cid, body.get("text"))
    _changed(request, cid, store_id, queue_too=False)
    return web.json_response({"message": message.as_json()}, status=201)


async def ask_for_photos(request: web.Request) -> web.Response:
    """One click: ask the shopper for more photos (the widget shows its upload button with it).
    An optional ``{"text": ...}`` says it in the agent's own words."""
    agent, cid = _agent(request), request.match_info["conversation_id"]
    body = await read_json_object(request) if request.can_read_body else {}
    store_id, message = await services(request).engine.handoff.ask_for_photos(agent, cid, body.get("text"))
    _changed(request, cid, store_id, queue_too=False)
    return web.json_response({"message": message.as_json()}, status=201)


async def send_photo(request: web.Request) -> web.Response:
    """The agent sends an image (the raw body: JPEG, PNG, WebP or HEIC), checked and stripped exactly
    as a shopper's (:mod:`bot.web.photo_api`), as a message of its own."""
    agent, cid = _agent(request), request.match_info["conversation_id"]
    handoff = services(request).engine.handoff
    store_id = await handoff.holds(agent, cid)  # before anything is read or decoded
    photo = await take_photo(request, store_id, cid, "agent")
    if isinstance(photo, web.Response):
        return photo
    _, message = await handoff.send_photo(agent, cid, photo)
    _changed(request, cid, store_id, queue_too=False)
    return web.json_response({"message": message.as_json()}, status=201)


async def note(request: web.Request) -> web.Response:
    agent, cid = _agent(request), request.match_info["conversation_id"]
    body = await read_json_object(request)
    store_id, saved = await services(request).engine.handoff.note(agent, cid, body.get("text"))
    _changed(request, cid, store_id, queue_too=False)
    return web.json_response({"note": saved}, status=201)


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: ``queue`` (refresh the queue) and ``conversation`` (refresh that one)."""
    agent = _agent(request)
    token = AUTH.token(request)
    console_sessions = services(request).console_sessions
    feed = services(request).engine.feed
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    changes = feed.subscribe(agent.store_ids)
    await console_sessions.seen(token)
    loop = asyncio.get_running_loop()
    last_presence = loop.time()
    try:
        await response.write(b"retry: 3000\n\nevent: ready\ndata: {}\n\n")
        while True:
            try:
                change = await asyncio.wait_for(changes.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
            else:
                data = json.dumps({"conversation_id": change.conversation_id} if change.kind == "conversation" else {})
                await response.write(f"event: {change.kind}\ndata: {data}\n\n".encode())
            if loop.time() - last_presence >= PRESENCE_SECONDS:
                if await console_sessions.session_for(token) is None:
                    break  # signed out elsewhere, or expired
                await console_sessions.seen(token)
                last_presence = loop.time()
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        feed.unsubscribe(changes)
        with contextlib.suppress(Exception):
            await asyncio.shield(console_sessions.offline(token))
    return response


async def photo(request: web.Request) -> web.Response:
    """A photo of any conversation of the signed-in person's stores (``?variant=thumbnail``)."""
    return await photo_response(request, store_ids=set(_agent(request).store_ids), conversation_id=None)


def add_agent_console(app: web.Application) -> None:
    """Mount the console at /agent."""
    console = AUTH.application()
    console.router.add_get("/api/queue", queue)
    console.router.add_post("/api/escalations/spam", close_as_spam)
    console.router.add_get("/api/events", events)
    console.router.add_get("/api/conversations/{conversation_id}", conversation)
    console.router.add_get("/api/photos/{photo_id}", photo)
    console.router.add_post("/api/conversations/{conversation_id}/claim", claim)
    console.router.add_post("/api/conversations/{conversation_id}/messages", reply)
    console.router.add_post("/api/conversations/{conversation_id}/photo-request", ask_for_photos)
    console.router.add_post("/api/conversations/{conversation_id}/photos", send_photo)
    console.router.add_post("/api/conversations/{conversation_id}/notes", note)
    console.router.add_post("/api/conversations/{conversation_id}/handback", hand_back)
    console.router.add_post("/api/conversations/{conversation_id}/resolve", resolve)
    AUTH.mount(app, console)
