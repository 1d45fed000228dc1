"""shared/refusals.js, how both consoles say the server's refusals, run in a real browser (Debian's
Chromium) over the served i18n files: a known code is put in words from its code and params alone (the
English `error` is never read, so rewording it in bot/core/refusals.py changes nothing the console shows),
an unknown code shows the server's English as it is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from bot.core.refusals import REFUSALS
from bot.web.console_auth import STATIC
from tests.web.browser import static_module_page

LANGUAGES = ("en", "zh-CN")


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    with static_module_page(browser, "refusals") as page:
        page.evaluate(
            """async (languages) => {
                const i18n = await import('/shared/i18n.js');
                const refusals = await import('/shared/refusals.js');
                await Promise.all([i18n.loadTexts('agent', languages), refusals.loadRefusals(languages)]);
            }""",
            list(LANGUAGES),
        )
        yield page


def said(page: Page, language: str, refusal: dict[str, Any], shown_beside_its_field: bool = False) -> dict[str, Any]:
    """What the console says for a refusal in a language, and how often it read the refusal's `error`."""
    result: dict[str, Any] = page.evaluate(
        """async ([language, refusal, field]) => {
            const { chooseLanguage } = await import('/shared/i18n.js');
            const { fieldRefusalText, refusalText } = await import('/shared/refusals.js');
            chooseLanguage(language);
            let reads = 0;
            const data = { ...refusal };
            delete data.error;
            if ('error' in refusal) Object.defineProperty(data, 'error', { get() { reads += 1; return refusal.error; } });
            const text = (field ? fieldRefusalText : refusalText)(data);
            return { text, reads };
        }""",
        [language, refusal, shown_beside_its_field],
    )
    return result


def console_text(language: str, code: str) -> str:
    texts: dict[str, str] = json.loads((STATIC / "i18n" / f"refusals.{language}.json").read_text(encoding="utf-8"))
    return texts[code]


UNKNOWN_PLACEHOLDER = {
    "code": "template_unknown_placeholder",
    "params": {"name": "password", "allowed": "{order_number}, {store_name}"},
    "field": "templates.review_thanks",
}


def test_a_known_code_is_said_from_its_code_and_params_never_from_the_english(page: Page) -> None:
    for error in (
        "unknown placeholder {password}; this message can use {order_number}, {store_name}",
        "Reworded: {password} is not a placeholder of this message",
    ):
        refusal = {**UNKNOWN_PLACEHOLDER, "error": error}
        assert said(page, "zh-CN", refusal) == {
            "text": "未知占位符 {password}；此消息可以使用 {order_number}, {store_name}",
            "reads": 0,
        }
        assert said(page, "en", refusal) == {
            "text": "unknown placeholder {password}; this message can use {order_number}, {store_name}",
            "reads": 0,
        }
        # Beside its field, as the settings' save and a template's card show it: the same words.
        assert said(page, "zh-CN", {**refusal, "error": "nothing saved: templates.review_thanks: " + error}, True) == {
            "text": "未知占位符 {password}；此消息可以使用 {order_number}, {store_name}",
            "reads": 0,
        }


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_code_is_said_in_every_language_with_its_params_filled_in(page: Page, language: str) -> None:
    for code, wording in REFUSALS.items():
        params = {name: f"«{name}»" for name in wording.params}
        shown = said(page, language, {"error": "(the server's English)", "code": code, "params": params})
        expected = console_text(language, code)
        for name, value in params.items():
            expected = expected.replace("{" + name + "}", value)
        assert shown == {"text": expected, "reads": 0}, code
        assert all(value in shown["text"] for value in params.values()), code


def test_a_params_value_is_shown_as_given_never_filled_in_again(page: Page) -> None:
    refusal = {
        "code": "template_unknown_placeholder",
        "params": {"name": "{allowed}", "allowed": "<b>{name}</b>"},
        "error": "x",
    }
    assert said(page, "zh-CN", refusal)["text"] == "未知占位符 {{allowed}}；此消息可以使用 <b>{name}</b>"


def test_an_unknown_code_shows_the_servers_english_as_it_is(page: Page) -> None:
    newer = {"error": "a refusal of a newer server", "code": "a_code_of_a_newer_server", "params": {"x": 1}}
    for language in LANGUAGES:
        assert said(page, language, newer) == {"text": "a refusal of a newer server", "reads": 1}
        assert said(page, language, {"error": "no code at all"})["text"] == "no code at all"
        assert said(page, language, {})["text"] == ""
        # Inherited names are no codes.
        assert said(page, language, {"error": "as given", "code": "toString", "params": {}})["text"] == "as given"
    # Beside its field, without what says where: the console shows it there.
    # (the server says which words those are: the console knows none of its English)
    field = {
        **newer,
        "error": "nothing saved: install_steps: a refusal of a newer server",
        "field": "install_steps",
        "context": "nothing saved: install_steps: ",
    }
    assert said(page, "zh-CN", field, True)["text"] == "a refusal of a newer server"
    reworded = {
        **field,
        "error": "not saved (install_steps): a refusal of a newer server",
        "context": "not saved (install_steps): ",
    }
    assert said(page, "zh-CN", reworded, True)["text"] == "a refusal of a newer server"


def test_a_number_that_counts_has_the_languages_thousands_separator_and_a_version_number_not(page: Page) -> None:
    too_long = {"error": "x", "code": "text_too_long", "params": {"limit": 2000}}
    assert said(page, "en", too_long)["text"] == "the text can have at most 2,000 characters"
    assert said(page, "zh-CN", too_long)["text"] == console_text("zh-CN", "text_too_long").replace("{limit}", "2,000")
    # A version is a name, not a count: "no version 1234", as the history lists it.
    no_version = {"error": "x", "code": "version_not_found", "params": {"version": 1234}}
    assert said(page, "en", no_version)["text"] == "no version 1234"
    # A number the server sent as text is shown as given.
    as_text = {"error": "x", "code": "text_too_long", "params": {"limit": "2000"}}
    assert said(page, "en", as_text)["text"] == "the text can have at most 2000 characters"
