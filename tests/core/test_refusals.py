"""The registry of refusal codes: every code's English renders with exactly its params, the
OpenAPI document lists exactly its codes, and every code the code base names is in it."""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import pytest
import yaml

from bot.core.refusals import COUNTS, REFUSALS, FieldRefusal, Refusal, english
from bot.web.public_files import OPENAPI

BOT = Path(__file__).resolve().parents[2] / "bot"
CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def _sample(name: str) -> str | int:
    # An int for the names the templates format as numbers ({limit:,}); text for the rest.
    return 1234 if name in COUNTS | {"version"} else f"<{name}>"


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_every_template_writes_numbers_and_quotes_one_way(code: str) -> None:
    """A count always with its thousands separator ({limit:,}: "5,000", as the consoles show it),
    nothing else with a format spec; no {value!r}, whose quotes depend on the value (Python writes
    "it's" in double quotes), so the console's '{value}' would not say what the API says."""
    for _, name, spec, conversion in string.Formatter().parse(REFUSALS[code].english):
        if name is None:
            continue
        assert conversion is None, f"{code}: write the quotes into the template, not {{{name}!{conversion}}}"
        assert spec == ("," if name in COUNTS else ""), f"{code}: {{{name}:{spec}}}"


def test_a_quoted_value_is_quoted_the_same_whatever_it_holds() -> None:
    assert english("email_invalid", {"email": "o'neil"}) == "'o'neil' is not an email address"
    assert english("push_too_many_lines", {"limit": 5000}) == "at most 5,000 lines per request"


def test_codes_are_snake_case_and_the_english_is_one_line() -> None:
    for code, wording in REFUSALS.items():
        assert CODE.fullmatch(code), code
        assert wording.english and "\n" not in wording.english, code


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_the_english_renders_with_exactly_its_params(code: str) -> None:
    wording = REFUSALS[code]
    assert wording.template_fields() == set(wording.params), f"{code}: the template and its declared params differ"
    assert len(set(wording.params)) == len(wording.params), code
    params = {name: _sample(name) for name in wording.params}
    text = english(code, params)
    for name, value in params.items():
        assert str(value) in text or f"{value:,}" in text, (code, name, text)
    with pytest.raises(TypeError):
        english(code, {**params, "unexpected": 1})
    if params:
        with pytest.raises(TypeError):
            english(code, dict(list(params.items())[1:]))


def test_a_refusal_carries_its_code_params_and_english() -> None:
    refused = Refusal("template_unknown_placeholder", name="password", allowed="{order_number}")
    assert (refused.code, refused.params) == (
        "template_unknown_placeholder",
        {"name": "password", "allowed": "{order_number}"},
    )
    assert str(refused) == "unknown placeholder {password}; this message can use {order_number}"
    with pytest.raises(TypeError):
        Refusal("template_unknown_placeholder", name="password")
    with pytest.raises(KeyError):
        Refusal("no_such_code")


def test_a_field_refusal_names_its_field_first_as_the_command_line_shows_it() -> None:
    inner = Refusal("template_too_long", limit=2000)
    at = FieldRefusal.at("templates.greeting", inner)
    assert (at.field, at.code, at.params) == ("templates.greeting", "template_too_long", {"limit": 2000})
    assert str(at) == "templates.greeting: a template can have at most 2,000 characters"


def test_the_openapi_error_schema_lists_exactly_the_registrys_codes() -> None:
    spec = yaml.safe_load(OPENAPI.read_text())
    error = spec["components"]["schemas"]["Error"]
    assert {"error", "code", "params"} <= set(error["required"])
    enum = error["properties"]["code"]["enum"]
    missing, extra = sorted(set(REFUSALS) - set(enum)), sorted(set(enum) - set(REFUSALS))
    assert not missing and not extra, f"add to openapi.yaml's Error.code enum: {missing}; remove: {extra}"
    assert enum == sorted(enum), "keep the enum sorted, as bot/core/refusals.py's codes sorted"
    assert error["properties"]["params"]["type"] == "object"


