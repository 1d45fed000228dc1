"""What one notification email is: the unread messages of a burst, as plain text and as HTML,
from the store's name, in the store's words (its email templates), threaded per conversation,
with a "continue in chat" link, a reply address, and for marketing kinds a one-click unsubscribe
(RFC 8058).

Every text in it (the store's words, an agent's reply, a title) is data: escaped into the HTML,
never read as markup. Links are kept as links only when they pass :func:`bot.core.links.web_link`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from bot.chat.conversations import StoredMessage
from bot.core.links import BadLink, web_link

#: An http(s) link inside a message's text (the tracking page the store's words name).
_LINK_IN_TEXT = re.compile(r"https?://[^\s<>\"']+")
#: What usually ends a sentence rather than the link before it.
_TRAILING_PUNCTUATION = ".,;:!?)]}'"
#: The latest emails a new one refers to (``References``); mail clients need only a few.
MAX_REFERENCES = 10


@dataclass(frozen=True)
class EmailAttachment:
    """A file the email carries (an uploaded PDF manual)."""

    filename: str
    content: bytes = field(repr=False)
    maintype: str = "application"
    subtype: str = "pdf"


@dataclass(frozen=True)
class Notification:
    store_id: str
    store_name: str
    conversation_id: str
    sender: str
    to: str
    messages: Sequence[StoredMessage]
    #: ``Message-ID`` of the conversation's earlier emails, oldest first.
    earlier: Sequence[str]
    sent_at: dt.datetime
    #: The ``From`` display name (the seller's sender name); None: the store's name.
    sender_name: str | None = None
    #: ``reply+<token>@<reply domain>``: a reply comes back into the conversation.
    reply_to: str | None = None
    #: The store's templates, rendered (``email_subject``, ``email_intro``, ``email_footer``);
    #: None: the built-in words.
    subject_text: str | None = None
    intro: str | None = None
    footer: str | None = None
    #: The signed "continue in chat" link (:func:`continue_url`).
    continue_link: str | None = None
    #: The one-click unsubscribe link: set only for marketing kinds (review invitations).
    unsubscribe_link: str | None = None
    attachments: Sequence[EmailAttachment] = ()


def continue_url(public_base: str, token: str) -> str:
    """The "continue in chat" link of an email (the widget's side answers it)."""
    return f"{public_base.rstrip('/')}/continue/{token}"


def _one_line(text: str) -> str:
    """Header text on one line: a store name with a line break must not add a header."""
    return " ".join(text.split())


def _domain(sender: str) -> str:
    return sender.rpartition("@")[2] or "localhost"


def _conversation_tag(store_id: str, conversation_id: str) -> str:
    # The conversation id opens nothing by itself, but it is Rasa's sender id: the headers
    # carry a digest of it instead.
    return hashlib.sha256(f"{store_id}/{conversation_id}".encode()).hexdigest()[:32]


def thread_root(store_id: str, conversation_id: str, sender: str) -> str:
    """The id every email of a conversation refers to, so that mail clients keep one thread
    even before the first email (which no other precedes) is answered."""
    return f"<{_conversation_tag(store_id, conversation_id)}@{_domain(sender)}>"


def message_id(store_id: str, conversation_id: str, first_seq: int, sender: str) -> str:
    """The same for every attempt at one burst: a resend after a crash is the same email to a mail client."""
    return f"<n{first_seq}.{_conversation_tag(store_id, conversation_id)}@{_domain(sender)}>"


def subject(store_name: str) -> str:
    # One subject per conversation: some clients thread by subject too.
    return f"Your messages from {_one_line(store_name)}"


def _link(url: str) -> str | None:
    try:
        return web_link(url)
    except BadLink:
        return None


def _split_links(text: str) -> list[tuple[str, str | None]]:
    """The text as pieces: (text, None) and (link text, link)."""
    pieces: list[tuple[str, str | None]] = []
    position = 0
    for found in _LINK_IN_TEXT.finditer(text):
        candidate = found.group().rstrip(_TRAILING_PUNCTUATION)
        link = _link(candidate)
        if link is None:
            continue
        pieces.append((text[position : found.start()], None))
        pieces.append((candidate, link))
        position = found.start() + len(candidate)
    pieces.append((text[position:], None))
    return [piece for piece in pieces if piece[0]]


def _who(message: StoredMessage, store_name: str) -> str:
    if message.sender == "agent" and message.author:
        return f"{_one_line(message.author)} ({_one_line(store_name)})"
    return _one_line(store_name)


def _attachment(message: StoredMessage) -> tuple[str, str] | None:
    """(title, link) of the message's manual, video or image, if its link may be shown."""
    attachment = message.attachment or {}
    url = attachment.get("url")
    link = _link(url) if isinstance(url, str) else None
    if link is None:
        return None
    title = attachment.get("title")
    return (_one_line(title) if isinstance(title, str) and title.strip() else link), link


def _intro(notification: Notification) -> str:
    if notification.intro is not None and notification.intro.strip():
        return notification.intro.strip()
    return f"You have {_count(notification.messages)} from {_one_line(notification.store_name)}:"


def _footer(notification: Notification) -> str:
    if notification.footer is not None and notification.footer.strip():
        return notification.footer.strip()
    return "To answer, open the chat on the store's page."


#: The words before the "continue in chat" link and the unsubscribe link.
CONTINUE_WORDS = "Continue in the chat"
UNSUBSCRIBE_WORDS = "Stop review requests by email"


def plain_text(notification: Notification) -> str:
    parts = [_intro(notification), ""]
    for message, who in _with_new_authors(notification):
        if who is not None:
            parts.append(f"{who}:")
        if message.text:
            parts.append(message.text)
        attachment = _attachment(message)
        if attachment is not None:
            title, link = attachment
            parts.append(link if title == link else f"{title}: {link}")
        parts.append("")
    parts.append(_footer(notification))
    if notification.continue_link:
        parts.append(f"{CONTINUE_WORDS}: {notification.continue_link}")
    for attached in notification.attachments:
        parts.append(f"Attached: {attached.filename}")
    if notification.unsubscribe_link:
        parts += ["", f"{UNSUBSCRIBE_WORDS}: {notification.unsubscribe_link}"]
    return "\n".join(parts) + "\n"


def _html_text(text: str) -> str:
    out = []
    for piece, link in _split_links(text):
        if link is None:
            out.append(html.escape(piece).replace("\n", "<br>\n"))
        else:
            out.append(f'<a href="{html.escape(link, quote=True)}">{html.escape(piece)}</a>')
    return "".join(out)


def _html_link(url: str, words: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(words)}</a>'


def html_text(notification: Notification) -> str:
    blocks = []
    for message, who in _with_new_authors(notification):
        lines = [] if who is None else [f"<p><strong>{html.escape(who)}</strong></p>"]
        if message.text:
            lines.append(f"<p>{_html_text(message.text)}</p>")
        attachment = _attachment(message)
        if attachment is not None:
            title, link = attachment
            lines.append(f'<p><a href="{html.escape(link, quote=True)}">{html.escape(title)}</a></p>')
        blocks.append("\n".join(lines))
    body = "\n".join(blocks)
    tail = [f"<p>{html.escape(_footer(notification))}</p>"]
    if notification.continue_link:
        tail.append(f"<p>{_html_link(notification.continue_link, CONTINUE_WORDS)}</p>")
    if notification.unsubscribe_link:
        tail.append(f"<p><small>{_html_link(notification.unsubscribe_link, UNSUBSCRIBE_WORDS)}</small></p>")
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
        f"<p>{html.escape(_intro(notification))}</p>\n"
        f"{body}\n" + "\n".join(tail) + "\n</body></html>\n"
    )


