"""The aiohttp gateway: public chat API, websocket, widget and demo page."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import BadSignature, ChatSession, ConversationService, UnknownStore
from bot.chat.rasa_client import RasaClient
from bot.chat.shopper_signatures import LATEST_TIMESTAMP
from bot.chat.unanswered import UnansweredTurns
from bot.core.config import Settings
from bot.core.text_input import BadInput, loads
from bot.orders.lookup import OrderService
from bot.shipping.tracking_updates import (
    BadUpdate,
    TrackingUpdates,
    aftership_signature,
    parse_aftership,
    parse_simple,
    signature_matches,
    simple_signature,
)
from bot.support.accounts import AgentAccounts
from bot.support.credentials import PasswordHashing
from bot.support.handoff import HandoffService
from bot.web.agent_api import FEED, HANDOFF, AgentFeed, add_agent_console
from bot.web.client_address import client_key, client_key_middleware, parse_trusted_proxies
from bot.web.console_auth import LOGIN_LIMIT, signed_shopper_attributes, widget_page_csp
from bot.web.json_io import (
    RefusedRequest,
    error_response,
    json_error,
    read_json,
    refusal_body,
    refusal_response,
    whole_number,
)
from bot.web.live import TOO_MANY_SOCKETS, LiveHub, TooManySockets
from bot.web.ratelimit import RateLimiter
from bot.web.seller_api import add_seller_api
from bot.web.seller_console import add_seller_console
from bot.web.turns import BadMessage, ChatTurns, parse_shopper_input

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
OPENAPI = Path(__file__).parent / "openapi.yaml"
DEMO_STORE = "yangteng-auto"
DEMO_PRODUCT_SKU = "OP-1001"
DEMO_SHOPPER = "alex@example.com"
#: GET messages answers pages of this many messages (``?limit=`` up to MESSAGES_PAGE_MAX).
MESSAGES_PAGE = 200
MESSAGES_PAGE_MAX = 500

SETTINGS = web.AppKey("settings", Settings)
CONVERSATIONS = web.AppKey("conversations", ConversationService)
ORDERS = web.AppKey("orders", OrderService)
TURNS = web.AppKey("turns", ChatTurns)
HUB = web.AppKey("hub", LiveHub)
IP_LIMIT = web.AppKey("ip_limit", RateLimiter)
CONVERSATION_LIMIT = web.AppKey("conversation_limit", RateLimiter)
HTTP = web.AppKey("http", aiohttp.ClientSession)
TRACKING = web.AppKey("tracking", TrackingUpdates)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def too_many(retry_after: int) -> web.Response:
    return json_error(429, "rate_limited", {"retry_after": retry_after}, headers={"Retry-After": str(retry_after)})


CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Expose-Headers": "Retry-After",
    "Access-Control-Max-Age": "600",
}


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """For /api/: CORS (bearer tokens, no cookies), per-IP limits, JSON errors."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=CORS_HEADERS)
    retry_after = request.app[IP_LIMIT].check(client_key(request))
    if retry_after:
        response: web.StreamResponse = too_many(retry_after)
    else:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status == 101:
                raise
            response = error_response(exc)
    if not getattr(response, "prepared", False):
        response.headers.update(CORS_HEADERS)
    return response


