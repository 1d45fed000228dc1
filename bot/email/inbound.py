"""Mail that comes back to a conversation: the shopper's replies, bounces and complaints.

Every email to a shopper says ``Reply-To: reply+<token>@<reply domain>`` and is sent from the
envelope sender ``bounce+<token>@<reply domain>``; the token is the conversation's
``email_reply_token``. Mail reaches :class:`InboundMailbox` from the inbound-parse webhook
(:mod:`bot.web.email_webhooks`) or the SMTP listener (:mod:`bot.runtime.inbound_smtp`), as an
:class:`InboundMail` made by :func:`mail_from_form` or :func:`mail_from_raw`. This module knows
no web: the caller gives it the chat's turn (:mod:`bot.web.turns`) as a function.

What is taken, and what is refused (:class:`InboundRefused`, nothing stored):

- the address must hold a token of a conversation, at the deployment's or the conversation's
  store's reply domain (a token sent to another store's domain is no address of this one);
- a reply must come from the conversation's shopper address (consent, and no one else writes in
  the shopper's name); the provider's SPF/DKIM verdicts are logged when it gives them;
- only the new words count (:mod:`bot.email.reply_text`), and the photos attached
  (:mod:`bot.email.reply_photos`: the chat upload's checks, at most as many as a chat message
  carries); a reply with neither is refused. A file that is not taken refuses nothing: the rest
  of the reply is taken, and a store message in the conversation (emailed with the answers) says
  which file was not taken and why;
- a reply is the shopper's turn, as in the chat: stored first, then Rasa answers (or the agent
  who holds the conversation gets it), under the chat's per-conversation rate limit; the bot's
  answers are then emailed back (``email_answer``);
- a bounce or complaint (:mod:`bot.email.bounces`) marks the shopper address undeliverable;
- a mail is taken once per ``Message-ID`` and store (``email_inbound``): providers retry. Its
  photos are kept only once the mail is claimed, and deleted again if its turn fails (when the
  claim is given back too, for a retry to take the whole mail); a photo storage that is down
  refuses the mail for the moment (503), so that the provider retries it.
"""

from __future__ import annotations

import email
import email.errors
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ChatSession, ConversationService, NewMessage, StoredMessage
from bot.core.db import dialect_insert
from bot.core.models import Conversation, EmailInbound
from bot.core.refusals import ParamValue, Refusal
from bot.email.bounces import Verdict, is_report, read_report
from bot.email.reply_addresses import BOUNCE, ConversationAddress, conversation_address
from bot.email.reply_photos import (
    NOTHING_KEPT,
    MailAttachment,
    ReplyPhotos,
    mime_photo_candidates,
    not_taken_notice,
)
from bot.email.reply_text import new_text
from bot.email.store_email import store_email_settings
from bot.email.suppressions import address_key, suppress
from bot.email.unread_messages import EMAIL_ANSWER, EmailFollowUps
from bot.photos.conversation_photos import PhotoStorageUnavailable

log = logging.getLogger(__name__)

#: ``email_inbound.kind`` of a reply (bounces and complaints use the suppression reasons).
REPLY_KIND = "reply"
#: The longest address (RFC 5321: 64 + 1 + 255), and how many recipients a mail may name.
MAX_ADDRESS_CHARS = 320
MAX_RECIPIENTS = 50
MAX_MESSAGE_ID_CHARS = 250
#: Characters an address never holds once parsed (a header injection, a list, a display name).
_NOT_IN_ADDRESS = frozenset('\r\n\t <>,;"()[]\\')


class InboundRefused(Refusal, ValueError):
    """An inbound mail that is not taken; ``status`` is the HTTP answer's (the SMTP listener
    maps it to its reply code)."""

    def __init__(self, code: str, /, status: int = 400, **params: ParamValue) -> None:
        super().__init__(code, **params)
        self.status = status


