"""What one notification email is: text and HTML with the links, escaped, in one thread per conversation."""

from __future__ import annotations

import datetime as dt
import email
from email.message import EmailMessage
from email.policy import default

from bot.chat.conversations import StoredMessage
from bot.email.composition import EmailAttachment, Notification, compose, continue_url, message_id, thread_root

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


def test_the_store_s_words_the_reply_address_and_the_continue_link() -> None:
    mail = sent(
        compose(
            Notification(
                "shop",
                "Shop",
                "conv-1",
                SENDER,
                "alex@example.com",
                [stored(1, "Hello")],
                [],
                AT,
                sender_name="Mei <at> Shop\r\nBcc: x@example.com",
                reply_to="reply+abcdefghijklmnopqrstuvwx@reply.shop.example",
                subject_text="News from\nShop",
                intro="Hi Alex <b>!</b>",
                footer="Bye & thanks",
                continue_link=continue_url("https://chat.shop.example/", "tok.en"),
            )
        )
    )
    assert mail["Reply-To"] == "reply+abcdefghijklmnopqrstuvwx@reply.shop.example"
    assert mail["Subject"] == "News from Shop" and mail["Bcc"] is None
    assert mail["From"].addresses[0].display_name == "Mei <at> Shop Bcc: x@example.com"
    text, html = part(mail, "plain"), part(mail, "html")
    assert text.startswith("Hi Alex <b>!</b>\n") and "Bye & thanks" in text
    assert "Continue in the chat: https://chat.shop.example/continue/tok.en" in text
    assert "Hi Alex &lt;b&gt;!&lt;/b&gt;" in html and "<b>!</b>" not in html and "Bye &amp; thanks" in html
    assert '<a href="https://chat.shop.example/continue/tok.en">Continue in the chat</a>' in html
    # Transactional: no unsubscribe headers, no attachments.
    assert mail["List-Unsubscribe"] is None and mail["List-Unsubscribe-Post"] is None
    assert mail.get_content_type() == "multipart/alternative"


def test_without_templates_the_built_in_words_stay() -> None:
    mail = sent(compose(notification([stored(1, "Hello"), stored(2, "Again")])))
    assert mail["Subject"] == "Your messages from Shop" and mail["Reply-To"] is None
    assert part(mail, "plain").startswith("You have 2 new messages from Shop:")


def test_a_marketing_email_has_one_click_unsubscribe() -> None:
    link = "https://chat.shop.example/email/unsubscribe/a.b"
    base = notification([stored(1, "How was it?")])
    mail = sent(
        compose(
            Notification(
                base.store_id,
                base.store_name,
                base.conversation_id,
                base.sender,
                base.to,
                base.messages,
                base.earlier,
                base.sent_at,
                unsubscribe_link=link,
            )
        )
    )
    assert mail["List-Unsubscribe"] == f"<{link}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in part(mail, "plain") and f'<a href="{link}">' in part(mail, "html")


def test_a_manual_is_attached_as_a_pdf_beside_the_text_and_html() -> None:
    pdf = b"%PDF-1.4 manual %%EOF"
    base = notification([stored(1, "Manual", attachment={"type": "pdf", "url": "https://c.example/files/manuals/1/m.pdf"})])
    mail = sent(
        compose(
            Notification(
                base.store_id,
                base.store_name,
                base.conversation_id,
                base.sender,
                base.to,
                base.messages,
                base.earlier,
                base.sent_at,
                attachments=[EmailAttachment("op-1001-abc.pdf", pdf)],
            )
        )
    )
    assert mail.get_content_type() == "multipart/mixed"
    (attached,) = list(mail.iter_attachments())
    assert attached.get_content_type() == "application/pdf" and attached.get_filename() == "op-1001-abc.pdf"
    assert attached.get_content() == pdf
    assert "https://c.example/files/manuals/1/m.pdf" in part(mail, "plain") and "Attached: op-1001-abc.pdf" in part(
        mail, "plain"
    )


def test_who_wrote_is_named_once_per_run_of_their_messages() -> None:
    mail = sent(
        compose(
            notification(
                [
                    stored(1, "Delivered."),
                    stored(2, "Here is the manual."),
                    stored(3, "Any trouble?", "agent"),
                    stored(4, "Bye."),
                ]
            )
        )
    )
    text = part(mail, "plain")
    assert "\n\nShop:\nDelivered.\n\nHere is the manual.\n\nMei (Shop):\nAny trouble?\n\nShop:\nBye.\n" in text
    assert part(mail, "html").count("<strong>Shop</strong>") == 2
