"""The agent console's front end without a browser: its texts in both languages (static/i18n/agent.*.json)
against the page and the modules that use them, and the shape of the modules (static/agent/)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from bot.core.models import AgentRole, EscalationStatus, OrderStatus, TrackingTag
from bot.support.escalations import PRIORITY_BY_REASON, PRIORITY_RANK, REASON_TITLES
from bot.web.console_auth import STATIC

MODULES = STATIC / "agent"
LANGUAGES = ("en", "zh-CN")
# A dotted console key in quotes ('conv.claim'), or a family of them built from a code ('reason.' + code).
KEY_LITERAL = re.compile(r"'([a-z][A-Za-z]*(?:\.[A-Za-z_]+)*\.?)'")


def texts(language: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"agent.{language}.json").read_text(encoding="utf-8"))


def page() -> str:
    return (STATIC / "agent.html").read_text(encoding="utf-8")


def modules() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(MODULES.glob("*.js"))}


def keys_in_page() -> set[str]:
    return set(re.findall(r'data-i18n(?:-aria-label|-title)?="([\w.]+)"', page()))


def keys_in_modules() -> tuple[set[str], set[str]]:
    """(the keys the modules name whole, the prefixes they complete with a code)."""
    found = {key for source in modules().values() for key in KEY_LITERAL.findall(source) if "." in key}
    return {k for k in found if not k.endswith(".")}, {k for k in found if k.endswith(".")}


def codes_of_each_family() -> dict[str, set[str]]:
    """What the server sends where the console completes a key with a code."""
    attachments = re.search(r"const ATTACHMENTS = \[([^\]]*)\]", modules()["transcript.js"])
    assert attachments, "transcript.js lists the attachment kinds it names"
    return {
        "priority.": set(PRIORITY_RANK),
        "reason.": set(PRIORITY_BY_REASON),
        "escalationStatus.": {s.value for s in EscalationStatus},
        "status.": {s.value for s in OrderStatus} | {t.value for t in TrackingTag},
        "role.": {r.value for r in AgentRole},
        "attachment.": set(re.findall(r"'(\w+)'", attachments.group(1))),
    }


def test_both_languages_have_the_same_texts_with_the_same_placeholders() -> None:
    english, chinese = texts("en"), texts("zh-CN")
    assert english and set(english) == set(chinese)
    for key, text in english.items():
        assert text.strip() and chinese[key].strip(), key
        assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", chinese[key])), key
        # Every text is Chinese in Chinese, save a name that is the same in both.
        assert re.search(r"[\u4e00-\u9fff]", chinese[key]) or key == "attachment.pdf", key


def test_every_key_the_page_and_the_modules_use_has_a_text_and_every_text_is_used() -> None:
    english = texts("en")
    whole, prefixes = keys_in_modules()
    families = codes_of_each_family()
    assert prefixes == set(families), "a family of keys without its codes here, or codes of no family"
    built = {prefix + code for prefix, codes in families.items() for code in codes}
    for language in LANGUAGES:
        table = texts(language)
        assert keys_in_page() <= set(table), (language, keys_in_page() - set(table))
        assert whole <= set(table), (language, whole - set(table))
        assert built <= set(table), (language, built - set(table))
    # Nothing in the tables that no one shows: a dead text would go stale unnoticed.
    assert set(english) <= keys_in_page() | whole | built, set(english) - keys_in_page() - whole - built


def test_the_english_reasons_are_the_servers_own_titles() -> None:
    english = texts("en")
    assert {reason: english[f"reason.{reason}"] for reason in REASON_TITLES} == REASON_TITLES


class _Texts(HTMLParser):
    """The page's visible text nodes, each with the attributes of the element holding it."""

    VOID = frozenset({"meta", "link", "input", "br", "img"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, dict[str, str | None]]] = []
        self.found: list[tuple[str, dict[str, str | None], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.open.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if data.strip() and self.open and all(tag != "noscript" for tag, _ in self.open):
            tag, attrs = self.open[-1]
            self.found.append((tag, attrs, data.strip()))


def test_every_text_of_the_page_follows_the_language() -> None:
    parser = _Texts()
    parser.feed(page())
    untranslated = [
        text
        for tag, attrs, text in parser.found
        if "data-i18n" not in attrs
        and attrs.get("aria-hidden") != "true"  # arrows and the close cross
        and not ("data-lang" in attrs and attrs.get("lang") == attrs.get("data-lang"))  # a language names itself
    ]
    assert untranslated == []
    assert len(parser.found) > 40  # the parser saw the page
    # Without a script nothing can switch: that one line is in both languages.
    noscript = re.search(r"<noscript>(.*?)</noscript>", page(), re.DOTALL)
    assert noscript and "JavaScript" in noscript.group(1) and "需要启用" in noscript.group(1)
    assert 'aria-label="Language / 语言"' in page()


def test_the_console_is_es_modules_on_the_shared_ones() -> None:
    sources = modules()
    assert not (STATIC / "agent.js").exists()
    assert '<script type="module" src="/agent/static/agent/main.js"></script>' in page()
    assert "<script>" not in page() and "style=" not in page()
    for name, source in sources.items():
        assert "innerHTML" not in source and "insertAdjacentHTML" not in source and "eval(" not in source, name
        assert "document.write" not in source, name
        # The shared modules' own work is never copied here.
        assert not re.search(r"function (el|clear|safeUrl|externalLink|appendLinkified)\(", source), name
    # That every import resolves to a served file, and every module is used: tests/web/test_static.py.


def test_every_rule_of_the_console_stylesheets_is_closed() -> None:
    """An unclosed block swallows every rule after it without a word (the invitations and the
    language switch at the end of console.css once went unstyled so), and a stray brace the rule after it."""
    for name in ("console.css", "agent.css"):
        depth = 0
        for line in re.sub(r"/\*.*?\*/", "", (STATIC / name).read_text(encoding="utf-8"), flags=re.DOTALL).splitlines():
            depth += line.count("{") - line.count("}")
            assert 0 <= depth <= 2, (name, line)  # rules, and rules inside @media
        assert depth == 0, name