#: What every response says in ``Server``: no framework or Python version for an attacker to match.
SERVER_NAME = "aftersales"
#: A year, with subdomains: sent only when the public address is https (PUBLIC_URL).
HSTS = "max-age=31536000; includeSubDomains"


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response just before its headers go out (``on_response_prepare``): handlers'
    answers, raised HTTP errors such as the router's 404 and 405, files and websocket handshakes.
    A middleware misses the errors raised past it and the ones aiohttp makes itself."""
    response.headers["Server"] = SERVER_NAME
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.app[SETTINGS].public_base_url.lower().startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)


async def _authenticated(request: web.Request, token: str | None = None) -> ChatSession:
    if token is None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            token = ""
    chat = await request.app[CONVERSATIONS].authenticate(request.match_info["conversation_id"], token)
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
        chat, token = await request.app[CONVERSATIONS].start(request.match_info["store_id"], email, signature, ts)
    except UnknownStore:
        return json_error(404, "store_unknown")
    except BadSignature as exc:
        return refusal_response(401, exc)
    return web.json_response({"conversation_id": chat.conversation_id, "token": token}, status=201)


async def post_message(request: web.Request) -> web.Response:
    chat = await _authenticated(request)
    try:
        shopper_input = parse_shopper_input(await read_json(request))
    except BadMessage as exc:
        return refusal_response(exc.status, exc, field=exc.field)
    retry_after = request.app[CONVERSATION_LIMIT].check(chat.conversation_id)
    if retry_after:
        return too_many(retry_after)
    # Never an error once the message is stored: an assistant that is down or silent gets an
    # honest answer in the transcript, and the message is asked again (bot/chat/unanswered.py).
    try:
        messages = await request.app[TURNS].take(chat, shopper_input, client_key(request))
    except BadMessage as exc:  # a "/..." message that is no button offered in this chat: nothing stored
        return refusal_response(exc.status, exc)
    return web.json_response({"messages": [m.as_json() for m in messages]})


async def list_messages(request: web.Request) -> web.Response:
    chat = await _authenticated(request)
    after = whole_number(request.query.get("after", "0"))
    if after is None:
        return json_error(400, "messages_after_invalid", field="after")
    limit = whole_number(request.query.get("limit", str(MESSAGES_PAGE)))
    if limit is None or not 1 <= limit <= MESSAGES_PAGE_MAX:
        return json_error(400, "messages_limit_invalid", {"max": MESSAGES_PAGE_MAX}, field="limit")
    # One more than asked tells whether another page follows.
    messages = await request.app[CONVERSATIONS].messages_after(chat, after, limit=limit + 1)
    page = messages[:limit]
    return web.json_response(
        {"messages": [m.as_json() for m in page], "next_after": page[-1].seq if len(messages) > limit else None}
    )


async def websocket(request: web.Request) -> web.StreamResponse:
    chat = await _authenticated(request, token=request.query.get("token", ""))
    conversations = request.app[CONVERSATIONS]
    hub = request.app[HUB]
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
                    {k: v for k, v in data.items() if k in ("text", "payload", "title")} if isinstance(data, dict) else data
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
            retry_after = request.app[CONVERSATION_LIMIT].check(chat.conversation_id)
            if retry_after:
                await ws.send_json({"type": "error", **refusal_body("messages_rate_limited"), "retry_after": retry_after})
                continue
            try:
                await request.app[TURNS].take(chat, shopper_input, client_key(request))  # replies arrive through the hub
            except BadMessage as exc:  # a "/..." message that is no button offered in this chat: nothing stored
                await ws.send_json({"type": "error", **refusal_body(exc.code, exc.params)})
    finally:
        pusher.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
            await pusher
        hub.unsubscribe(chat.conversation_id, queue, address)
    return ws


class _WebhookRefused(Exception):
    """A webhook refused before anything is stored, with the answer to give."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


async def _tracking_webhook(
    request: web.Request, source: str, header: str, sign: Callable[[str, bytes], str], parse: Callable[[Any], Any]
) -> web.Response:
    """Verify, then store the update at once; answer as soon as it is stored."""
    # Read before the transaction: a slow sender must not hold a database connection.
    body = await request.read()
    given = request.headers.get(header)

    def verify(secrets: list[str]) -> Any:
        # Every live key is checked (no early exit), each in constant time.
        matches = [signature_matches(sign(secret, body), given) for secret in secrets]
        if not any(matches):
            raise _WebhookRefused(json_error(401, "webhook_signature_wrong", {"header": header}))
        try:
            return parse(loads(body))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _WebhookRefused(json_error(400, "body_not_json")) from None
        except BadInput as exc:
            raise _WebhookRefused(refusal_response(400, exc, field=exc.field)) from None
        except BadUpdate as exc:
            raise _WebhookRefused(refusal_response(400, exc)) from None

    try:
        outcome = await request.app[TRACKING].apply_signed(request.match_info["store_id"], source, verify)
    except _WebhookRefused as refused:
        return refused.response
    if outcome is None:
        return json_error(404, "store_unknown")
    return web.json_response({"result": outcome.result})


async def aftership_webhook(request: web.Request) -> web.Response:
    return await _tracking_webhook(request, "aftership", "aftership-hmac-sha256", aftership_signature, parse_aftership)


async def simple_tracking_webhook(request: web.Request) -> web.Response:
    return await _tracking_webhook(request, "json", "X-Signature", simple_signature, parse_simple)


async def widget_js(_: web.Request) -> web.StreamResponse:
    return web.FileResponse(
        STATIC / "widget.js",
        headers={"Content-Type": "application/javascript; charset=utf-8", "Cache-Control": "public, max-age=300"},
    )


async def openapi(_: web.Request) -> web.StreamResponse:
    return web.FileResponse(OPENAPI, headers={"Content-Type": "application/yaml; charset=utf-8"})


async def health(request: web.Request) -> web.Response:
    rasa_up = await RasaClient(request.app[SETTINGS], request.app[HTTP]).is_up()
    return web.json_response({"status": "ok" if rasa_up else "degraded", "rasa": rasa_up}, status=200 if rasa_up else 503)


DEMO_CSP = widget_page_csp(frame_ancestors="'none'", form_action="'self'")


