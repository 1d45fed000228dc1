"""The demo inbox (DEMO=1 only): the emails the local sink kept (bot/runtime/mail_sink.py), and a
way to answer one as the shopper would.

- GET /demo/inbox: the page (ES modules under /demo/inbox/static/, text shown as text only);
- GET /demo/inbox/api/messages: the kept emails, newest first (from, to, subject, date);
- GET /demo/inbox/api/messages/{id}: one email: its headers, its plain-text part, the http(s)
  links in it and its attachments' names and sizes (never their content, never its HTML);
- POST /demo/inbox/api/messages/{id}/reply ``{"text": ...}``: the reply a mail provider would
  pass on, as an inbound-parse form to the gateway's own inbound webhook, over HTTP as a provider
  reaches it (so the demo goes through exactly what production does).

An id is a Maildir key, looked up among the Maildir's keys and never joined to a path as it came.
Without DEMO none of this is mounted: production serves no inbox.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import mailbox
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.core.clock import utc_now
from bot.core.config import Settings
from bot.core.links import BadLink, web_link
from bot.web.console_auth import CONSOLE_CSP, STATIC, same_origin
from bot.web.json_io import RefusedRequest, error_response, json_error, read_json_object
from bot.web.services import SERVICES, services

PAGE = "/demo/inbox"
API = "/demo/inbox/api/messages"
#: The files the page loads, looked up by name (never a path joined as it came).
STATIC_FILES: dict[str, str] = {"shared/dom.js": "application/javascript"}
for _path in sorted((STATIC / "inbox").glob("*")):
    if _path.suffix in (".js", ".css"):
        STATIC_FILES[f"inbox/{_path.name}"] = "application/javascript" if _path.suffix == ".js" else "text/css"
#: What Python's Maildir makes a key of: time, M<microseconds>P<pid>Q<count>, host (its "/" and ":"
#: written as \057 and \072). Anything else is no key of ours.
MAILDIR_KEY = re.compile(r"[A-Za-z0-9._\-\\]{1,200}")
#: The newest emails the list shows.
MAX_LISTED = 200
#: A reply is a short message; the inbound webhook has its own limits too.
MAX_REPLY_CHARS = 5000
#: An http(s) link in an email's text.
_LINK_IN_TEXT = re.compile(r"https?://[^\s<>\"']+")
_TRAILING_PUNCTUATION = ".,;:!?)]}'"
#: The inbound webhook answers after the turn (the bot's reply stored): give it the time of one.
WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=60)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class KeptEmail:
    key: str
    received: float
    message: EmailMessage

    def header(self, name: str) -> str:
        try:
            value = self.message.get(name)
        except (ValueError, IndexError, TypeError):  # a header so malformed that the parser gives up on it
            return ""
        return _one_line(str(value)) if value is not None else ""

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.key,
            "from": self.header("From"),
            "to": self.header("To"),
            "subject": self.header("Subject"),
            "date": self.header("Date"),
        }

    def text(self) -> str:
        try:
            part = self.message.get_body(preferencelist=("plain",))
            content = part.get_content() if part is not None else ""
        except (LookupError, ValueError, TypeError, AttributeError):  # an unknown charset, a broken part
            return ""
        # Mail on the wire ends its lines with CRLF: the page and the quoted reply want plain lines.
        return content.replace("\r\n", "\n") if isinstance(content, str) else ""

    def attachments(self) -> list[dict[str, Any]]:
        found = []
        for part in self.message.iter_attachments():
            payload = part.get_payload(decode=True)
            found.append(
                {
                    "filename": part.get_filename() or "",
                    "content_type": part.get_content_type(),
                    "size": len(payload) if isinstance(payload, bytes) else 0,
                }
            )
        return found

    def details(self) -> dict[str, Any]:
        text = self.text()
        headers = [[name, _one_line(str(value))] for name, value in self.message.raw_items()]
        return {
            **self.summary(),
            "reply_to": self.header("Reply-To"),
            "headers": headers,
            "text": text,
            "links": links_in(text),
            "attachments": self.attachments(),
        }


def links_in(text: str) -> list[str]:
    """The http(s) links in a text, each once, in order; anything else is no link to open."""
    links: list[str] = []
    for found in _LINK_IN_TEXT.finditer(text):
        candidate = found.group().rstrip(_TRAILING_PUNCTUATION)
        try:
            link = web_link(candidate)
        except BadLink:
            continue
        if link not in links:
            links.append(link)
    return links


class DemoInbox:
    """The sink's Maildir, read: it is written by another process, so it is opened for each request."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _maildir(self) -> mailbox.Maildir | None:
        if not (self.directory / "cur").is_dir():
            return None
        return mailbox.Maildir(self.directory, factory=None, create=False)

    def _read(self, maildir: mailbox.Maildir, key: str) -> KeptEmail | None:
        try:
            received = maildir.get_message(key).get_date()
            message = email.message_from_bytes(maildir.get_bytes(key), policy=email.policy.default)
        except (KeyError, FileNotFoundError):  # gone since the listing
            return None
        assert isinstance(message, EmailMessage)
        return KeptEmail(key, received, message)

    def newest(self) -> list[KeptEmail]:
        maildir = self._maildir()
        if maildir is None:
            return []
        kept = [found for key in maildir.iterkeys() if (found := self._read(maildir, key)) is not None]
        kept.sort(key=lambda kept_email: (kept_email.received, kept_email.key), reverse=True)
        return kept[:MAX_LISTED]

    def one(self, key: str) -> KeptEmail | None:
        maildir = self._maildir()
        # The key is looked up among the Maildir's own: "../x" or an absolute path is no key of it.
        if maildir is None or key not in set(maildir.keys()):
            return None
        return self._read(maildir, key)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def quoted_reply(reply: str, original: KeptEmail) -> str:
    """The reply, then the original quoted as Gmail quotes it, which reply parsers recognise."""
    quoted = "\n".join(">" + (" " + line if line else "") for line in original.text().rstrip("\n").split("\n"))
    attribution = f"On {original.header('Date')}, {original.header('From')} wrote:"
    return f"{reply.rstrip()}\n\n{attribution}\n{quoted}\n"