def _string_constants(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_every_code_is_used() -> None:
    """A code in the registry that nothing gives is a translation nobody will see."""
    used: set[str] = set()
    for path in BOT.rglob("*.py"):
        if path.name != "refusals.py":
            used |= _string_constants(path)
    unused = sorted(code for code in REFUSALS if code not in used)
    assert not unused, f"codes nothing gives: {unused}"


def test_every_refusal_given_has_a_registered_code_and_exactly_its_params() -> None:
    """Checked in the source, for every literal code: an unknown code (KeyError) or other params
    (TypeError) would fail only when that refusal is given, as an error 500."""
    checked = 0
    for path in BOT.rglob("*.py"):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(call, ast.Call):
                continue
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            position = CODE_ARGUMENT.get(name)
            if position is None or len(call.args) <= position:
                continue
            code = call.args[position]
            if not (isinstance(code, ast.Constant) and isinstance(code.value, str)):
                continue  # a code passed on (a refusal's own .code): checked where it was made
            where = f"{path.relative_to(BOT.parent)}:{call.lineno}"
            assert code.value in REFUSALS, f"{where}: {code.value!r} is not a registered code"
            given = _params_given(name, call, position)
            if given is not None:
                assert given == set(REFUSALS[code.value].params), f"{where}: {code.value} with params {sorted(given)}"
            checked += 1
    assert checked > 120  # the walk sees the code base's refusals


#: Calls whose argument at this position is a refusal code.
CODE_ARGUMENT = {
    "json_error": 1,
    "refusal_body": 0,
    "RefusedRequest": 1,
    "english": 0,
    "Refusal": 0,
    "BadInput": 1,
    "SettingsError": 1,
    "GuideError": 1,
    "FieldRefusal": 1,
    "BadSignature": 1,
    "TemplateError": 0,
    "BadBusinessHours": 0,
    "BadLink": 0,
    "BadManual": 0,
    "AccountError": 0,
    "Conflict": 0,
    "BadText": 0,
    "BadQueueRequest": 0,
    "BadUpdate": 0,
    "BadMessage": 0,
    "BadShopData": 0,
    "DeliveryRefused": 1,
    "IntegrationRefused": 0,
    "PhotoRefused": 0,
}
#: The functions that take params as a dict after the code.
PARAMS_AS_DICT = {"json_error", "refusal_body", "RefusedRequest", "english"}
#: Keyword arguments of these calls that are not params.
NOT_PARAMS = {"BadMessage": {"status"}, "BadManual": {"status"}}


def _params_given(name: str, call: ast.Call, position: int) -> set[str] | None:
    """The names of the params a call gives, or None where the source does not tell (a variable, ``**``)."""
    if name in PARAMS_AS_DICT:
        params = call.args[position + 1] if len(call.args) > position + 1 else None
        if params is None:
            return set()
        if isinstance(params, ast.Dict) and all(isinstance(k, ast.Constant) for k in params.keys):
            return {k.value for k in params.keys}  # type: ignore[union-attr]
        return None
    if any(keyword.arg is None for keyword in call.keywords):
        return None
    return {str(keyword.arg) for keyword in call.keywords} - NOT_PARAMS.get(name, set())


#: The consoles' texts of the refusals, one file per language (static/i18n/refusals.<language>.json).
CONSOLE_LANGUAGES = ("en", "zh-CN")
CONSOLE_TEXTS = BOT / "web" / "static" / "i18n"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _console_texts(language: str) -> dict[str, str]:
    texts: dict[str, str] = json.loads((CONSOLE_TEXTS / f"refusals.{language}.json").read_text(encoding="utf-8"))
    return texts


def _as_the_console_writes_it(english: str) -> str:
    """A registry template as the consoles write texts: ``{name}`` for a param (no format spec: the
    console formats a count itself) and a doubled brace as the brace itself."""
    parts = []
    for literal, name, _, conversion in string.Formatter().parse(english):
        parts.append(literal)
        if name is not None:
            assert conversion is None, english  # quotes are written in the template, as here
            parts.append(f"{{{name}}}")
    return "".join(parts)


def test_the_consoles_english_is_the_registrys() -> None:
    """refusals.en.json says what the API says: reword a template in bot/core/refusals.py, then here
    (the other languages follow the code, not the English)."""
    texts = _console_texts("en")
    assert list(texts) == list(REFUSALS), "the registry's codes, in its order"
    differ = {
        code: _as_the_console_writes_it(wording.english)
        for code, wording in REFUSALS.items()
        if texts[code] != _as_the_console_writes_it(wording.english)
    }
    assert not differ, f"write these in refusals.en.json: {json.dumps(differ, ensure_ascii=False, indent=2)}"


@pytest.mark.parametrize("language", CONSOLE_LANGUAGES)
def test_every_code_has_a_console_text_with_exactly_its_params(language: str) -> None:
    """``{name}`` is filled in for the code's params only; other braces are the text's own
    (``{order_number}`` as an example), and are the same in every language."""
    texts, english = _console_texts(language), _console_texts("en")
    assert list(texts) == list(REFUSALS), "every code, in the registry's order: a translator reads them side by side"
    for code, text in texts.items():
        assert text.strip() and "\n" not in text, code
        if language == "zh-CN":
            assert re.search(r"[\u4e00-\u9fff]", text), f"{code} is not in Chinese"
        named = PLACEHOLDER.findall(text)
        params = [name for name in named if name in REFUSALS[code].params]
        assert sorted(set(params)) == sorted(REFUSALS[code].params), (
            f"{code}: {text!r} and its params {REFUSALS[code].params}"
        )
        assert len(params) == len(set(params)), f"{code}: a param shown twice"
        assert set(named) == set(PLACEHOLDER.findall(english[code])), f"{code}: other {{names}} than the English's"


def test_the_consoles_serve_the_refusal_texts_of_every_language() -> None:
    from bot.web.agent_api import AUTH as AGENT
    from bot.web.seller_console import AUTH as SELLER

    for console in (SELLER, AGENT):
        assert {f"i18n/refusals.{language}.json" for language in CONSOLE_LANGUAGES} <= set(console.static_files)
        assert "shared/refusals.js" in console.static_files
