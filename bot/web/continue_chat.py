"""The way back from an email to the chat, the page the gateway hosts for a store's chat, and the
shopper's timezone as their widget reports it.

- ``GET /continue/{token}``: the "continue in chat" link of an email (signed, expiring, one
  conversation: :mod:`bot.email.signed_links`). A genuine one answers 303 to the store's page
  (its ``email.page_url`` setting, else ``/chat/{store_id}``) with ``#chat-continue=<token>``:
  a fragment, so that the token never reaches the store's server or its logs. Any other answers a
  small page that says what is wrong and where to chat instead; never a 500.
- ``POST /api/v1/conversations/continue`` ``{"token": …}``: the widget on that page trades the
  link for a new bearer token of that one conversation, made as ``create_conversation`` makes
  them (the database keeps only its SHA-256).
- ``GET /chat/{store_id}``: a page holding only the store's widget, for stores without a page of
  their own.
- :func:`shopper_timezone`: the IANA name the widget sends when it starts or continues a
  conversation, kept for quiet hours when it is a known zone, and ignored (not refused) otherwise.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import html
import zoneinfo
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from yarl import URL

from bot.chat.shopper_signatures import new_token, token_hash
from bot.core.clock import utc_now
from bot.core.models import Conversation, ConversationToken, Store
from bot.email.signed_links import CONTINUE_CHAT, BadSignedLink, SignedLinks
from bot.email.store_email import store_email_settings
from bot.web.client_address import client_key
from bot.web.console_auth import widget_page_csp
from bot.web.json_io import read_json_object, refusal_response
from bot.web.middleware import too_many
from bot.web.services import services

STATIC = Path(__file__).parent / "static"
#: The fragment the widget looks for (bot/web/static/widget.js): ``#chat-continue=<token>``.
CONTINUE_FRAGMENT = "chat-continue"
#: The longest timezone name kept (the column's size); IANA names are at most about 30.
MAX_TIMEZONE_CHARS = 64
#: A store id longer than the column's is no store's (and is not looked up).
MAX_STORE_ID_CHARS = 64
#: The status of each refusal of a link: expired is 410 (it was genuine), anything else 400.
LINK_STATUS = {"email_link_expired": 410, "email_link_invalid": 400}
CHAT_PAGE_CSP = widget_page_csp(frame_ancestors="'none'", form_action="'self'")

_NOTICE_STYLE = (
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1f2328;"
    "background:#f6f7f9}main{max-width:34rem;margin:12vh auto;padding:28px 32px;background:#fff;"
    "border:1px solid #e1e4e8;border-radius:14px}h1{font-size:22px;margin:0 0 12px}a{color:#1d4ed8}"
)
#: The notice page runs no script and loads nothing: its one inline style is allowed by its hash.
NOTICE_CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(_NOTICE_STYLE.encode()).digest()).decode()}'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: The link is in the address of the notice page and of the redirect: never sent on as a Referer.
NOT_KEPT = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


# --- the shopper's timezone ---


@functools.cache
def _known_zones() -> frozenset[str]:
    # Read once: available_timezones() walks the zone files on every call.
    return frozenset(zoneinfo.available_timezones())


def shopper_timezone(value: Any) -> str | None:
    """``value`` if it is a known IANA zone name (as ``Intl.DateTimeFormat`` reports it), else None:
    a browser that reports none, or an odd one, still gets its chat."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TIMEZONE_CHARS:
        return None
    return value if value in _known_zones() else None


async def remember_timezone(
    sessions: async_sessionmaker[AsyncSession], store_id: str, conversation_id: str, timezone: str | None
) -> None:
    """Keep the timezone the shopper's browser reported (None changes nothing): the email sender
    reads it for the shopper's quiet hours."""
    if timezone is None:
        return
    async with sessions() as session, session.begin():
        await _set_timezone(session, store_id, conversation_id, timezone)


async def _set_timezone(session: AsyncSession, store_id: str, conversation_id: str, timezone: str) -> None:
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.store_id == store_id)
        .values(shopper_timezone=timezone)
    )


# --- the link ---


def _links(request: web.Request) -> SignedLinks:
    return SignedLinks(services(request).settings.email_link_secret)


async def _conversation_exists(session: AsyncSession, store_id: str, conversation_id: str) -> bool:
    found = await session.scalar(
        select(Conversation.id).where(Conversation.id == conversation_id, Conversation.store_id == store_id)
    )
    return found is not None


async def _opened(session: AsyncSession, links: SignedLinks, token: str) -> tuple[str, str]:
    """The (store, conversation) a genuine, unexpired link opens; :class:`BadSignedLink` otherwise,
    also when the conversation is gone."""
    fields = links.verify(CONTINUE_CHAT, token, utc_now())
    if len(fields) != 2:
        raise BadSignedLink("email_link_invalid")
    store_id, conversation_id = fields
    if not await _conversation_exists(session, store_id, conversation_id):
        raise BadSignedLink("email_link_invalid")
    return store_id, conversation_id


