"""What one notification email is: text and HTML with the links, escaped, in one thread per conversation."""

from __future__ import annotations

import datetime as dt
import email
from email.message import EmailMessage
from email.policy import default

from bot.chat.conversations import StoredMessage
from bot.email.composition import Notification, compose, message_id, thread_root

AT = dt.datetime(2026, 11, 27, 22, 5, tzinfo=dt.UTC)
SENDER = "notifications@mail.shop.example"


def stored(seq: int, text: str, sender: str = "store", attachment: dict[str, str] | None = None) -> StoredMessage:
    return StoredMessage(seq, sender, text, [], attachment, AT, "Mei" if sender == "agent" else None)


def notification(messages: list[StoredMessage], store_name: str = "Shop", earlier: list[str] | None = None) -> Notification:
    return Notification("shop", store_name, "conv-1", SENDER, "alex@example.com", messages, earlier or [], AT)


def sent(mail: EmailMessage) -> EmailMessage:
    """The email as the receiving side parses it."""
    parsed = email.message_from_bytes(mail.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def part(mail: EmailMessage, subtype: str) -> str:
    found = mail.get_body(preferencelist=(subtype,))
    assert found is not None
    return str(found.get_content())


def test_hostile_text_and_links_are_text_in_the_html() -> None:
    mail = sent(
        compose(
            notification(
                [
                    stored(3, 'Hi <script>alert(1)</script> & "you" — see https://track.example/x?a=1&b=<2>.', "agent"),
                    stored(4, "Manual:", attachment={"type": "pdf", "url": "javascript:alert(1)", "title": "<img src=x>"}),
                    stored(5, "Video:", attachment={"type": "video", "url": "https://v.example/i.mp4", "title": ""}),
                ],
                store_name='Evil <b>Store</b>"',
            )
        )
    )
    html = part(mail, "html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Store</b>" not in html and "<img" not in html
    assert "javascript:" not in html  # an unsafe link is not a link, and not shown
    # The link stops where a shopper's text stops being a link; the rest stays text.
    assert '<a href="https://track.example/x?a=1&amp;b=">https://track.example/x?a=1&amp;b=</a>&lt;2&gt;.' in html
    assert '<a href="https://v.example/i.mp4">https://v.example/i.mp4</a>' in html
    text = part(mail, "plain")
    assert "Hi <script>alert(1)</script>" in text and "https://v.example/i.mp4" in text and "javascript:" not in text


def test_a_store_name_cannot_add_headers() -> None:
    mail = sent(compose(notification([stored(1, "Hello")], store_name="Shop\r\nBcc: everyone@example.com")))
    assert mail["Bcc"] is None
    assert mail["From"].addresses[0].display_name == "Shop Bcc: everyone@example.com"
    assert mail["From"].addresses[0].addr_spec == SENDER


def test_the_message_id_is_the_bursts_and_the_thread_is_the_conversations() -> None:
    first = sent(compose(notification([stored(1, "Hello")])))
    again = sent(compose(notification([stored(1, "Hello")])))
    assert first["Message-ID"] == again["Message-ID"] == message_id("shop", "conv-1", 1, SENDER)
    root = thread_root("shop", "conv-1", SENDER)
    assert first["In-Reply-To"] == first["References"] == root
    # The conversation id is not in the headers (it is the assistant's sender id).
    assert "conv-1" not in first.as_string()
    later = sent(compose(notification([stored(7, "More")], earlier=[first["Message-ID"]])))
    assert later["In-Reply-To"] == first["Message-ID"] and later["References"].split() == [root, first["Message-ID"]]
    assert thread_root("other-shop", "conv-1", SENDER) != root
