"""The inbound-mail webhook: a mail provider posts each mail to a conversation's reply or bounce
address as an "inbound parse" form (SendGrid, Mailgun, Postmark and others use this shape).

``POST /webhooks/email/inbound/{secret}``, where the secret is ``EMAIL_INBOUND_SECRET``
(compared in constant time; a wrong one is a 404, as if there were no such page). The form is
``multipart/form-data`` with ``from``, ``to``, ``subject``, ``text``, ``html``, optionally
``cc``, ``envelope`` (JSON ``{"to": [...], "from": ...}``), ``headers`` (the raw header block),
``charsets`` (JSON: each field's charset), ``SPF``/``dkim`` verdicts, ``email`` (the whole MIME
mail, "raw" mode) and the attachments as files: SendGrid's ``attachment1`` to ``attachmentN``
(and the ``attachment-1`` naming of other providers). Those declared ``image/*`` or
``application/octet-stream`` are the reply's photos to try (:mod:`bot.email.reply_photos`); every
other file is read (bounded) and dropped. In raw mode the attachments are the MIME mail's.

The form is read part by part with bounds of its own (the gateway's 1 MB body limit is for
JSON; a mail with attachments is larger): at most :data:`MAX_BODY_BYTES` in all,
:data:`MAX_PARTS` parts, :data:`MAX_TEXT_BYTES` for ``text``/``html`` and
:data:`MAX_FIELD_BYTES` for the small fields. What :mod:`bot.email.inbound` refuses is a 4xx
JSON refusal; nothing is stored then.
"""

from __future__ import annotations

import codecs
import hmac
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp import web

from bot.chat.conversations import ChatSession, StoredMessage
from bot.core.text_input import BadInput, loads
from bot.email.inbound import InboundMailbox, InboundRefused, mail_from_form, mail_from_raw, sender_verdicts
from bot.email.reply_photos import MailAttachment, ReplyPhotos, may_be_photo, shown_name
from bot.email.unread_messages import EmailFollowUps
from bot.web.json_io import json_error, refusal_response
from bot.web.services import Services, services
from bot.web.turns import MAX_PHOTOS_PER_MESSAGE, BadMessage, parse_shopper_input

log = logging.getLogger(__name__)

#: The whole form (a mail with its attachments, or its raw MIME).
MAX_BODY_BYTES = 10 * 1024 * 1024
#: ``text`` and ``html``.
MAX_TEXT_BYTES = 1024 * 1024
#: Every other named field (addresses, subject, headers, envelope, verdicts).
MAX_FIELD_BYTES = 64 * 1024
#: Parts of the form, fields and attachments together.
MAX_PARTS = 64
#: Fields with a limit of their own.
_TEXT_FIELDS = {"text": MAX_TEXT_BYTES, "html": MAX_TEXT_BYTES, "email": MAX_BODY_BYTES}
#: When to deliver again a mail refused because the photo storage was down (as a chat upload is told).
STORAGE_RETRY_AFTER_SECONDS = 30
#: The name of an attachment's file field: SendGrid's ``attachment1``, Mailgun's ``attachment-1``.
_ATTACHMENT_FIELD = re.compile(r"attachment-?[1-9][0-9]{0,3}")


def inbound_mailbox(built: Services) -> InboundMailbox:
    """The mailbox over the gateway's own chat turn (the SMTP listener uses it too)."""

    async def take_turn(chat: ChatSession, text: str, photo_ids: Sequence[str]) -> list[StoredMessage]:
        # The very checks and turn of a chat message (bot/web/turns.py): stored first, then Rasa,
        # or the agent who holds the conversation; never the chat's "/intent" buttons by email.
        # Photos with no words are a message of photos alone, as in the chat.
        body: dict[str, Any] = {"text": text}
        if photo_ids:
            body["photos"] = list(photo_ids)
        try:
            return await built.engine.turns.take(chat, parse_shopper_input(body))
        except BadMessage as exc:
            raise InboundRefused(exc.code, status=exc.status, **exc.params) from None

    return InboundMailbox(
        built.sessions,
        take_turn,
        EmailFollowUps.when_enabled(built.settings),
        built.conversation_limit.check,
        built.settings.reply_domain,
        # The chat upload's bound on decodes: one per process (the SMTP listener's is its own).
        ReplyPhotos(built.photos, built.photo_decodes, MAX_PHOTOS_PER_MESSAGE),
    )