async def demo_page(request: web.Request) -> web.Response:
    """The car-parts store's product page with the widget, as the demo shopper or anonymous."""
    store_name = await request.app[ORDERS].store_name(DEMO_STORE)
    secret = await request.app[CONVERSATIONS].shopper_secret(DEMO_STORE)
    if store_name is None:
        return web.Response(status=503, text="The demo store is not loaded: run `make run` (or `make db`).")
    product = await request.app[ORDERS].product(DEMO_STORE, DEMO_PRODUCT_SKU)
    if request.query.get("shopper") == "anonymous" or not secret:
        identity_attrs = ""
        banner = "You are browsing anonymously: the assistant will check your order number and email."
        switch = "/" if secret else ""
        switch_text = "Browse as Alex Miller (signed in)" if secret else ""
    else:
        # What the store's server does when it makes the page: signs the shopper, now.
        identity_attrs = signed_shopper_attributes(secret, DEMO_SHOPPER)
        banner = "You are signed in as Alex Miller (alex@example.com): the store vouches for you."
        switch, switch_text = "/?" + urlencode({"shopper": "anonymous"}), "Browse anonymously"
    page = Template((STATIC / "demo.html").read_text(encoding="utf-8")).safe_substitute(
        store_name=html.escape(store_name),
        store_id=html.escape(DEMO_STORE),
        product_name=html.escape(product.name if product else "Aluminium oil pan"),
        product_sku=html.escape(DEMO_PRODUCT_SKU),
        manual_url=html.escape(product.manual_url or "#" if product else "#"),
        widget_src="/widget.js",
        identity_attrs=identity_attrs,
        identity_banner=html.escape(banner)
        + (f' <a href="{html.escape(switch)}">{html.escape(switch_text)}</a>' if switch else ""),
        switch_link=html.escape(switch),
    )
    return web.Response(text=page, content_type="text/html", headers={"Content-Security-Policy": DEMO_CSP})


def create_app(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> web.Application:
    app = web.Application(
        middlewares=[client_key_middleware(parse_trusted_proxies(settings.trusted_proxies)), api_middleware],
        client_max_size=1024 * 1024,
    )
    app[SETTINGS] = settings
    app.on_response_prepare.append(security_headers)
    app[CONVERSATIONS] = ConversationService(sessions, settings.shopper_signature_max_age_seconds)
    app[ORDERS] = OrderService(sessions)
    app[TRACKING] = TrackingUpdates(sessions)
    app[HUB] = LiveHub(
        per_conversation=settings.websockets_per_conversation,
        per_address=settings.websockets_per_address,
        watch=app[CONVERSATIONS].watch_new_messages,
    )
    app[IP_LIMIT] = RateLimiter(settings.ip_requests_per_minute)
    app[CONVERSATION_LIMIT] = RateLimiter(
        settings.conversation_messages_per_minute, burst=max(1, settings.conversation_messages_per_minute // 3)
    )

    # One account service, so one bound on password hashing, for both consoles and the seller API.
    accounts = AgentAccounts(sessions, PasswordHashing(settings.password_hash_workers, settings.password_hash_waiting))
    app[LOGIN_LIMIT] = RateLimiter(settings.login_attempts_per_minute)
    add_agent_console(app, accounts, app[HUB])
    add_seller_api(app, sessions, settings)
    add_seller_console(app)

    async def http_client(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            app[HTTP] = http
            rasa = RasaClient(settings, http)
            app[TURNS] = ChatTurns(app[CONVERSATIONS], rasa, app[HUB], UnansweredTurns(sessions))
            app[HANDOFF] = HandoffService(sessions, app[CONVERSATIONS], rasa)
            app[FEED] = AgentFeed(app[HANDOFF])
            yield
            await app[FEED].close()
            await app[HUB].close()

    app.cleanup_ctx.append(http_client)
    app.router.add_post("/api/v1/stores/{store_id}/conversations", create_conversation)
    app.router.add_post("/api/v1/conversations/{conversation_id}/messages", post_message)
    app.router.add_get("/api/v1/conversations/{conversation_id}/messages", list_messages)
    app.router.add_get("/api/v1/conversations/{conversation_id}/ws", websocket)
    app.router.add_get("/api/v1/openapi.yaml", openapi)
    app.router.add_post("/webhooks/tracking/aftership/{store_id}", aftership_webhook)
    app.router.add_post("/webhooks/tracking/{store_id}", simple_tracking_webhook)
    app.router.add_get("/widget.js", widget_js)
    app.router.add_get("/healthz", health)
    if settings.demo:
        # Only in demo mode (DEMO=1, set by `make run`): a page that vouches for a shopper.
        app.router.add_get("/", demo_page)
    return app


def loggable_path(path: str) -> str:
    """A request path as the access log writes it: a segment holding an email address (a team
    member's, in /team/{email}) is personal data and is written as ``{email}``."""
    return "/".join("{email}" if "@" in segment else segment for segment in path.split("/"))


class AccessLog(AbstractAccessLogger):
    """The request path without its query string (websocket URLs carry tokens) nor emails."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.1f ms',
            client_key(request),
            request.method,
            loggable_path(request.path),
            response.status,
            time * 1000,
        )


def run_gateway(settings: Settings) -> None:
    from bot.core.db import get_sessionmaker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(
        create_app(settings, get_sessionmaker()),
        host=settings.gateway_host,
        port=settings.gateway_port,
        print=None,
        access_log_class=AccessLog,
    )