def _store_of_expired(links: SignedLinks, token: str) -> str | None:
    """The store a genuine but expired link was made for, to point the shopper to its page.
    Checked again as at the epoch: the signature still has to be the deployment's, only the
    expiry is not looked at (what it would open is not opened)."""
    try:
        fields = links.verify(CONTINUE_CHAT, token, dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    except BadSignedLink:
        return None
    return fields[0] if len(fields) == 2 else None


async def store_page(session: AsyncSession, store_id: str) -> str:
    """Where the store's widget runs: the seller's page, else the page the gateway hosts. That one
    is a path on the host the link was opened on (the link is ``PUBLIC_URL``'s), which the browser
    resolves itself: right behind any proxy, whatever name it reached the gateway by."""
    page_url = (await store_email_settings(session, store_id)).page_url
    return page_url or f"/chat/{quote(store_id, safe='')}"


def with_continue_fragment(page_url: str, token: str) -> str:
    """``page_url`` with ``#chat-continue=<token>`` in place of any fragment it had, percent-encoded
    (a seller's address may hold any letters; a Location header holds ASCII)."""
    return str(URL(page_url).with_fragment(f"{CONTINUE_FRAGMENT}={token}"))


def _notice(
    status: int, title: str, text: str, link: tuple[str, str] | None, headers: dict[str, str] | None = None
) -> web.Response:
    """A small page that says what went wrong, every value escaped; no script."""
    anchor = f'<p><a href="{html.escape(link[0])}">{html.escape(link[1])}</a></p>' if link else ""
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{html.escape(title)}</title><style>{_NOTICE_STYLE}</style></head>"
        f'<body><main><h1 data-testid="continue-notice">{html.escape(title)}</h1><p>{html.escape(text)}</p>{anchor}</main></body></html>'
    )
    return web.Response(
        status=status,
        text=page,
        content_type="text/html",
        headers={"Content-Security-Policy": NOTICE_CSP, **NOT_KEPT, **(headers or {})},
    )


async def _link_refused(session: AsyncSession, links: SignedLinks, token: str, refused: BadSignedLink) -> web.Response:
    """The notice for a link that opens nothing, with the way to the store's chat when the link
    says which store (it was genuine: expired, or its conversation is gone)."""
    store_id = _store_of_expired(links, token)
    store = await session.get(Store, store_id) if store_id is not None else None
    link = (await store_page(session, store.id), f"Chat with {store.name}") if store else None
    if refused.code == "email_link_expired":
        title, text = "This link has expired", "Links in our emails work for a limited time."
    else:
        title, text = "This link is not valid", "It may be incomplete: copy the whole link from the email."
    return _notice(
        LINK_STATUS.get(refused.code, 400), title, text + " You can still chat with the store from its website.", link
    )


async def continue_link(request: web.Request) -> web.StreamResponse:
    """GET /continue/{token}: to the store's page with the link in its fragment, or a notice."""
    retry_after = services(request).ip_limit.check(client_key(request))
    if retry_after:
        return _notice(
            429,
            "Too many requests",
            f"Please try again in {retry_after} seconds.",
            None,
            {"Retry-After": str(retry_after)},
        )
    token = request.match_info["token"]
    links = _links(request)
    async with services(request).sessions() as session:
        try:
            store_id, _ = await _opened(session, links, token)
        except BadSignedLink as refused:
            return await _link_refused(session, links, token, refused)
        page = await store_page(session, store_id)
    return web.Response(status=303, headers={"Location": with_continue_fragment(page, token), **NOT_KEPT})


async def continue_conversation(request: web.Request) -> web.Response:
    """POST /api/v1/conversations/continue: a new bearer token for the link's one conversation."""
    body = await read_json_object(request)
    token = body.get("token")
    timezone = shopper_timezone(body.get("timezone"))
    try:
        async with services(request).sessions() as session, session.begin():
            store_id, conversation_id = await _opened(session, _links(request), token if isinstance(token, str) else "")
            bearer = new_token()
            session.add(ConversationToken(token_hash=token_hash(bearer), store_id=store_id, conversation_id=conversation_id))
            if timezone is not None:
                await _set_timezone(session, store_id, conversation_id, timezone)
    except BadSignedLink as refused:
        return refusal_response(LINK_STATUS.get(refused.code, 400), refused, field="token")
    return web.json_response({"conversation_id": conversation_id, "token": bearer, "store_id": store_id})


# --- the hosted page ---


async def chat_page(request: web.Request) -> web.Response:
    """GET /chat/{store_id}: the store's name and its widget, open and filling the page."""
    retry_after = services(request).ip_limit.check(client_key(request))
    if retry_after:
        return too_many(retry_after)
    store_id = request.match_info["store_id"]
    name = None
    if len(store_id) <= MAX_STORE_ID_CHARS and store_id.isprintable():
        name = await services(request).orders.store_name(store_id)
    if name is None:
        return _notice(404, "No such store", "There is no chat for this address.", None)
    page = Template((STATIC / "chat.html").read_text(encoding="utf-8")).safe_substitute(
        store_id=html.escape(store_id), store_name=html.escape(name)
    )
    return web.Response(text=page, content_type="text/html", headers={"Content-Security-Policy": CHAT_PAGE_CSP})


def add_continue_chat(app: web.Application) -> None:
    app.router.add_get("/continue/{token}", continue_link)
    app.router.add_post("/api/v1/conversations/continue", continue_conversation)
    app.router.add_get("/chat/{store_id}", chat_page)