def _with_new_authors(notification: Notification) -> list[tuple[StoredMessage, str | None]]:
    """Each message, with who wrote it when that changed from the message before (None: the same)."""
    out: list[tuple[StoredMessage, str | None]] = []
    previous = None
    for message in notification.messages:
        who = _who(message, notification.store_name)
        out.append((message, who if who != previous else None))
        previous = who
    return out


def _count(messages: Sequence[StoredMessage]) -> str:
    return "a new message" if len(messages) == 1 else f"{len(messages)} new messages"


def compose(notification: Notification) -> EmailMessage:
    """The email, multipart plain text and HTML; its ``Message-ID`` is :func:`message_id` of the burst."""
    n = notification
    mail = EmailMessage()
    display_name = n.sender_name if n.sender_name and n.sender_name.strip() else n.store_name
    mail["From"] = Address(display_name=_one_line(display_name), addr_spec=n.sender)
    mail["To"] = n.to
    if n.reply_to:
        mail["Reply-To"] = n.reply_to
    given_subject = _one_line(n.subject_text or "")
    mail["Subject"] = given_subject or subject(n.store_name)
    mail["Date"] = format_datetime(n.sent_at)
    mail["Message-ID"] = message_id(n.store_id, n.conversation_id, n.messages[0].seq, n.sender)
    root = thread_root(n.store_id, n.conversation_id, n.sender)
    earlier = list(n.earlier)[-MAX_REFERENCES:]
    mail["In-Reply-To"] = earlier[-1] if earlier else root
    mail["References"] = " ".join([root, *earlier])
    mail["Auto-Submitted"] = "auto-generated"
    if n.unsubscribe_link:
        # RFC 8058: a mail client unsubscribes by POSTing "List-Unsubscribe=One-Click" to the
        # https link; the link alone (a GET) only asks, as link scanners open every link.
        mail["List-Unsubscribe"] = f"<{n.unsubscribe_link}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(plain_text(n))
    mail.add_alternative(html_text(n), subtype="html")
    for attachment in n.attachments:
        # The body becomes multipart/mixed: the text and HTML alternatives, then the files.
        mail.add_attachment(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=_one_line(attachment.filename),
        )
    return mail


def plain_text_of(mail: EmailMessage) -> str:
    """The plain-text part of an email :func:`compose` made."""
    part = mail.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())
