"""shared/safe-text.js, the one link-maker of the consoles and the widget: run in a real browser
(Debian's Chromium), and widget.js's copy of it kept word for word."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from bot.web.console_auth import STATIC
from tests.web.browser import static_module_page

BEGIN, END = "// ---- begin shared safe-text ----", "// ---- end shared safe-text ----"


def _block(script: str) -> str:
    """The shared block, from the start of its first line to the end of its last, dedented, without `export`."""
    start = script.rindex("\n", 0, script.index(BEGIN)) + 1
    block = textwrap.dedent(script[start : script.index(END) + len(END)])
    return re.sub(r"^export ", "", block, flags=re.M)


def test_the_widget_holds_the_shared_safe_text_word_for_word() -> None:
    shared = (STATIC / "shared" / "safe-text.js").read_text(encoding="utf-8")
    widget = (STATIC / "widget.js").read_text(encoding="utf-8")
    assert widget.count(BEGIN) == widget.count(END) == 1
    assert _block(widget) == _block(shared)
    assert "export " not in _block(widget) and "import " not in shared
    # …and no other link-maker beside it.
    for name in ("safeUrl", "externalLink", "appendLinkified"):
        assert len(re.findall(rf"\bfunction {name}\(", widget)) == 1, name
    assert "URL_RE" not in widget


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    with static_module_page(browser, "safe-text") as page:
        yield page


def linkified(page: Page, text: str) -> list[dict[str, Any]]:
    """appendLinkified's nodes: {"text"} for a text node, {"text", "href", "target", "rel", "children"} for a link."""
    nodes: list[dict[str, Any]] = page.evaluate(
        """async (text) => {
            const { appendLinkified } = await import('/shared/safe-text.js');
            const box = document.createElement('div');
            appendLinkified(box, text);
            return [...box.childNodes].map((n) => n.nodeType === Node.TEXT_NODE ? { text: n.textContent } : {
                tag: n.tagName.toLowerCase(), text: n.textContent, href: n.getAttribute('href'),
                target: n.getAttribute('target'), rel: n.getAttribute('rel'), children: n.children.length,
                attributes: n.getAttributeNames().sort() });
        }""",
        text,
    )
    assert "".join(n["text"] for n in nodes) == text  # every character shown, as written
    return nodes


def links(nodes: list[dict[str, Any]]) -> list[str]:
    return [n["text"] for n in nodes if "tag" in n]


def safe_url(page: Page, value: str, base: str | None = None) -> str | None:
    return page.evaluate(
        """async ([value, base]) => {
            const { safeUrl } = await import('/shared/safe-text.js');
            const url = safeUrl(value, base || undefined);
            return url ? url.href : null;
        }""",
        [value, base],
    )


DANGEROUS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "  javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x00javascript:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "javascript&colon;alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://files.example/manual.pdf",
]


@pytest.mark.parametrize("value", DANGEROUS)
def test_only_http_and_https_ever_become_links(page: Page, value: str) -> None:
    assert safe_url(page, value) is None
    nodes = linkified(page, f"open {value} now")
    assert links(nodes) == []


def test_a_script_url_around_a_web_address_only_links_the_web_address(page: Page) -> None:
    nodes = linkified(page, "javascript:alert('https://shop.example/x')//https://evil.example/")
    assert [(n["text"], n["href"]) for n in nodes if "tag" in n] == [
        ("https://shop.example/x", "https://shop.example/x"),
        ("https://evil.example/", "https://evil.example/"),
    ]
    assert all(not n.get("href", "https:").lower().startswith("javascript") for n in nodes)


def test_safe_urls_are_normalised_and_relative_ones_need_a_base(page: Page) -> None:
    assert safe_url(page, " HTTPS://Shop.Example/Manual.pdf?x=1#p2 ") == "https://shop.example/Manual.pdf?x=1#p2"
    assert safe_url(page, "http://shop.example") == "http://shop.example/"
    assert safe_url(page, "/files/manual.pdf") is None
    assert safe_url(page, "/files/manual.pdf", "https://gateway.example/") == "https://gateway.example/files/manual.pdf"
    assert safe_url(page, "") is None and safe_url(page, "   ") is None
    # A base never makes a script URL relative.
    for value in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,x",
        "blob:https://a.example/x",
    ):
        assert safe_url(page, value, "https://gateway.example/") is None, value


def test_plain_text_stays_text(page: Page) -> None:
    text = "<b>bold</b> &amp; <script>alert(1)</script> <img src=x onerror=alert(1)> www.shop.example http:// https:/x"
    assert linkified(page, text) == [{"text": text}]
    assert linkified(page, "") == []


def test_links_open_in_a_new_tab_with_no_handle_on_the_page(page: Page) -> None:
    [before, link, after] = linkified(page, "Track it at https://track.example/p/FZ-20931 please")
    assert before == {"text": "Track it at "} and after == {"text": " please"}
    assert link == {
        "tag": "a",
        "text": "https://track.example/p/FZ-20931",
        "href": "https://track.example/p/FZ-20931",
        "target": "_blank",
        "rel": "noopener noreferrer",
        "children": 0,
        "attributes": ["href", "rel", "target"],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("See https://track.example/p/123.", ["https://track.example/p/123"]),
        ("(see https://track.example/a)", ["https://track.example/a"]),
        ("https://a.example/x, https://b.example/y; done!", ["https://a.example/x", "https://b.example/y"]),
        ("Really? https://a.example/x?!", ["https://a.example/x"]),
        ("[manual](https://a.example/m.pdf)", ["https://a.example/m.pdf"]),
        ("<https://a.example/x>", ["https://a.example/x"]),
        ("'https://a.example/x'", ["https://a.example/x"]),
        ("请打开“https://a.example/安装”。谢谢", ["https://a.example/安装"]),
        ("视频：https://a.example/v，说明书：https://a.example/m（PDF）", ["https://a.example/v", "https://a.example/m"]),
        ("https://a.example/x}", ["https://a.example/x"]),
        ("https://a.example/型号（A）", ["https://a.example/型号"]),
        ("说明书在 https://a.example/m.pdf。", ["https://a.example/m.pdf"]),
    ],
)
def test_trailing_punctuation_and_closing_brackets_stay_outside_links(page: Page, text: str, expected: list[str]) -> None:
    assert links(linkified(page, text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://en.wikipedia.org/wiki/Hose_(tubing)", ["https://en.wikipedia.org/wiki/Hose_(tubing)"]),
        ("(https://en.wikipedia.org/wiki/Hose_(tubing)).", ["https://en.wikipedia.org/wiki/Hose_(tubing)"]),
        (
            "See https://a.example/list[1] and https://a.example/list[2]].",
            ["https://a.example/list[1]", "https://a.example/list[2]"],
        ),
    ],
)
def test_balanced_brackets_in_a_url_stay_in_the_link(page: Page, text: str, expected: list[str]) -> None:
    nodes = linkified(page, text)
    assert links(nodes) == expected
    assert all(n["href"].startswith("https://") for n in nodes if "tag" in n)
