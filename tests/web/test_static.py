"""The front end as files: none too long to find one's way in, and every ES module's imports
resolve to files its console serves, exporting the names imported."""

from __future__ import annotations

import json
import posixpath
import re

import pytest

from bot.core.version_summaries import ENGLISH
from bot.guides.manuals import MAX_MANUAL_BYTES
from bot.guides.product_guides import MAX_STEPS
from bot.support.credentials import MIN_PASSWORD_CHARS
from bot.support.handoff import MAX_NOTE_CHARS, MAX_REPLY_CHARS
from bot.web.console_auth import STATIC

MAX_LINES = 600
#: widget.js stays one classic script: host pages load it by tag, so it cannot import modules.
ONE_SCRIPT = {"widget.js"}
IMPORT = re.compile(r"^import \{([^}]*)\} from '([^']+)';", re.M)
EXPORT = re.compile(r"^export (?:async )?(?:function|const|let|class) ([\w$]+)", re.M)


def test_no_front_end_file_is_over_600_lines() -> None:
    lengths = {
        path.relative_to(STATIC).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in STATIC.rglob("*")
        if path.is_file() and path.suffix in (".js", ".css", ".html", ".json")
    }
    assert lengths["seller.css"] > 0 and "seller/main.js" in lengths
    assert "agent/main.js" in lengths and "agent.js" not in lengths
    too_long = {name: n for name, n in lengths.items() if n > MAX_LINES and name not in ONE_SCRIPT}
    assert too_long == {}


@pytest.mark.parametrize("console", ["seller", "agent"])
def test_every_console_module_import_resolves_to_a_served_file_and_its_exports(console: str) -> None:
    from bot.web.agent_api import AUTH as AGENT
    from bot.web.seller_console import AUTH as SELLER

    served = set({"seller": SELLER, "agent": AGENT}[console].static_files)
    page = (STATIC / f"{console}.html").read_text(encoding="utf-8")
    [entry] = re.findall(rf'<script type="module" src="/{console}/static/([^"]+)"></script>', page)
    assert entry in served and f"i18n/{console}.en.json" in served and f"i18n/{console}.zh-CN.json" in served
    modules = [name for name in served if name.endswith(".js")]
    assert {f"{console}/main.js", "shared/dom.js", "shared/safe-text.js", "shared/console-api.js", "shared/i18n.js"} <= set(
        modules
    )
    reached, todo = set(), [entry]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        script = (STATIC / name).read_text(encoding="utf-8")
        assert "require(" not in script and not re.search(r"^\(function \(\)", script, re.M), f"{name} is not a module"
        for names, target in IMPORT.findall(script):
            assert target.startswith(("./", "../")), (name, target)
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
            assert resolved in served, (name, target)
            exported = set(EXPORT.findall((STATIC / resolved).read_text(encoding="utf-8")))
            imported = {n.split(" as ")[0].strip() for n in names.split(",") if n.strip()}
            assert imported <= exported, (name, resolved, imported - exported)
            todo.append(resolved)
    # Every module the console serves is one it runs (none left behind by a split).
    assert reached == set(modules)


def test_every_seller_console_text_is_shown_somewhere() -> None:
    """A text no one shows goes stale unnoticed (the agent console's own test says the same of its texts)."""
    english = json.loads((STATIC / "i18n" / "seller.en.json").read_text(encoding="utf-8"))
    page = (STATIC / "seller.html").read_text(encoding="utf-8")
    script = "\n".join(path.read_text(encoding="utf-8") for path in sorted((STATIC / "seller").glob("*.js")))
    shared = (STATIC / "shared" / "console-api.js").read_text(encoding="utf-8")
    named = set(re.findall(r'data-i18n(?:-aria-label|-title)?="([\w.]+)"', page))
    named |= set(re.findall(r"'(\w+(?:\.\w+)+)'", script)) | set(re.findall(r"key: '([\w.]+)'", shared))
    # Keys the modules complete with a code the server sends (a field, a role, a job's kind or reason,
    # a version's summary)…
    built_from = (
        "field.",
        "guides.field.",
        "team.role.",
        "jobs.kind.",
        "jobs.reason.",
        "history.summary.",
        "guides.summary.",
    )
    # …and with the kind of a secret card, built once per kind.
    secret_cards = {f"secrets.{kind}.{part}" for kind in ("shopper", "webhook") for part in ("title", "what", "where")}
    unshown = {key for key in english if key not in named | secret_cards and not key.startswith(built_from)}
    assert unshown == set()


@pytest.mark.parametrize(
    ("keys", "codes"),
    [
        ("history.summary.", {"as_imported", "no_change", "changed", "rolled_back"}),
        ("guides.summary.", {"as_imported", "no_change", "changed", "restored", "manual_uploaded"}),
    ],
)
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_the_seller_console_words_every_version_summary_code_with_its_params(
    keys: str, codes: set[str], language: str
) -> None:
    """The history says what a version changed from the code the server saved with it (the settings'
    codes, and a guide's), with the same params as the English the seller API sends."""
    texts = json.loads((STATIC / "i18n" / f"seller.{language}.json").read_text(encoding="utf-8"))
    worded = {key[len(keys) :]: text for key, text in texts.items() if key.startswith(keys)}
    assert set(worded) == codes
    for code, text in worded.items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", ENGLISH[code])), code


def test_no_seller_console_module_takes_an_english_sentence_of_the_server_apart() -> None:
    """Summaries and refusals are worded from their codes: a pattern over the server's English would
    silently stop matching when a sentence in Python is reworded."""
    for path in sorted((STATIC / "seller").glob("*.js")):
        script = path.read_text(encoding="utf-8")
        for sentence in ENGLISH.values():
            start = sentence.split("{")[0].strip()
            assert f"/^{start}" not in script and f"'{start}'" not in script, (path.name, start)


def _console_scripts(console: str) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted((STATIC / console).glob("*.js")))


def _console_texts(console: str) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted((STATIC / "i18n").glob(f"{console}.*.json")))


@pytest.mark.parametrize(
    ("console", "written"),
    [
        # The reply and note limits (bot/support/handoff.py) come with the account (/me, /login).
        ("agent", rf"(?<![\w.]){MAX_REPLY_CHARS}(?![\w.])"),
        ("agent", rf"(?<![\w.]){MAX_NOTE_CHARS}(?![\w.])"),
        # The password minimum (bot/support/credentials.py) comes with the invitation.
        ("agent", rf"length\s*[<>]=?\s*{MIN_PASSWORD_CHARS}\b"),
        ("seller", rf"length\s*[<>]=?\s*{MIN_PASSWORD_CHARS}\b"),
        # A guide's limits (bot/guides) come with the products.
        ("seller", rf"(?<![\w.]){MAX_STEPS}(?![\w.])"),
        ("seller", rf"(?<![\w.]){MAX_MANUAL_BYTES // (1024 * 1024)} \* 1024 \* 1024"),
    ],
)
def test_no_console_module_repeats_a_limit_the_server_sends(console: str, written: str) -> None:
    """A limit written in Python and again in JS drifts apart unnoticed: the console reads it from the server."""
    assert not re.search(written, _console_scripts(console)), written


@pytest.mark.parametrize("console", ["agent", "seller"])
def test_no_console_text_writes_a_limit_the_server_sends(console: str) -> None:
    texts = _console_texts(console)
    for number in (MIN_PASSWORD_CHARS, MAX_REPLY_CHARS, MAX_NOTE_CHARS, MAX_STEPS, MAX_MANUAL_BYTES // (1024 * 1024)):
        assert not re.search(rf"(?<![\w.{{]){number}(?![\w.}}])", texts), (console, number)
