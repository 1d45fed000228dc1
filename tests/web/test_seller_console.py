"""The seller console's API through aiohttp's test client, on SQLite and
PostgreSQL: sign-in with CSRF, cookie flags, seller-admin stores only, saving
with versions, a template injection attempt, the preview, history and rollback."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import utc_now
from bot.core.models import StoreSettingsVersion
from bot.seller.store_settings import StoreSettingsService
from bot.support.accounts import AgentAccounts
from bot.support.escalations import EscalationService
from bot.web.app import create_app
from tests.conftest import demo_objects
from tests.engine import engine_settings

Sessions = async_sessionmaker[AsyncSession]
STORE, OTHER = "yangteng-auto", "bloomkids-baby"
API = "/seller/api/stores"


@pytest.fixture
async def server(demo_sessions: Sessions, tmp_path: Path) -> AsyncIterator[TestServer]:
    server = TestServer(create_app(engine_settings(tmp_path), demo_sessions))
    await server.start_server()
    yield server
    await server.close()


class Browser:
    """One browser: its own cookie jar."""

    def __init__(self, server: TestServer) -> None:
        self.client = aiohttp.ClientSession(base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.close()

    async def login_csrf(self) -> str:
        page = await self.client.get("/seller")
        assert page.status == 200
        match = re.search(r'<meta name="login-csrf" content="([^"]+)"', await page.text())
        assert match
        return match.group(1)

    async def login(self, email: str, password: str, csrf: str | None = None) -> aiohttp.ClientResponse:
        token = csrf if csrf is not None else await self.login_csrf()
        response = await self.client.post(
            "/seller/api/login", json={"email": email, "password": password}, headers={"X-CSRF-Token": token}
        )
        if response.status == 200:
            self.csrf = (await response.json())["csrf_token"]
        return response

    async def send(self, method: str, path: str, body: Any = None, **headers: str) -> aiohttp.ClientResponse:
        return await self.client.request(
            method, path, json=body if body is not None else {}, headers={"X-CSRF-Token": self.csrf, **headers}
        )

    async def get(self, path: str) -> aiohttp.ClientResponse:
        return await self.client.get(path)


async def account(
    sessions: Sessions, stores: list[str], role: str = "seller_admin", name: str = "Wang Fang"
) -> tuple[str, str]:
    email, password = f"{name.split()[0].lower()}.{secrets.token_hex(3)}@example.com", secrets.token_urlsafe(12)
    await AgentAccounts(sessions).add(email, name, password, stores, role=role)
    return email, password


async def signed_in(
    server: TestServer, sessions: Sessions, stores: list[str] | None = None, role: str = "seller_admin"
) -> Browser:
    browser = Browser(server)
    response = await browser.login(*await account(sessions, stores or [STORE], role))
    assert response.status == 200, await response.text()
    return browser


async def versions(sessions: Sessions, store: str = STORE) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(StoreSettingsVersion).where(StoreSettingsVersion.store_id == store)
            )
            or 0
        )


# --- signing in ---


async def test_the_page_is_locked_down_and_login_needs_its_csrf_token(server: TestServer, demo_sessions: Sessions) -> None:
    email, password = await account(demo_sessions, [STORE])
    async with Browser(server) as browser:
        page = await browser.get("/seller")
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert page.headers["Cache-Control"] == "no-store"
        login_cookie = page.cookies["seller_login_csrf"]
        assert login_cookie["httponly"] and login_cookie["path"] == "/seller" and login_cookie["samesite"] == "Strict"
        # The page's script is an ES module, with its modules and texts, each with its own content type.
        assert '<script type="module" src="/seller/static/seller/main.js">' in await page.text()
        for name, content_type in (
            ("seller.css", "text/css"),
            ("console.css", "text/css"),
            ("seller/main.js", "application/javascript"),
            ("shared/safe-text.js", "application/javascript"),
            ("shared/i18n.js", "application/javascript"),
            ("i18n/seller.en.json", "application/json"),
            ("i18n/seller.zh-CN.json", "application/json"),
        ):
            response = await browser.get(f"/seller/static/{name}")
            assert response.status == 200, name
            assert response.content_type == content_type and response.headers["Cache-Control"] == "no-cache", name
        # Nothing else: not the other console's files, nor the page's template, nor a path out of the folder.
        for name in (
            "agent.js",
            "seller.js",
            "seller.html",
            "i18n/agent.en.json",
            "seller/",
            "shared/nothing.js",
            "..%2Fconsole_auth.py",
            "seller%2F..%2F..%2Fconsole_auth.py",
            "shared/..%2F..%2Fapp.py",
            "seller/..%2Fseller.html",
            "%2Fetc%2Fpasswd",
        ):
            assert (await browser.get(f"/seller/static/{name}")).status == 404, name

        assert (await browser.login(email, password, csrf="")).status == 403
        assert (await browser.login(email, password, csrf="forged")).status == 403
        assert (await browser.get("/seller/api/me")).status == 401
        assert (await browser.login(email, "wrong password!")).status == 401

        response = await browser.login(email, password)
        assert response.status == 200
        cookie = response.cookies["seller_session"]
        assert cookie["httponly"] and cookie["path"] == "/seller" and cookie["samesite"] == "Strict"
        assert not cookie["secure"]  # plain http here; under HTTPS it is Secure (below)
        me = await (await browser.get("/seller/api/me")).json()
        assert [s["id"] for s in me["agent"]["stores"]] == [STORE]
        assert (await browser.get("/seller/api/me")).headers["Cache-Control"] == "no-store"

        assert (await browser.send("POST", "/seller/api/logout")).status == 204
        assert (await browser.get("/seller/api/me")).status == 401


async def test_the_cookie_is_secure_behind_https(server: TestServer, demo_sessions: Sessions) -> None:
    email, password = await account(demo_sessions, [STORE])
    async with Browser(server) as browser:
        page = await browser.client.get("/seller", headers={"X-Forwarded-Proto": "https"})
        assert page.cookies["seller_login_csrf"]["secure"]
        token = re.search(r'name="login-csrf" content="([^"]+)"', await page.text())[1]  # type: ignore[index]
        response = await browser.client.post(
            "/seller/api/login",
            json={"email": email, "password": password},
            # The jar keeps a Secure cookie off plain http: send it as a browser behind TLS would.
            headers={"X-CSRF-Token": token, "X-Forwarded-Proto": "https", "Cookie": f"seller_login_csrf={token}"},
        )
        assert response.status == 200 and response.cookies["seller_session"]["secure"]


async def test_a_seller_console_session_is_not_an_agent_online(server: TestServer, demo_sessions: Sessions) -> None:
    browser = await signed_in(server, demo_sessions)
    async with browser:
        availability = await EscalationService(demo_sessions).availability(STORE)
        assert availability is not None and availability.agents_online == 0


# --- who sees what ---


async def test_a_plain_agent_administers_no_store(server: TestServer, demo_sessions: Sessions) -> None:
    async with await signed_in(server, demo_sessions, role="agent") as browser:
        me = await (await browser.get("/seller/api/me")).json()
        assert me["agent"]["stores"] == []
        assert (await browser.get(f"{API}/{STORE}/settings")).status == 404
        response = await browser.send("PUT", f"{API}/{STORE}/settings", {"review": {"delay_days": 9}})
        assert response.status == 404
        assert (await browser.send("POST", f"{API}/{STORE}/preview", {"template": "greeting", "text": "hi"})).status == 404
    assert await versions(demo_sessions) == 0


async def test_only_the_stores_the_account_administers_are_visible(server: TestServer, demo_sessions: Sessions) -> None:
    email, password = await account(demo_sessions, [STORE, "summit-outdoor"])
    await AgentAccounts(demo_sessions).add(email, "Wang Fang", password, [OTHER], role="agent")  # agent only there
    async with Browser(server) as browser:
        assert (await browser.login(email, password)).status == 200
        me = await (await browser.get("/seller/api/me")).json()
        assert sorted(s["id"] for s in me["agent"]["stores"]) == sorted([STORE, "summit-outdoor"])
        assert all(s["role"] == "seller_admin" for s in me["agent"]["stores"])
        assert (await browser.get(f"{API}/summit-outdoor/settings")).status == 200
        assert (await browser.get(f"{API}/{OTHER}/settings")).status == 404


async def test_every_demo_store_has_a_seller_admin_who_sees_that_store_only(
    server: TestServer, demo_sessions: Sessions
) -> None:
    """`make run` shows the console for each demo seller: one admin per demo store, no more."""
    lines = demo_objects()
    stores = {line["id"] for line in lines if line["type"] == "store"}
    admins = [line for line in lines if line["type"] == "agent" and line.get("role") == "seller_admin"]
    assert sorted(store for admin in admins for store in admin["stores"]) == sorted(stores)
    for admin in admins:
        password = secrets.token_urlsafe(12)
        assert await AgentAccounts(demo_sessions).set_password(admin["email"], password)
        async with Browser(server) as browser:
            assert (await browser.login(admin["email"], password)).status == 200
            me = await (await browser.get("/seller/api/me")).json()
            assert [s["id"] for s in me["agent"]["stores"]] == admin["stores"]
            for other in stores - set(admin["stores"]):
                assert (await browser.get(f"{API}/{other}/settings")).status == 404


async def test_another_stores_settings_do_not_exist(server: TestServer, demo_sessions: Sessions) -> None:
    async with await signed_in(server, demo_sessions) as browser:
        for path in (f"{API}/{OTHER}/settings", f"{API}/{OTHER}/settings/history", f"{API}/no-such-store/settings"):
            response = await browser.get(path)
            assert response.status == 404, path
            assert "stores you administer" in (await response.json())["error"]
        for method, path, body in (
            ("PUT", f"{API}/{OTHER}/settings", {"review": {"delay_days": 9}}),
            ("POST", f"{API}/{OTHER}/settings/rollback", {"version": 0}),
            ("POST", f"{API}/{OTHER}/preview", {"template": "greeting", "text": "hi"}),
        ):
            assert (await browser.send(method, path, body)).status == 404, path
    assert await versions(demo_sessions, OTHER) == 0


# --- saving, versions, rollback ---


async def test_saving_makes_a_new_version_with_who_changed_it(server: TestServer, demo_sessions: Sessions) -> None:
    async with await signed_in(server, demo_sessions) as browser:
        first = await (await browser.get(f"{API}/{STORE}/settings")).json()
        assert first["version"] == 0 and first["store"]["name"] == "Yangteng Auto Parts"
        assert "order_number" in first["placeholders"]["delivery_confirmation"]
        assert "order number" in first["placeholder_descriptions"]["order_number"]
        assert "shopper_request" in first["reasons"]

        response = await browser.send(
            "PUT",
            f"{API}/{STORE}/settings",
            {
                "templates": {"review_thanks": "谢谢 {shopper_first_name}，您的评价已保存！"},
                "review": {"delay_days": 12, "reminder": True},
            },
        )
        assert response.status == 200, await response.text()
        saved = await response.json()
        assert saved["version"] == 1
        assert re.fullmatch(r"Wang Fang <wang\.[0-9a-f]+@example\.com>", saved["changed_by"])
        assert "templates.review_thanks" in saved["summary"] and "review.delay_days" in saved["summary"]

    current = await StoreSettingsService(demo_sessions).current(STORE)
    assert current.template("review_thanks").startswith("谢谢")
    assert current.settings["review"] == {**first["settings"]["review"], "delay_days": 12, "reminder": True}


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"templates": {"review_thanks": "Thanks {order_number.__class__}"}}, "templates.review_thanks"),
        ({"templates": {"greeting": "Hi {shopper_first_name!r:>{width}}"}}, "templates.greeting"),
        ({"templates": {"greeting": "Hi {order_number}"}}, "templates.greeting"),
        ({"templates": {"greeting": "Hi {"}}, "templates.greeting"),
        ({"review": {"delay_days": 40}}, "review.delay_days"),
        ({"escalation": {"business_hours": {"mon": ["18:00-09:00"]}}}, "escalation.business_hours"),
        ({"escalation": {"reasons": ["damaged"]}}, "escalation.reasons"),
    ],
)
async def test_a_bad_change_saves_nothing(
    server: TestServer, demo_sessions: Sessions, patch: dict[str, Any], field: str
) -> None:
    async with await signed_in(server, demo_sessions) as browser:
        # A good template next to a bad one: all or nothing.
        body = {**patch, "templates": {"install_video": "Ready, {shopper_first_name}?", **patch.get("templates", {})}}
        response = await browser.send("PUT", f"{API}/{STORE}/settings", body)
        assert response.status == 400
        error = await response.json()
        assert error["field"] == field and error["error"].startswith("nothing saved")
    assert await versions(demo_sessions) == 0
    assert "Ready," not in (await StoreSettingsService(demo_sessions).current(STORE)).template("install_video")


async def test_history_and_rollback(server: TestServer, demo_sessions: Sessions) -> None:
    async with await signed_in(server, demo_sessions) as browser:
        for text in ("Thanks one!", "Thanks two!"):
            assert (
                await browser.send("PUT", f"{API}/{STORE}/settings", {"templates": {"review_thanks": text}})
            ).status == 200
        history = await (await browser.get(f"{API}/{STORE}/settings/history")).json()
        assert history["current"] == 2
        assert [v["version"] for v in history["versions"]] == [2, 1, 0]
        assert history["versions"][-1]["summary"] == "as imported" and history["versions"][0]["changed_by"].startswith(
            "Wang Fang"
        )
        assert all(v["created_at"].endswith("Z") for v in history["versions"])
        # What the console words in its reader's language: the codes, not the English.
        assert [(v["summary_code"], v["summary_params"]) for v in history["versions"]] == [
            ("changed", {"fields": ["templates.review_thanks"]}),
            ("changed", {"fields": ["templates.review_thanks"]}),
            ("as_imported", {}),
        ]

        response = await browser.send("POST", f"{API}/{STORE}/settings/rollback", {"version": 1})
        assert response.status == 200
        rolled = await response.json()
        assert rolled["version"] == 3 and rolled["summary"] == "rolled back to version 1"
        assert (rolled["summary_code"], rolled["summary_params"]) == ("rolled_back", {"version": 1})
        assert rolled["settings"]["templates"]["review_thanks"] == "Thanks one!"

        assert (await browser.send("POST", f"{API}/{STORE}/settings/rollback", {"version": 99})).status == 404
        assert (await browser.send("POST", f"{API}/{STORE}/settings/rollback", {"version": "1"})).status == 400
        back = await (await browser.send("POST", f"{API}/{STORE}/settings/rollback", {"version": 0})).json()
        assert back["settings"]["templates"]["review_thanks"] == "Thank you for your review, it's saved."


# --- preview ---


async def test_the_preview_renders_a_sample_order_of_the_store(server: TestServer, demo_sessions: Sessions) -> None:
    async with await signed_in(server, demo_sessions) as browser:
        response = await browser.send(
            "POST",
            f"{API}/{STORE}/preview",
            {
                "template": "delivery_confirmation",
                "text": "Hi {shopper_first_name}! {order_number} ({item_names}) from {store_name}, via {carrier}. {{ok}}",
            },
        )
        assert response.status == 200, await response.text()
        rendered = (await response.json())["rendered"]
        assert "Yangteng Auto Parts" in rendered and "{ok}" in rendered
        assert re.search(r"Hi \w+! FZ-\d+ \(\d+ × .+\) from Yangteng Auto Parts, via \w+", rendered), rendered

        for key in ("greeting", "review_invitation", "out_of_hours", "handoff_waiting"):
            from bot.seller.templates import TEMPLATES

            every = " ".join(f"[{{{name}}}]" for name in sorted(TEMPLATES[key][0]))
            body = await (await browser.send("POST", f"{API}/{STORE}/preview", {"template": key, "text": every})).json()
            assert "[]" not in body["rendered"], (key, body)  # every placeholder has a sample value

        for text, message in (
            ("Hi {order_number.__class__}", "not a placeholder"),
            ("Hi {tracking_url}", "unknown placeholder"),
            ("Hi }", "unmatched"),
            ("  ", "empty"),
        ):
            response = await browser.send("POST", f"{API}/{STORE}/preview", {"template": "review_thanks", "text": text})
            assert response.status == 400
            error = await response.json()
            assert message in error["error"] and error["field"] == "templates.review_thanks"
        body = await (
            await browser.send("POST", f"{API}/{STORE}/preview", {"template": "out_of_hours", "text": "back {back_in}"})
        ).json()
        assert re.fullmatch(r"back in about \d+ \w+ \(\w+day 09:00, Asia/Shanghai time\)", body["rendered"]), body

        response = await browser.send("POST", f"{API}/{STORE}/preview", {"template": "nope", "text": "hi"})
        assert response.status == 400 and (await response.json())["field"] == "template"
    assert await versions(demo_sessions) == 0


# --- CSRF and Origin ---


async def test_every_change_needs_the_csrf_token_and_our_origin(server: TestServer, demo_sessions: Sessions) -> None:
    async with await signed_in(server, demo_sessions) as browser:
        changes = (
            ("PUT", f"{API}/{STORE}/settings", {"review": {"delay_days": 9}}),
            ("POST", f"{API}/{STORE}/settings/rollback", {"version": 0}),
            ("POST", f"{API}/{STORE}/preview", {"template": "greeting", "text": "hi"}),
            ("POST", "/seller/api/logout", {}),
        )
        for method, path, body in changes:
            for headers in ({"X-CSRF-Token": ""}, {"X-CSRF-Token": "forged"}):
                response = await browser.client.request(method, path, json=body, headers=headers)
                assert response.status == 403, (method, path, headers)
                assert "CSRF" in (await response.json())["error"]
            response = await browser.send(method, path, body, Origin="https://evil.example")
            assert response.status == 403 and "cross-origin" in (await response.json())["error"]
        assert await versions(demo_sessions) == 0
        assert (await browser.get("/seller/api/me")).status == 200  # still signed in


# --- both languages ---


def test_every_console_text_is_in_english_and_chinese() -> None:
    from bot.seller.templates import PLACEHOLDERS, TEMPLATES
    from bot.support.escalations import PRIORITY_BY_REASON
    from bot.web.console_auth import STATIC

    english = json.loads((STATIC / "i18n" / "seller.en.json").read_text(encoding="utf-8"))
    chinese = json.loads((STATIC / "i18n" / "seller.zh-CN.json").read_text(encoding="utf-8"))
    assert english and list(english) == list(chinese)  # in the same order: a translator reads them side by side
    assert all(isinstance(text, str) and text.strip() for text in (*english.values(), *chinese.values()))
    # A text's placeholders are the same in both languages.
    for key, text in english.items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", chinese[key])), key

    page = (STATIC / "seller.html").read_text(encoding="utf-8")
    script = "\n".join(path.read_text(encoding="utf-8") for path in sorted((STATIC / "seller").glob("*.js")))
    assert set(re.findall(r'data-i18n(?:-aria-label|-title)?="([\w.]+)"', page)) <= set(english)
    # Every key-shaped literal in the modules (t('…'), data-i18n: '…', notices, status keys) is a text.
    namespaces = {key.split(".")[0] for key in english}
    literals = set(re.findall(r"'(\w+(?:\.\w+)+)'", script))
    used = {literal for literal in literals if literal.split(".")[0] in namespaces}
    # The failures every request can meet (a lapsed session, no network…) are named by the shared API client.
    used |= set(re.findall(r"key: '([\w.]+)'", (STATIC / "shared" / "console-api.js").read_text(encoding="utf-8")))
    assert used - set(english) == set()
    assert {"save.saved", "guides.restored", "team.removeConfirm", "common.copied", "test.restart", "error.session"} <= used
    # Keys built from data: each has a text for every value the console knows, or falls back to the value itself
    # ('templates.' is the prefix of a template's field in a refusal, named by names.js).
    prefixes = set(re.findall(r"'(\w+(?:\.\w+)*\.)'", script))
    # ('history.summary.' and 'guides.summary.' take a version's summary code: tests/web/test_static.py checks them.)
    assert prefixes == {
        "secrets.",
        "team.role.",
        "field.",
        "guides.field.",
        "jobs.kind.",
        "jobs.reason.",
        "templates.",
        "history.summary.",
        "guides.summary.",
    }, prefixes
    assert {f"secrets.{kind}.{part}" for kind in ("shopper", "webhook") for part in ("title", "what", "where")} <= set(
        english
    )
    assert {"team.role.agent", "team.role.seller_admin"} <= set(english)
    for name in (*TEMPLATES, *PRIORITY_BY_REASON, *PLACEHOLDERS):
        assert re.search(rf"^\s+{name}: ", script, re.M), f"{name} has no name in both languages"
    shared = "\n".join(path.read_text(encoding="utf-8") for path in sorted((STATIC / "shared").glob("*.js")))
    for code in (script, shared):
        assert "innerHTML" not in code and "insertAdjacentHTML" not in code and "eval(" not in code
    assert "style=" not in page and "<script>" not in page


# --- product guides, secrets, team: the seller API's handlers, for the console's account ---


async def test_a_guide_change_in_the_console_records_who_made_it(server: TestServer, demo_sessions: Sessions) -> None:
    async with await signed_in(server, demo_sessions) as browser:
        products = await (await browser.get(f"{API}/{STORE}/products")).json()
        assert "OP-1001" in {p["sku"] for p in products["products"]}
        saved = await browser.send(
            "PUT", f"{API}/{STORE}/products/OP-1001/guide", {"video_url": "https://videos.example/v2"}
        )
        assert saved.status == 200 and (await saved.json())["video_url"] == "https://videos.example/v2"
        history = await (await browser.get(f"{API}/{STORE}/products/OP-1001/guide/history")).json()
        assert history["versions"][0]["changed_by"].startswith("Wang Fang <wang.")
        bad = await browser.send("PUT", f"{API}/{STORE}/products/OP-1001/guide", {"video_url": "ftp://x"})
        assert bad.status == 400 and (await bad.json())["field"] == "video_url"
        # Without the CSRF token nothing changes.
        forged = await browser.client.put(
            f"{API}/{STORE}/products/OP-1001/guide", json={"video_url": "https://evil.example/"}
        )
        assert forged.status == 403
        upload = await browser.client.post(
            f"{API}/{STORE}/products/OP-1001/manual",
            data=b"GIF89a not a pdf",
            headers={"X-CSRF-Token": browser.csrf, "Content-Type": "application/pdf"},
        )
        assert upload.status == 415 and "not a PDF" in (await upload.json())["error"]


async def test_a_store_the_account_does_not_administer_has_no_guides_secrets_or_team(
    server: TestServer, demo_sessions: Sessions
) -> None:
    from bot.web.seller_api import STORE_ROUTES

    # An agent (not a seller admin) of BloomKids, and seller admin of Yangteng only.
    email, password = await account(demo_sessions, [STORE])
    await AgentAccounts(demo_sessions).add(email, "Wang Fang", password, [OTHER], role="agent")
    async with Browser(server) as browser:
        assert (await browser.login(email, password)).status == 200
        for store in (OTHER, "no-such-store"):
            for method, path, _ in STORE_ROUTES:
                url = f"{API}/{store}" + path.format(
                    sku="BK-CR100", kind="webhook", email="mei.chen@bloomkids-baby.example", job_id="1"
                )
                response = await browser.send(method, url, {"version": 0, "email": "x@example.com", "name": "X"})
                assert response.status == 404, (method, url)
            for method in ("GET", "POST"):
                assert (await browser.send(method, f"{API}/{store}/test-chat?run=abc")).status == 404
        team = await (await browser.get(f"{API}/{STORE}/team")).json()
        assert all(m["email"].endswith("@yangteng-auto.example") or m["email"] == email for m in team["team"])


async def test_a_seller_admin_cannot_remove_themselves(server: TestServer, demo_sessions: Sessions) -> None:
    email, password = await account(demo_sessions, [STORE])
    async with Browser(server) as browser:
        assert (await browser.login(email, password)).status == 200
        refused = await browser.send("DELETE", f"{API}/{STORE}/team/{email.upper()}")
        assert refused.status == 400 and "yourself" in (await refused.json())["error"]
        assert email in {m["email"] for m in (await (await browser.get(f"{API}/{STORE}/team")).json())["team"]}
        added = await browser.send("POST", f"{API}/{STORE}/team", {"email": "temp@yangteng.example", "name": "Temp"})
        assert added.status == 201 and "/agent#invitation=" in (await added.json())["invitation_url"]
        team = await (await browser.get(f"{API}/{STORE}/team")).json()
        [invited] = team["invitations"]
        assert invited["email"] == "temp@yangteng.example" and invited["invited_by"].endswith(f"<{email}>")
        # Removing an invited person withdraws the invitation.
        assert (await browser.send("DELETE", f"{API}/{STORE}/team/temp@yangteng.example")).status == 204
        team = await (await browser.get(f"{API}/{STORE}/team")).json()
        assert team["invitations"] == [] and "temp@yangteng.example" not in {m["email"] for m in team["team"]}


# --- test conversation ---


async def test_the_test_conversation_is_a_signed_sample_shopper_of_the_store(
    server: TestServer, demo_sessions: Sessions
) -> None:
    from bot.chat.conversations import ConversationService
    from bot.chat.shopper_signatures import signature_is_valid

    await ConversationService(demo_sessions).ensure_shopper_secrets()
    secret = await ConversationService(demo_sessions).shopper_secret(STORE)
    async with await signed_in(server, demo_sessions) as browser:
        started = await browser.send("POST", f"{API}/{STORE}/test-chat")
        assert started.status == 200
        body = await started.json()
        assert body["shopper_email"].endswith("@sample-shopper.invalid")  # never a real shopper's address
        again = await (await browser.send("POST", f"{API}/{STORE}/test-chat")).json()
        assert again["shopper_email"] != body["shopper_email"]  # "start over" is a new conversation

        page = await browser.get(body["url"])
        assert page.status == 200
        html_text = await page.text()
        assert (
            page.headers["X-Frame-Options"] == "SAMEORIGIN"
            and "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
        )
        email = re.search(r'data-shopper-email="([^"]+)"', html_text)[1]  # type: ignore[index]
        signature = re.search(r'data-shopper-signature="([^"]+)"', html_text)[1]  # type: ignore[index]
        ts = int(re.search(r'data-shopper-ts="([0-9]+)"', html_text)[1])  # type: ignore[index]
        assert email == body["shopper_email"] and signature_is_valid(secret, email, signature, ts)
        assert abs(ts - utc_now().timestamp()) < 60  # signed as the page is made
        assert f'data-store="{STORE}"' in html_text and 'data-open="always"' in html_text
        # The run is part of a fixed-shape address: nothing else can be signed through it.
        for run in ("", "alex@example.com", "ABC", "a" * 17, "x/../y"):
            assert (await browser.get(f"{API}/{STORE}/test-chat?run={run}")).status == 400
    async with Browser(server) as anonymous:
        assert (await anonymous.get(body["url"])).status == 401