def reply_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def inbound_form(reply: str, original: KeptEmail) -> dict[str, str]:
    """The fields an inbound-parse provider (SendGrid's names) posts for this reply: from the shopper
    (the email's To), to the conversation's reply address (its Reply-To). The reply has a Message-ID
    of its own, as a mail client gives it: the webhook takes a mail once per Message-ID."""
    shopper = original.header("To")
    reply_address = original.header("Reply-To") or original.header("From")
    subject = reply_subject(original.header("Subject"))
    answered = original.header("Message-ID")
    headers = [
        f"From: {shopper}",
        f"To: {reply_address}",
        f"Subject: {subject}",
        f"Date: {format_datetime(utc_now())}",
        f"Message-ID: {make_msgid(domain='demo-inbox.localhost')}",
    ]
    if answered:
        headers += [f"In-Reply-To: {answered}", f"References: {_one_line(original.header('References') + ' ' + answered)}"]
    return {
        "from": shopper,
        "to": reply_address,
        "subject": subject,
        "text": quoted_reply(reply, original),
        "headers": "\n".join(headers) + "\n",
        "envelope": json.dumps({"to": [address for _, address in getaddresses([reply_address])], "from": shopper}),
    }


def inbound_webhook_url(settings: Settings) -> str:
    return f"{settings.gateway_url}/webhooks/email/inbound/{settings.email_inbound_secret}"


async def post_inbound_form(url: str, fields: dict[str, str]) -> tuple[int, Any]:
    """POST the fields as multipart/form-data, as a provider does; the webhook's status and JSON answer."""
    form = aiohttp.FormData(default_to_multipart=True)
    for name, value in fields.items():
        form.add_field(name, value)
    async with aiohttp.ClientSession(timeout=WEBHOOK_TIMEOUT) as http, http.post(url, data=form) as response:
        try:
            answer = await response.json(content_type=None)
        except ValueError:  # not JSON: the status says enough
            answer = None
        return response.status, answer


INBOX = web.AppKey("demo_inbox", DemoInbox)


def _inbox(request: web.Request) -> DemoInbox:
    return request.app[INBOX]


def _refusing(handler: Handler) -> Handler:
    """Outside /api/, so the API middleware does not answer refusals: this does, as JSON, never cached."""

    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = error_response(exc)
        response.headers["Cache-Control"] = "no-store"
        return response

    return answer


def _key(request: web.Request) -> str:
    key = request.match_info["id"]
    if not MAILDIR_KEY.fullmatch(key) or key.strip(".") == "":
        raise RefusedRequest(400, "http_bad_request")
    return key


async def _kept(request: web.Request) -> KeptEmail:
    found = await asyncio.to_thread(_inbox(request).one, _key(request))
    if found is None:
        raise RefusedRequest(404, "http_not_found")
    return found


async def page(_: web.Request) -> web.StreamResponse:
    return web.FileResponse(
        STATIC / "inbox.html",
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": CONSOLE_CSP,
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
        },
    )


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    return web.FileResponse(
        STATIC / name, headers={"Content-Type": f"{STATIC_FILES[name]}; charset=utf-8", "Cache-Control": "no-cache"}
    )


@_refusing
async def list_messages(request: web.Request) -> web.StreamResponse:
    kept = await asyncio.to_thread(_inbox(request).newest)
    return web.json_response({"messages": [found.summary() for found in kept]})


@_refusing
async def show_message(request: web.Request) -> web.StreamResponse:
    return web.json_response((await _kept(request)).details())


@_refusing
async def reply(request: web.Request) -> web.StreamResponse:
    # A form on another site could post text/plain that reads as JSON: only this page's own requests.
    if not same_origin(request) or request.content_type != "application/json":
        return json_error(403, "cross_origin")
    original = await _kept(request)
    body = await read_json_object(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return json_error(400, "text_empty", field="text")
    if len(text) > MAX_REPLY_CHARS:
        return json_error(400, "text_too_long", {"limit": MAX_REPLY_CHARS}, field="text")
    settings = services(request).settings
    try:
        status, answer = await post_inbound_form(inbound_webhook_url(settings), inbound_form(text, original))
    except (aiohttp.ClientError, TimeoutError):
        return json_error(502, "http_error", {"reason": "the inbound webhook did not answer"})
    if not 200 <= status < 300:
        # The webhook's own refusal (a reply with no new text, from another address…), passed on to read.
        why = answer.get("error") if isinstance(answer, dict) else None
        reason = f"the inbound webhook answered {status}" + (f": {why}" if isinstance(why, str) else "")
        return json_error(502, "http_error", {"reason": reason})
    return web.json_response({"sent": True, "webhook_status": status, "webhook": answer})


def add_demo_inbox(app: web.Application, demo: bool) -> None:
    """Mount the inbox in demo mode (DEMO=1); without it, every /demo/ path is the router's 404."""
    if not demo:
        return
    app[INBOX] = DemoInbox(app[SERVICES].settings.mail_sink_maildir)
    app.router.add_get(PAGE, page)
    app.router.add_get(PAGE + "/static/{name:.+}", static)
    app.router.add_get(API, list_messages)
    app.router.add_get(API + "/{id}", show_message)
    app.router.add_post(API + "/{id}/reply", reply)