@dataclass(frozen=True)
class InboundMail:
    #: The author's address (``From``), as given.
    sender: str
    #: Every address the mail was sent to: ``To``, ``Cc`` and the envelope's.
    recipients: tuple[str, ...]
    subject: str = ""
    text: str | None = None
    html: str | None = None
    #: The ``Message-ID`` header, or None when the mail has none.
    message_id: str | None = None
    #: The whole mail when it came as MIME (raw webhook, SMTP): bounces are read from it.
    message: Message | None = None
    #: What the provider says of the sender (SendGrid's ``SPF`` and ``dkim`` fields), for the log.
    verdicts: Mapping[str, str] = field(default_factory=dict)
    #: The files that may be photos (:mod:`bot.email.reply_photos`), in the mail's order.
    attachments: tuple[MailAttachment, ...] = ()

    def dedupe_key(self) -> str:
        """What makes two deliveries the same mail: the Message-ID, or a digest of the mail without one."""
        if self.message_id:
            return self.message_id[:MAX_MESSAGE_ID_CHARS]
        digest = hashlib.sha256()
        for part in (self.sender, self.subject, self.text or "", self.html or ""):
            digest.update(part.encode("utf-8", "replace") + b"\0")
        # Two mails of photos alone differ only in their files (a mail without any keeps its old key).
        for attachment in self.attachments:
            digest.update(hashlib.sha256(attachment.data).digest())
        return f"sha256:{digest.hexdigest()}"


@dataclass(frozen=True)
class Outcome:
    #: ``stored`` (a reply taken), ``duplicate`` (taken before), ``bounced``/``complained``
    #: (the address is suppressed), ``ignored`` (a temporary failure, or a report about nobody here),
    #: ``photos_refused`` (a reply of files alone, none taken: the conversation says why).
    result: str
    conversation_id: str
    #: The messages the turn stored: the shopper's, then the answers; then the store's notice of
    #: the files not taken, if any.
    messages: tuple[StoredMessage, ...] = ()


