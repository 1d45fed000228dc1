"""The one-click unsubscribe link of review emails (RFC 8058): ``/email/unsubscribe/{token}``.

- ``POST`` (a mail client's one-click, body ``List-Unsubscribe=One-Click``, or the confirm page's
  button) opts the address out of the store's review requests, idempotently, and answers 200.
- ``GET`` only shows a page with that button: mail providers' link scanners open every link in
  an email, and must not unsubscribe anyone by doing so.

A forged, altered or expired token is a 400 that changes nothing. The pages are plain HTML with
no script, under a Content-Security-Policy that allows none, every text escaped.
"""

from __future__ import annotations

import html

from aiohttp import web

from bot.core.clock import utc_now
from bot.core.refusals import english
from bot.email.signed_links import BadSignedLink, SignedLinks
from bot.email.unsubscribe import Unsubscribes, Unsubscription
from bot.web.client_address import client_key
from bot.web.services import services

#: No script, no style sheet, no frame: the page is text and one form back to this address.
PAGE_CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
#: What the one-click POST carries (RFC 8058 section 3.1); the confirm page's form sends the same.
ONE_CLICK = ("List-Unsubscribe", "One-Click")


def _page(status: int, title: str, paragraphs: list[str], form_action: str | None = None) -> web.Response:
    body = "".join(f"<p>{html.escape(text)}</p>\n" for text in paragraphs)
    if form_action is not None:
        name, value = ONE_CLICK
        body += (
            f'<form method="post" action="{html.escape(form_action, quote=True)}">'
            f'<input type="hidden" name="{name}" value="{value}">'
            '<button type="submit">Unsubscribe</button></form>\n'
        )
    text = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n<h1>{html.escape(title)}</h1>\n{body}</body></html>\n"
    )
    return web.Response(
        status=status,
        text=text,
        content_type="text/html",
        headers={
            "Content-Security-Policy": PAGE_CSP,
            "Cache-Control": "no-store",
            # The token is in the path: no page it links to may learn it.
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
        },
    )


def _refused(refused: BadSignedLink) -> web.Response:
    return _page(400, "This link does not work", [refused.english, "Nothing was changed."])


def _store_gone() -> web.Response:
    return _page(404, "This link does not work", [english("store_unknown", {}), "Nothing was changed."])


def _too_many(retry_after: int) -> web.Response:
    response = _page(429, "Too many requests", [english("rate_limited", {"retry_after": retry_after})])
    response.headers["Retry-After"] = str(retry_after)
    return response


def _unsubscribes(request: web.Request) -> Unsubscribes:
    built = services(request)
    return Unsubscribes(built.sessions, SignedLinks(built.settings.email_link_secret))


def _limited(request: web.Request) -> int:
    """Seconds to wait when this client asked too often (the /api/ limit per address)."""
    return services(request).ip_limit.check(client_key(request))


async def confirm_page(request: web.Request) -> web.Response:
    """Ask; never unsubscribe (a link scanner's GET must change nothing)."""
    if retry_after := _limited(request):
        return _too_many(retry_after)
    try:
        found = await _unsubscribes(request).ask(request.match_info["token"], utc_now())
    except BadSignedLink as refused:
        return _refused(refused)
    if found is None:
        return _store_gone()
    return _page(
        200,
        "Unsubscribe from review requests",
        [f"Stop emails from {found.store_name} asking you to review your orders?"],
        form_action=request.path,
    )


async def unsubscribe(request: web.Request) -> web.Response:
    """Opt out (one click, or the confirm page's button); again is harmless."""
    if retry_after := _limited(request):
        return _too_many(retry_after)
    # The body is not needed to unsubscribe: the signed token says who, a POST says "do it".
    # RFC 8058 senders POST "List-Unsubscribe=One-Click"; a client that POSTs nothing still meant it.
    try:
        done: Unsubscription | None = await _unsubscribes(request).confirm(request.match_info["token"], utc_now())
    except BadSignedLink as refused:
        return _refused(refused)
    if done is None:
        return _store_gone()
    return _page(
        200,
        "You are unsubscribed",
        [f"{done.store_name} will not ask you for reviews by email or in the chat any more."],
    )


def add_email_links(app: web.Application) -> None:
    app.router.add_get("/email/unsubscribe/{token}", confirm_page)
    app.router.add_post("/email/unsubscribe/{token}", unsubscribe)
