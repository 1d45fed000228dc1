"""The new words of an emailed reply, without the quoted mail, as the common mail clients quote it."""

from __future__ import annotations

import pytest

from bot.email.reply_text import html_to_text, new_text

QUOTED = {
    "gmail": (
        "Thanks, but the mount is missing a screw.\n\n"
        "On Mon, Nov 30, 2026 at 8:01 PM Yangteng Auto <reply+abcdefghijklmnop@mail.example> wrote:\n"
        "> Hello Alex,\n> your parcel was delivered.\n",
        "Thanks, but the mount is missing a screw.",
    ),
    "gmail, header wrapped": (
        "Which bolts do I use?\r\n\r\nOn Mon, Nov 30, 2026 at 8:01 PM Yangteng Auto <\r\n"
        "reply+abcdefghijklmnop@mail.example> wrote:\r\n> Hello Alex,\r\n",
        "Which bolts do I use?",
    ),
    "outlook": (
        "Where is the manual?\n\n-----Original Message-----\nFrom: Yangteng Auto <reply+abcdefghijklmnop@mail.example>\n"
        "Sent: Monday, November 30, 2026 8:01 PM\nTo: alex@example.com\nSubject: Your order\n\nHello Alex,\n",
        "Where is the manual?",
    ),
    "outlook, underscores": (
        "Where is the manual?\n\n________________________________\nFrom: Yangteng Auto <reply+abcdefghijklmnop@mail.example>\n"
        "Sent: Monday, November 30, 2026 8:01 PM\nTo: alex@example.com\nSubject: Your order\n\nHello Alex,\n",
        "Where is the manual?",
    ),
    "apple mail": (
        "It works now, thank you!\n\n> On 30 Nov 2026, at 20:01, Yangteng Auto <reply+abcdefghijklmnop@mail.example> wrote:\n"
        ">\n> Hello Alex,\n",
        "It works now, thank you!",
    ),
    "german": (
        "Danke schön.\n\nAm Mo., 30. Nov. 2026 um 20:01 Uhr schrieb Yangteng Auto <reply+abcdefghijklmnop@mail.example>:\n"
        "> Hallo Alex,\n",
        "Danke schön.",
    ),
    "german outlook": (
        "Danke.\n\nVon: Yangteng Auto <reply+abcdefghijklmnop@mail.example>\nGesendet: Montag, 30. November 2026 20:01\n"
        "An: alex@example.com\nBetreff: Ihre Bestellung\n\nHallo Alex,\n",
        "Danke.",
    ),
    "french": (
        "Merci beaucoup.\n\nLe lun. 30 nov. 2026 à 20:01, Yangteng Auto <reply+abcdefghijklmnop@mail.example> a écrit :\n"
        "> Bonjour Alex,\n",
        "Merci beaucoup.",
    ),
    "chinese outlook": (
        "谢谢，收到了。\n\n发件人: Yangteng Auto <reply+abcdefghijklmnop@mail.example>\n发送时间: 2026年11月30日 20:01\n"
        "收件人: alex@example.com\n主题: 您的订单\n\n你好\n",
        "谢谢，收到了。",
    ),
}


@pytest.mark.parametrize("mail, expected", QUOTED.values(), ids=QUOTED.keys())
def test_only_the_new_words_are_kept(mail: str, expected: str) -> None:
    assert new_text(mail) == expected


def test_a_reply_without_a_quote_is_kept_whole() -> None:
    assert new_text("Hello,\n\nthe oil pan leaks at the rear bolt.\n") == "Hello,\n\nthe oil pan leaks at the rear bolt."


def test_nothing_new_is_empty() -> None:
    assert new_text("") == ""
    assert new_text("   \n", None) == ""
    assert new_text(None, None) == ""
    assert new_text("\n\nOn Mon, Nov 30, 2026 at 8:01 PM Yangteng Auto <a@b.example> wrote:\n> Hello Alex,\n") == ""


def test_an_html_only_reply_is_read_without_its_quote_or_markup() -> None:
    html = (
        "<html><head><style>p{color:red}</style><title>x</title></head><body>"
        "<div dir='ltr'>Thanks, <b>got it</b> &amp; it fits.<br>Alex</div>"
        "<div class='gmail_quote'><div>On Mon, Nov 30, 2026 Yangteng Auto wrote:</div>"
        "<blockquote>Hello Alex, <script>alert(1)</script>your parcel</blockquote></div></body></html>"
    )
    assert new_text(None, html) == "Thanks, got it & it fits.\nAlex"
    assert new_text("", "<p>Yes</p><blockquote type=cite>old <p>mail</blockquote>") == "Yes"


def test_html_text_survives_broken_markup() -> None:
    assert html_to_text("<div>one<br>two</span></div><blockquote>quoted") == "one\ntwo"
    assert html_to_text("a <img src=x> b") == "a b"