def valid_address(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return (
        bool(at and local and domain)
        and len(address) <= MAX_ADDRESS_CHARS
        and "@" not in local
        and "." in domain
        and not any(c in _NOT_IN_ADDRESS or not c.isprintable() for c in address)
    )


def _addresses(value: str, field_name: str, *, single: bool = False) -> list[str]:
    """The addresses of a header value; a value that injects a header, or names no valid address, is refused."""
    if "\r" in value or "\n" in value or "\0" in value:
        raise InboundRefused("email_inbound_address_invalid", field=field_name)
    found = [address for _, address in getaddresses([value]) if address]
    if not found or len(found) > (1 if single else MAX_RECIPIENTS) or not all(map(valid_address, found)):
        raise InboundRefused("email_inbound_address_invalid", field=field_name)
    return found


def _message_id(value: object) -> str | None:
    text = " ".join(str(value or "").split())
    return text[:MAX_MESSAGE_ID_CHARS] or None


def _part_text(message: Message, subtype: str) -> str | None:
    """The text of the mail's body in this subtype, or None when it has none that can be read."""
    if not isinstance(message, email.message.EmailMessage):
        return None
    try:
        part = message.get_body(preferencelist=(subtype,))
        content = part.get_content() if part is not None else None
    except (LookupError, ValueError, TypeError, AttributeError, email.errors.MessageError):
        return None  # an unknown charset or a broken part: as if absent
    return content if isinstance(content, str) else None


def mail_from_raw(
    data: bytes, envelope_recipients: Sequence[str] = (), verdicts: Mapping[str, str] | None = None
) -> InboundMail:
    """A whole MIME mail (SendGrid's raw mode, or what the SMTP listener received)."""
    try:
        message = email.message_from_bytes(data, policy=policy.default)
        sender_header = str(message.get("From", "") or "")
        to_headers = [str(message.get(name, "") or "") for name in ("To", "Cc")]
        subject = str(message.get("Subject", "") or "")
        message_id = _message_id(message.get("Message-ID"))
    except (LookupError, ValueError, TypeError, IndexError, AttributeError, email.errors.MessageError):
        raise InboundRefused("email_inbound_mime_invalid") from None
    if not sender_header.strip():
        raise InboundRefused("email_inbound_field_missing", field="from")
    sender = _addresses(sender_header, "from", single=True)[0]
    recipients = [a for value in to_headers if value.strip() for a in _addresses(value, "to")]
    recipients += [a for value in envelope_recipients for a in _addresses(value, "envelope")]
    if not recipients:
        raise InboundRefused("email_inbound_field_missing", field="to")
    return InboundMail(
        sender=sender,
        recipients=tuple(recipients[:MAX_RECIPIENTS]),
        subject=subject,
        text=_part_text(message, "plain"),
        html=_part_text(message, "html"),
        message_id=message_id,
        message=message,
        verdicts=dict(verdicts or {}),
        attachments=mime_photo_candidates(message),
    )


def sender_verdicts(fields: Mapping[str, str]) -> dict[str, str]:
    """What the provider says of the sender, when it checks: SendGrid's ``SPF`` and ``dkim`` fields."""
    return {name: fields[name][:200] for name in ("SPF", "dkim") if name in fields}


def mail_from_form(
    fields: Mapping[str, str], envelope_recipients: Sequence[str] = (), attachments: Sequence[MailAttachment] = ()
) -> InboundMail:
    """The fields of an "inbound parse" form (from, to, subject, text, html, headers; SPF and
    dkim when the provider checks them), with its files that may be photos. Raw mode's ``email``
    field is read by :func:`mail_from_raw`."""
    for required in ("from", "to"):
        if not fields.get(required, "").strip():
            raise InboundRefused("email_inbound_field_missing", field=required)
    sender = _addresses(fields["from"], "from", single=True)[0]
    recipients = _addresses(fields["to"], "to")
    if fields.get("cc", "").strip():
        recipients += _addresses(fields["cc"], "cc")
    recipients += [a for value in envelope_recipients for a in _addresses(value, "envelope")]
    headers = fields.get("headers", "")
    message: Message | None = None
    message_id = None
    if headers.strip():
        parsed = HeaderParser(policy=policy.default).parsestr(headers)
        message_id = _message_id(parsed.get("Message-ID"))
        # The headers over the text: enough for the bounce detectors that read a plain bounce's words.
        message = email.message_from_string(headers.rstrip("\r\n") + "\n\n" + fields.get("text", ""), policy=policy.compat32)
    return InboundMail(
        sender=sender,
        recipients=tuple(recipients[:MAX_RECIPIENTS]),
        subject=fields.get("subject", ""),
        text=fields.get("text"),
        html=fields.get("html"),
        message_id=message_id,
        message=message,
        verdicts=sender_verdicts(fields),
        attachments=tuple(attachments),
    )


def _first_conversation_address(recipients: Iterable[str]) -> ConversationAddress | None:
    return next(filter(None, map(conversation_address, recipients)), None)


#: The chat's turn for a shopper's text and photos (ids of photos kept in the conversation and not
#: yet sent; the text may be empty when there are photos): stores the message, has it answered (or
#: given to the agent), and returns the stored messages. Raises :class:`InboundRefused` for a
#: message the chat refuses.
TakeTurn = Callable[[ChatSession, str, Sequence[str]], Awaitable[list[StoredMessage]]]


class InboundMailbox:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        take_turn: TakeTurn,
        follow_ups: EmailFollowUps | None,
        rate_limit: Callable[[str], int],
        reply_domain: str,
        photos: ReplyPhotos | None = None,
    ) -> None:
        """``rate_limit``: the chat's per-conversation limit (seconds to wait, 0 when allowed);
        ``reply_domain``: the deployment's reply domain (a store may have its own); ``photos``:
        what keeps a reply's attached photos (None: attachments are ignored)."""
        self._sessions = sessions
        self._take_turn = take_turn
        self._follow_ups = follow_ups
        self._rate_limit = rate_limit
        self._reply_domain = reply_domain.lower()
        self._photos = photos

    async def _conversation(self, session: AsyncSession, address: ConversationAddress) -> Conversation | None:
        conversation = await session.scalar(select(Conversation).where(Conversation.email_reply_token == address.token))
        if conversation is None:
            return None
        domains = {self._reply_domain, (await store_email_settings(session, conversation.store_id)).reply_domain}
        domains -= {None, ""}
        if domains and address.domain not in domains:
            return None  # the token is this conversation's, but the domain is no reply domain of its store
        return conversation

    async def knows(self, recipient: str) -> bool:
        """Whether ``recipient`` is a conversation's reply or bounce address (the SMTP listener's RCPT)."""
        address = conversation_address(recipient)
        if address is None:
            return False
        async with self._sessions() as session:
            return await self._conversation(session, address) is not None

    async def take(self, mail: InboundMail) -> Outcome:
        address = _first_conversation_address(mail.recipients)
        if address is None:
            raise InboundRefused("email_reply_address_unknown", status=404)
        async with self._sessions() as session:
            conversation = await self._conversation(session, address)
        if conversation is None:
            raise InboundRefused("email_reply_address_unknown", status=404)
        chat = ChatSession(conversation.id, conversation.store_id, conversation.shopper_email)
        # The address the store emails: a signed shopper's, or the one of the order an anonymous
        # chat proved (which does not make the chat a signed shopper's: ``chat`` keeps None).
        contact = conversation.email_address
        if mail.message is not None and (address.kind == BOUNCE or is_report(mail.message, mail.sender)):
            return await self._report(chat, contact, mail, read_report(mail.message))
        if address.kind == BOUNCE:
            # Only servers write to the bounce address; a mail there that reports nothing is dropped.
            log.info("a mail to the bounce address of %s is no bounce report; ignored", chat.conversation_id)
            return Outcome("ignored", chat.conversation_id)
        return await self._reply(chat, contact, mail)

    async def _claim(self, session: AsyncSession, chat: ChatSession, mail: InboundMail, kind: str) -> bool:
        """Record the mail as taken; False when it was taken before."""
        inserted = await session.scalar(
            dialect_insert(session, EmailInbound)
            .values(store_id=chat.store_id, conversation_id=chat.conversation_id, message_id=mail.dedupe_key(), kind=kind)
            .on_conflict_do_nothing()
            .returning(EmailInbound.id)
        )
        return inserted is not None

    async def _report(self, chat: ChatSession, contact: str | None, mail: InboundMail, verdict: Verdict | None) -> Outcome:
        if verdict is None or not contact or not verdict.concerns(contact):
            log.info("a report about %s changes nothing (temporary, or not about its shopper)", chat.conversation_id)
            return Outcome("ignored", chat.conversation_id)
        async with self._sessions() as session, session.begin():
            if not await self._claim(session, chat, mail, verdict.reason):
                return Outcome("duplicate", chat.conversation_id)
            await suppress(session, chat.store_id, contact, verdict.reason, verdict.detail)
        log.info("the shopper address of %s is %s: %s", chat.conversation_id, verdict.reason, verdict.detail)
        return Outcome(verdict.reason, chat.conversation_id)

    async def _reply(self, chat: ChatSession, contact: str | None, mail: InboundMail) -> Outcome:
        if not contact or address_key(mail.sender) != address_key(contact):
            log.warning(
                "a reply to %s from another address than its shopper's was refused (%s)",
                chat.conversation_id,
                ", ".join(f"{k}={v}" for k, v in mail.verdicts.items()) or "no sender verdicts",
            )
            raise InboundRefused("email_sender_not_shopper", status=403)
        if mail.verdicts:
            log.info("reply to %s: provider verdicts %s", chat.conversation_id, dict(mail.verdicts))
        text = new_text(mail.text, mail.html)
        photos = self._photos
        attachments = mail.attachments if photos is not None else ()
        if not text and not attachments:
            raise InboundRefused("email_reply_empty", status=422)
        retry_after = self._rate_limit(chat.conversation_id)
        if retry_after:
            raise InboundRefused("rate_limited", status=429, retry_after=retry_after)
        async with self._sessions() as session, session.begin():
            if not await self._claim(session, chat, mail, REPLY_KIND):
                # Before any photo is decoded or kept: a retried delivery adds nothing.
                return Outcome("duplicate", chat.conversation_id)
        kept = NOTHING_KEPT
        try:
            if photos is not None and attachments:
                kept = await photos.keep(chat, attachments)
            # Files alone, none of them taken: no shopper message (the notice below says why).
            messages = await self._take_turn(chat, text, kept.photo_ids) if text or kept.photos else []
        except BaseException as failure:
            # Not taken (a message the chat refuses, the photo storage down, or a failure before it
            # was stored): a retry may take it, so neither its claim nor its photos stay. The claim
            # goes first: photos left behind would only wait for the retention purge, a claim left
            # behind loses the mail.
            async with self._sessions() as session, session.begin():
                await session.execute(
                    delete(EmailInbound).where(
                        EmailInbound.store_id == chat.store_id, EmailInbound.message_id == mail.dedupe_key()
                    )
                )
            if photos is not None and kept.photos:
                await photos.discard(chat, kept)
            if isinstance(failure, PhotoStorageUnavailable):
                # Temporary: a 503 (the webhook) or a 451 (SMTP) has the sender deliver it again.
                raise InboundRefused(failure.code, status=503) from failure
            raise
        answers = [message for message in messages if message.sender == "bot"]
        notices: list[StoredMessage] = []
        if kept.not_taken or (self._follow_ups is not None and answers):
            async with self._sessions() as session, session.begin():
                if kept.not_taken:
                    # The shopper is in their mail: the notice goes out with the answers, at once.
                    notices = await ConversationService.append_in(
                        session, chat, [NewMessage("store", not_taken_notice(kept.not_taken))]
                    )
                if self._follow_ups is not None and (answers or notices):
                    await self._follow_ups.after_stored(session, chat, answers + notices, EMAIL_ANSWER)
        result = "stored" if messages else "photos_refused"
        return Outcome(result, chat.conversation_id, tuple(messages + notices))
