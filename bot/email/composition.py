"""What one notification email is: the unread messages of a burst, as plain text and as HTML,
from the store's name, threaded per conversation.

Every text in it (the store's words, an agent's reply, a title) is data: escaped into the HTML,
never read as markup. Links are kept as links only when they pass :func:`bot.core.links.web_link`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
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


def plain_text(notification: Notification) -> str:
    parts = [f"You have {_count(notification.messages)} from {_one_line(notification.store_name)}:", ""]
    for message in notification.messages:
        parts.append(f"{_who(message, notification.store_name)}:")
        if message.text:
            parts.append(message.text)
        attachment = _attachment(message)
        if attachment is not None:
            title, link = attachment
            parts.append(link if title == link else f"{title}: {link}")
        parts.append("")
    parts.append("To answer, open the chat on the store's page.")
    return "\n".join(parts) + "\n"


def _html_text(text: str) -> str:
    out = []
    for piece, link in _split_links(text):
        if link is None:
            out.append(html.escape(piece).replace("\n", "<br>\n"))
        else:
            out.append(f'<a href="{html.escape(link, quote=True)}">{html.escape(piece)}</a>')
    return "".join(out)


def html_text(notification: Notification) -> str:
    store = html.escape(_one_line(notification.store_name))
    blocks = []
    for message in notification.messages:
        lines = [f"<p><strong>{html.escape(_who(message, notification.store_name))}</strong></p>"]
        if message.text:
            lines.append(f"<p>{_html_text(message.text)}</p>")
        attachment = _attachment(message)
        if attachment is not None:
            title, link = attachment
            lines.append(f'<p><a href="{html.escape(link, quote=True)}">{html.escape(title)}</a></p>')
        blocks.append("\n".join(lines))
    body = "\n<hr>\n".join(blocks)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
        f"<p>You have {_count(notification.messages)} from {store}:</p>\n"
        f"{body}\n<p>To answer, open the chat on the store's page.</p>\n</body></html>\n"
    )


def _count(messages: Sequence[StoredMessage]) -> str:
    return "a new message" if len(messages) == 1 else f"{len(messages)} new messages"


def compose(notification: Notification) -> EmailMessage:
    """The email, multipart plain text and HTML; its ``Message-ID`` is :func:`message_id` of the burst."""
    n = notification
    mail = EmailMessage()
    mail["From"] = Address(display_name=_one_line(n.store_name), addr_spec=n.sender)
    mail["To"] = n.to
    mail["Subject"] = subject(n.store_name)
    mail["Date"] = format_datetime(n.sent_at)
    mail["Message-ID"] = message_id(n.store_id, n.conversation_id, n.messages[0].seq, n.sender)
    root = thread_root(n.store_id, n.conversation_id, n.sender)
    earlier = list(n.earlier)[-MAX_REFERENCES:]
    mail["In-Reply-To"] = earlier[-1] if earlier else root
    mail["References"] = " ".join([root, *earlier])
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(plain_text(n))
    mail.add_alternative(html_text(n), subtype="html")
    return mail
