"""The public chat API under /api/v1: a store's widget starts a conversation, sends the shopper's
messages over HTTP or the websocket, and reads the transcript back in pages."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp
from aiohttp import web

from bot.chat.conversations import BadSignature, ChatSession, UnknownStore
from bot.chat.shopper_signatures import LATEST_TIMESTAMP
from bot.core.text_input import BadInput, loads
from bot.web.client_address import client_key
from bot.web.continue_chat import remember_timezone, shopper_timezone
from bot.web.json_io import RefusedRequest, json_error, read_json, refusal_body, refusal_response, whole_number
from bot.web.live import TOO_MANY_SOCKETS, TooManySockets
from bot.web.middleware import too_many
from bot.web.services import services
from bot.web.turns import BadMessage, parse_shopper_input

#: GET messages answers pages of this many messages (``?limit=`` up to MESSAGES_PAGE_MAX).
MESSAGES_PAGE = 200
MESSAGES_PAGE_MAX = 500


async def authenticated_chat(request: web.Request, token: str | None = None) -> ChatSession:
    """The conversation in the path, if the bearer token (or ``token``: the websocket's query) is its own; else a 401."""
    if token is None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            token = ""
    chat = await services(request).conversations.authenticate(request.match_info["conversation_id"], token)
    if chat is None:
        raise RefusedRequest(401, "conversation_token_wrong")
    return chat


async def create_conversation(request: web.Request) -> web.Response:
    body: Any = {}
    if request.can_read_body:
        body = await read_json(request)
    if not isinstance(body, dict):
        return json_error(400, "body_not_object")
    shopper = body.get("shopper")
    email = signature = ts = None
    if shopper is not None:
        if (
            not isinstance(shopper, dict)
            or not isinstance(shopper.get("email"), str)
            or not isinstance(shopper.get("signature"), str)
        ):
            return json_error(400, "shopper_identity_malformed")
        email, signature, ts = shopper["email"], shopper["signature"], shopper.get("ts")
        if ts is not None and (not isinstance(ts, int) or isinstance(ts, bool) or not 0 <= ts < LATEST_TIMESTAMP):
            return json_error(400, "shopper_ts_invalid")
    try:
        chat, token = await services(request).conversations.start(request.match_info["store_id"], email, signature, ts)
    except UnknownStore:
        return json_error(404, "store_unknown")
    except BadSignature as exc:
        return refusal_response(401, exc)
    # For the shopper's quiet hours; an unknown zone is ignored, not refused.
    await remember_timezone(
        services(request).sessions, chat.store_id, chat.conversation_id, shopper_timezone(body.get("timezone"))
    )
    return web.json_response({"conversation_id": chat.conversation_id, "token": token}, status=201)


async def post_message(request: web.Request) -> web.Response:
    chat = await authenticated_chat(request)
    try:
        shopper_input = parse_shopper_input(await read_json(request))
    except BadMessage as exc:
        return refusal_response(exc.status, exc, field=exc.field)
    retry_after = services(request).conversation_limit.check(chat.conversation_id)
    if retry_after:
        return too_many(retry_after)
    # Never an error once the message is stored: an assistant that is down or silent gets an
    # honest answer in the transcript, and the message is asked again (bot/chat/unanswered.py).
    try:
        messages = await services(request).engine.turns.take(chat, shopper_input, client_key(request))
    except BadMessage as exc:  # a "/..." message that is no button offered in this chat: nothing stored
        return refusal_response(exc.status, exc)
    if messages:
        await services(request).conversations.mark_read(chat, max(m.seq for m in messages))
    return web.json_response({"messages": [m.as_json() for m in messages]})


async def list_messages(request: web.Request) -> web.Response:
    chat = await authenticated_chat(request)
    after = whole_number(request.query.get("after", "0"))
    if after is None:
        return json_error(400, "messages_after_invalid", field="after")
    limit = whole_number(request.query.get("limit", str(MESSAGES_PAGE)))
    if limit is None or not 1 <= limit <= MESSAGES_PAGE_MAX:
        return json_error(400, "messages_limit_invalid", {"max": MESSAGES_PAGE_MAX}, field="limit")
    # One more than asked tells whether another page follows.
    messages = await services(request).conversations.messages_after(chat, after, limit=limit + 1)
    page = messages[:limit]
    if page:
        await services(request).conversations.mark_read(chat, page[-1].seq)
    return web.json_response(
        {"messages": [m.as_json() for m in page], "next_after": page[-1].seq if len(messages) > limit else None}
    )


async def websocket(request: web.Request) -> web.StreamResponse:
    chat = await authenticated_chat(request, token=request.query.get("token", ""))
    conversations = services(request).conversations
    hub = services(request).hub
    # Checked before the upgrade, so that a wrong one is a plain 400.
    asked_after = whole_number(request.query["after"]) if "after" in request.query else -1
    if asked_after is None:
        return json_error(400, "messages_after_invalid", field="after")
    after = asked_after  # an int from here on, in the pushing task too
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=16 * 1024)
    await ws.prepare(request)
    address = client_key(request)
    try:
        queue = hub.subscribe(chat.conversation_id, address)
    except TooManySockets as refused:
        # A close code the page can read (an HTTP 429 before the upgrade shows a browser only "failed").
        await ws.close(code=TOO_MANY_SOCKETS, message=str(refused).encode())
        return ws
    if after < 0:
        # Only what arrives from now on; the client reads history with GET, in pages.
        after = await conversations.last_seq(chat)
    else:
        queue.put_nowait({"type": "wake"})  # what was stored after the client's last one, at once

    async def push() -> None:
        # Woken by this process's own turns and by the process's one watcher for other
        # processes' messages (bot/web/live.py): an idle socket makes no database queries.
        nonlocal after
        while True:
            event = await queue.get()
            if event["type"] == "typing":
                await ws.send_json(event)
                continue
            while True:
                # Page by page: a full page means more may follow.
                batch = await conversations.messages_after(chat, after, limit=MESSAGES_PAGE_MAX)
                for message in batch:
                    await ws.send_json({"type": "message", "message": message.as_json()})
                    after = message.seq
                if batch:
                    # An open widget was given them: no email about them (bot/email/unread_messages.py).
                    await conversations.mark_read(chat, after)
                if len(batch) < MESSAGES_PAGE_MAX:
                    break

    pusher = asyncio.create_task(push())
    try:
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                data = loads(frame.data)
                shopper_input = parse_shopper_input(
                    {k: v for k, v in data.items() if k in ("text", "payload", "title", "photos")}
                    if isinstance(data, dict)
                    else data
                )
            except json.JSONDecodeError:
                await ws.send_json({"type": "error", **refusal_body("frame_not_json")})
                continue
            except BadInput as exc:
                await ws.send_json({"type": "error", **refusal_body(exc.code, exc.params), "field": exc.field})
                continue
            except BadMessage as exc:
                await ws.send_json({"type": "error", **refusal_body(exc.code, exc.params)})
                continue
            retry_after = services(request).conversation_limit.check(chat.conversation_id)
            if retry_after:
                await ws.send_json({"type": "error", **refusal_body("messages_rate_limited"), "retry_after": retry_after})
                continue
            try:
                await services(request).engine.turns.take(
                    chat, shopper_input, client_key(request)
                )  # replies arrive through the hub
            except BadMessage as exc:  # a "/..." message that is no button offered in this chat: nothing stored
                await ws.send_json({"type": "error", **refusal_body(exc.code, exc.params)})
    finally:
        pusher.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
            await pusher
        hub.unsubscribe(chat.conversation_id, queue, address)
    return ws


def add_chat_api(app: web.Application) -> None:
    app.router.add_post("/api/v1/stores/{store_id}/conversations", create_conversation)
    app.router.add_post("/api/v1/conversations/{conversation_id}/messages", post_message)
    app.router.add_get("/api/v1/conversations/{conversation_id}/messages", list_messages)
    app.router.add_get("/api/v1/conversations/{conversation_id}/ws", websocket)