async def _read_form(request: web.Request) -> tuple[dict[str, bytes], list[MailAttachment]]:
    """The named fields of the form, as bytes, and the attachments that may be photos, within the
    bounds; other files are read and dropped."""
    if request.content_type != "multipart/form-data":
        raise InboundRefused("email_inbound_not_form", status=415)
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise InboundRefused("email_inbound_too_large", status=413, limit_mb=MAX_BODY_BYTES // (1024 * 1024))
    fields: dict[str, bytes] = {}
    attachments: list[MailAttachment] = []
    total = parts = 0
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            parts += 1
            if parts > MAX_PARTS:
                raise InboundRefused("email_inbound_too_many_parts", status=413, limit=MAX_PARTS)
            if not isinstance(part, aiohttp.BodyPartReader):
                raise InboundRefused("email_inbound_not_form")  # a nested multipart is no form field
            name = part.name or ""
            attachment = part.filename is not None
            # Kept only when it may be a photo; its bytes, not this type, then say whether it is one.
            photo = (
                attachment
                and _ATTACHMENT_FIELD.fullmatch(name) is not None
                and may_be_photo(part.headers.get("Content-Type", "application/octet-stream"))
            )
            limit = MAX_BODY_BYTES if attachment else _TEXT_FIELDS.get(name, MAX_FIELD_BYTES)
            chunks: list[bytes] = []
            size = 0
            while chunk := await part.read_chunk(64 * 1024):
                size += len(chunk)
                total += len(chunk)
                if total > MAX_BODY_BYTES:
                    raise InboundRefused("email_inbound_too_large", status=413, limit_mb=MAX_BODY_BYTES // (1024 * 1024))
                if size > limit:
                    raise InboundRefused("email_inbound_field_too_large", status=413, field=name[:64], limit=limit)
                if photo or not attachment:
                    chunks.append(chunk)
            if photo and size:
                attachments.append(MailAttachment(shown_name(part.filename), b"".join(chunks)))
            elif not attachment and name and name not in fields:
                fields[name] = b"".join(chunks)
    except InboundRefused:
        raise
    except (ValueError, AssertionError, aiohttp.ClientPayloadError, aiohttp.http_exceptions.HttpProcessingError):
        # aiohttp's multipart reader says a malformed form with these.
        raise InboundRefused("email_inbound_not_form") from None
    return fields, attachments


def _decoded(fields: dict[str, bytes]) -> dict[str, str]:
    """Each field as text, in its charset when the provider names it (``charsets``), else UTF-8."""
    charsets: dict[str, Any] = {}
    if "charsets" in fields:
        try:
            given = loads(fields["charsets"].decode("utf-8"), field="charsets")
        except (UnicodeDecodeError, json.JSONDecodeError, BadInput):
            raise InboundRefused("email_inbound_field_not_text", field="charsets") from None
        charsets = given if isinstance(given, dict) else {}
    texts: dict[str, str] = {}
    for name, raw in fields.items():
        if name == "email":
            continue  # the raw mail is MIME: its bytes are read as they are (mail_from_raw)
        charset = charsets.get(name)
        try:
            codec = codecs.lookup(charset).name if isinstance(charset, str) and charset else "utf-8"
            text = raw.decode(codec)
        except (LookupError, UnicodeDecodeError):
            raise InboundRefused("email_inbound_field_not_text", field=name[:64]) from None
        if "\0" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            raise InboundRefused("email_inbound_field_not_text", field=name[:64])
        texts[name] = text
    return texts


def _envelope_recipients(fields: dict[str, str]) -> list[str]:
    if not fields.get("envelope"):
        return []
    try:
        envelope = loads(fields["envelope"], field="envelope")
    except (json.JSONDecodeError, BadInput):
        raise InboundRefused("email_inbound_address_invalid", field="envelope") from None
    to = envelope.get("to") if isinstance(envelope, dict) else None
    if to is None:
        return []
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not all(isinstance(address, str) for address in to):
        raise InboundRefused("email_inbound_address_invalid", field="envelope")
    return to


def _secret_matches(given: str, secret: str) -> bool:
    # An unset secret opens nothing; the comparison takes the same time wherever they differ.
    return bool(secret) and hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8"))


async def inbound_email(request: web.Request) -> web.Response:
    built = services(request)
    if not _secret_matches(request.match_info["secret"], built.settings.email_inbound_secret):
        return json_error(404, "http_not_found")
    try:
        raw_fields, attachments = await _read_form(request)
        fields = _decoded(raw_fields)
        envelope = _envelope_recipients(fields)
        raw = raw_fields.get("email")
        # Raw mode's files are in its MIME mail (mail_from_raw reads them there).
        mail = (
            mail_from_raw(raw, envelope, sender_verdicts(fields)) if raw else mail_from_form(fields, envelope, attachments)
        )
        outcome = await inbound_mailbox(built).take(mail)
    except InboundRefused as refused:
        headers = {"Retry-After": str(refused.params["retry_after"])} if "retry_after" in refused.params else None
        if refused.status == 503:
            # The photo storage is down: SendGrid retries a 5xx (for up to three days), not a 4xx.
            log.warning("an inbound mail waits for the photo storage: %s", refused.english)
            headers = {"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)}
        return refusal_response(refused.status, refused, headers=headers)
    return web.json_response({"result": outcome.result, "conversation_id": outcome.conversation_id})


def add_email_webhooks(app: web.Application) -> None:
    app.router.add_post("/webhooks/email/inbound/{secret}", inbound_email)
