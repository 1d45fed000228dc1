"""The new words of a shopper's emailed reply, without the quoted mail below them.

Mail clients quote the message they answer in many ways: Gmail's "On <date>, <name> wrote:",
Apple Mail's quoted "> On <date>, at <time>, <name> wrote:", Outlook's "-----Original Message-----"
or "From: / Sent: / To: / Subject:" block, each in the shopper's language ("Am ... schrieb",
"Le ... a écrit", "发件人: / 发送时间:"). Recognising them is a library's job
(mail-parser-reply, which knows the headers in many languages), not hand-written patterns.

A reply with only an HTML part is read as text first: the quoted part of an HTML mail is its
``<blockquote>`` (Apple Mail, Thunderbird) or Gmail's ``gmail_quote`` block, left out while
reading, and the rest goes through the same library.
"""

from __future__ import annotations

from html.parser import HTMLParser

from mailparser_reply import EmailReplyParser  # type: ignore[import-untyped]  # the library ships no type hints

#: The languages whose reply headers are recognised (mail-parser-reply's codes): the stores'
#: shoppers write in English and Chinese, and the European ones are common in cross-border orders.
LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "zh", "ja", "ko", "pl", "sv", "da", "cs"]
#: Elements whose text is no text at all.
_INVISIBLE = frozenset({"script", "style", "head", "title", "template"})
#: Elements that end a line when shown.
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "ul", "ol", "hr", "section"}
)
#: Elements that never have an end tag (they must not open a skipped region).
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "wbr"})


def _is_quote(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    if tag == "blockquote":
        return True
    classes = " ".join(value or "" for name, value in attrs if name == "class").split()
    # Gmail wraps the quoted mail in <div class="gmail_quote">; Outlook's web app in #divRplyFwdMsg / #appendonsend.
    ids = {value for name, value in attrs if name == "id"}
    return "gmail_quote" in classes or bool(ids & {"divRplyFwdMsg", "appendonsend"})


class _VisibleText(HTMLParser):
    """The text a mail client shows for an HTML part, without the quoted mail."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        # Open elements that hide what they hold (quoted mail, scripts), counted per depth.
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS and not self._skipping:
            self.parts.append("\n")
        if tag in _VOID:
            return
        if self._skipping or tag in _INVISIBLE or _is_quote(tag, attrs):
            self._skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and tag in self._skipping:
            # Close up to the matching element (tolerates unclosed children, as browsers do).
            while self._skipping and self._skipping.pop() != tag:
                pass
            return
        if tag in _BLOCKS and not self._skipping:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The shown text of an HTML part, its quoted mail left out."""
    reader = _VisibleText()
    reader.feed(html)
    reader.close()
    lines = [" ".join(line.split()) for line in "".join(reader.parts).splitlines()]
    return "\n".join(lines).strip()


def new_text(text: str | None, html: str | None = None) -> str:
    """What the shopper wrote in this reply: the text part (or the HTML part read as text)
    without the quoted history and the signature the library recognises; "" when nothing is left."""
    source = text if text and text.strip() else html_to_text(html) if html else ""
    if not source.strip():
        return ""
    # Mail arrives with CRLF line ends; the library reads lines.
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    replies = EmailReplyParser(languages=LANGUAGES).read(text=source).replies
    if not replies or replies[0].headers:
        return ""  # the mail starts with a quote's header ("On ... wrote:"): nothing new above it
    # The body without the quoted replies, the signature ("-- ", "Sent from my iPhone") and disclaimers.
    return str(replies[0].body).strip()
