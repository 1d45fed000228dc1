"""The gateway's refusals (bot/web/json_io.py): every one is ``{"error", "code", "params"}`` with a
code of the registry (bot/core/refusals.py) and the English that code renders, whether a handler,
a service, a middleware, a rate limit or aiohttp itself refuses; and no handler refuses with
free-form English. Over the demo stores on SQLite and PostgreSQL, without an assistant."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.config import load_settings
from bot.core.models import Store
from bot.core.refusals import REFUSALS, english
from bot.seller.api_tokens import ApiTokens
from bot.shipping.tracking_updates import simple_signature
from bot.support.accounts import AgentAccounts
from bot.web.app import create_app
from bot.web.json_io import HTTP_REFUSALS, error_response
from bot.web.public_files import OPENAPI

Sessions = async_sessionmaker[AsyncSession]
STORE, OTHER = "yangteng-auto", "bloomkids-baby"
WEB = Path(__file__).resolve().parents[2] / "bot" / "web"
SPEC = yaml.safe_load(OPENAPI.read_text())
ERROR_SCHEMA = {**SPEC["components"]["schemas"]["Error"], "components": SPEC["components"]}
WEBHOOK_SECRET = "refusal-codes-webhook-secret"


@pytest.fixture
async def server(demo_sessions: Sessions, tmp_path: Path) -> AsyncIterator[TestServer]:
    settings = load_settings({"VAR_DIR": str(tmp_path), "RATE_LIMIT_IP_PER_MINUTE": "1000"})
    server = TestServer(create_app(settings, demo_sessions))
    await server.start_server()
    yield server
    await server.close()


def conforming(body: dict[str, Any], code: str, where: Any) -> dict[str, Any]:
    """``body`` is an Error of the OpenAPI document (its code in the enum) with this code, and
    its English is what the registry renders from its params."""
    jsonschema.validate(body, ERROR_SCHEMA)
    assert body["code"] == code, (where, body)
    assert isinstance(body["params"], dict), (where, body)
    # After any context, such as "nothing saved: templates.greeting: ".
    assert body["error"].endswith(english(body["code"], body["params"])), (where, body)
    return body


class Caller:
    """One client with its own cookies, checking every refusal it gets."""

    def __init__(self, server: TestServer) -> None:
        self.http = aiohttp.ClientSession(base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def close(self) -> None:
        await self.http.close()

    async def refused(self, code: str, status: int, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """The request is refused with this status and code, as the Error schema says."""
        response = await self.http.request(method, path, **kwargs)
        text = await response.text()
        assert response.status == status, (method, path, response.status, text)
        assert response.content_type == "application/json", (method, path, text)
        body = await response.json()
        return self.check(body, code, (method, path))

    def check(self, body: dict[str, Any], code: str, where: Any) -> dict[str, Any]:
        return conforming(body, code, where)

    async def console_login(self, console: str, email: str, password: str) -> None:
        page = await self.http.get(f"/{console}")
        match = re.search(r'<meta name="login-csrf" content="([^"]+)"', await page.text())
        assert match
        response = await self.http.post(
            f"/{console}/api/login",
            json={"email": email, "password": password},
            headers={"X-CSRF-Token": match.group(1)},
        )
        assert response.status == 200, await response.text()
        self.csrf = (await response.json())["csrf_token"]


async def test_every_refusal_of_the_public_api_carries_a_registered_code(
    server: TestServer, demo_sessions: Sessions
) -> None:
    caller = Caller(server)
    try:
        conversations = f"/api/v1/stores/{STORE}/conversations"
        await caller.refused("store_unknown", 404, "POST", "/api/v1/stores/no-such-store/conversations")
        await caller.refused(
            "body_not_json", 400, "POST", conversations, data=b"{", headers={"Content-Type": "application/json"}
        )
        await caller.refused("body_not_object", 400, "POST", conversations, json=[])
        await caller.refused("shopper_identity_malformed", 400, "POST", conversations, json={"shopper": "alex"})
        await caller.refused(
            "shopper_ts_invalid",
            400,
            "POST",
            conversations,
            json={"shopper": {"email": "a@example.com", "signature": "x", "ts": -1}},
        )
        await caller.refused(
            "shopper_signature_invalid",
            401,
            "POST",
            conversations,
            json={"shopper": {"email": "a@example.com", "signature": "00"}},
        )
        body = await caller.refused(
            "text_lone_surrogate",
            400,
            "POST",
            conversations,
            data=b'{"shopper": "\\ud800"}',
            headers={"Content-Type": "application/json"},
        )
        assert body["field"] == "shopper" and body["params"] == {"field": "shopper", "codepoint": "d800", "position": 1}
        await caller.refused("http_method_not_allowed", 405, "PUT", conversations)
        await caller.refused("http_not_found", 404, "GET", "/api/v1/no-such-thing")
        await caller.refused(
            "http_body_too_large",
            413,
            "POST",
            conversations,
            data=b"x" * (1024 * 1024 + 1),
            headers={"Content-Type": "application/json"},
        )

        started = await (await caller.http.post(conversations)).json()
        cid, auth = started["conversation_id"], {"Authorization": f"Bearer {started['token']}"}
        messages = f"/api/v1/conversations/{cid}/messages"
        await caller.refused("conversation_token_wrong", 401, "POST", messages, json={"text": "hi"})
        await caller.refused("conversation_token_wrong", 401, "GET", f"/api/v1/conversations/{cid}/ws")
        await caller.refused("message_text_or_payload", 400, "POST", messages, json={}, headers=auth)
        await caller.refused("message_not_string", 400, "POST", messages, json={"text": 3}, headers=auth)
        await caller.refused("message_empty", 400, "POST", messages, json={"text": "  "}, headers=auth)
        body = await caller.refused("message_too_long", 413, "POST", messages, json={"text": "x" * 5000}, headers=auth)
        assert isinstance(body["params"]["limit"], int)
        await caller.refused("message_intent_forbidden", 400, "POST", messages, json={"text": "/restart"}, headers=auth)
        await caller.refused("payload_not_intent", 400, "POST", messages, json={"payload": "hello"}, headers=auth)
        await caller.refused("button_not_offered", 400, "POST", messages, json={"payload": "/affirm"}, headers=auth)
        # Text in a payload's entities, as Rasa would read them: the refusal keeps its params and says where.
        body = await caller.refused(
            "text_lone_surrogate", 400, "POST", messages, json={"payload": '/inform{"x": "\\ud800"}'}, headers=auth
        )
        assert body["field"].startswith("payload") and body["params"]["codepoint"] == "d800"
        await caller.refused(
            "number_too_large",
            400,
            "POST",
            messages,
            data=b'{"text": "a", "n": 99999999999999999999999}',
            headers={**auth, "Content-Type": "application/json"},
        )
        body = await caller.refused("messages_after_invalid", 400, "GET", messages, params={"after": "x"}, headers=auth)
        assert body["field"] == "after"
        body = await caller.refused("messages_limit_invalid", 400, "GET", messages, params={"limit": "0"}, headers=auth)
        assert body["params"] == {"max": 500}

        webhook = f"/webhooks/tracking/{STORE}"
        async with demo_sessions() as session, session.begin():
            await session.execute(update(Store).where(Store.id == STORE).values(webhook_secret=WEBHOOK_SECRET))
        body = await caller.refused(
            "webhook_signature_wrong", 401, "POST", webhook, data=b"{}", headers={"X-Signature": "x"}
        )
        assert body["params"] == {"header": "X-Signature"}
        for raw, code in (
            (b"{", "body_not_json"),
            (b"[]", "body_not_object"),
            (b'{"events": [1]}', "update_item_not_object"),
            (b'{"tracking_number": 5}', "update_text_missing"),
        ):
            await caller.refused(
                code, 400, "POST", webhook, data=raw, headers={"X-Signature": simple_signature(WEBHOOK_SECRET, raw)}
            )
    finally:
        await caller.close()


async def test_the_rate_limit_answers_429_with_its_code(demo_sessions: Sessions, tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path), "RATE_LIMIT_IP_PER_MINUTE": "1"})
    server = TestServer(create_app(settings, demo_sessions))
    await server.start_server()
    caller = Caller(server)
    try:
        await caller.http.get("/api/v1/openapi.yaml")
        body = await caller.refused("rate_limited", 429, "GET", "/api/v1/openapi.yaml")
        assert body["params"]["retry_after"] >= 1
    finally:
        await caller.close()
        await server.close()


async def test_every_refusal_of_the_seller_api_carries_a_registered_code(
    server: TestServer, demo_sessions: Sessions
) -> None:
    caller = Caller(server)
    try:
        await caller.refused("seller_token_wrong", 401, "GET", "/api/v1/seller/settings")
        auth = {"Authorization": f"Bearer {await ApiTokens(demo_sessions).create(STORE, 'refusals')}"}
        body = await caller.refused(
            "template_unknown_placeholder",
            400,
            "PATCH",
            "/api/v1/seller/settings",
            json={"templates": {"greeting": "Hi {password}"}},
            headers=auth,
        )
        assert body["field"] == "templates.greeting" and body["params"]["name"] == "password"
        assert body["error"].startswith("nothing saved: templates.greeting: unknown placeholder {password}")
        for patch, code in (
            ({"nope": 1}, "setting_unknown"),
            ({"review": 3}, "setting_not_object"),
            ({"review": {"delay_days": 0}}, "review_delay_out_of_range"),
            ({"review": {"url": "ftp://x"}}, "review_url_not_link"),
            ({"escalation": {"reasons": []}}, "escalation_reasons_without_request"),
            ({"escalation": {"business_hours": {"mon": ["18:00-09:00"]}}}, "hours_span_backwards"),
            ({"escalation": {"reply_time_minutes": 0}}, "reply_time_out_of_range"),
            ({"templates": {"greeting": "{"}}, "template_brace_unmatched_open"),
        ):
            await caller.refused(code, 400, "PATCH", "/api/v1/seller/settings", json=patch, headers=auth)
        await caller.refused(
            "settings_version_missing", 400, "POST", "/api/v1/seller/settings/rollback", json={}, headers=auth
        )
        body = await caller.refused(
            "version_not_found", 404, "POST", "/api/v1/seller/settings/rollback", json={"version": 999}, headers=auth
        )
        assert body["params"] == {"version": 999}
        await caller.refused("product_not_found", 404, "GET", "/api/v1/seller/products/NO-SKU/guide", headers=auth)
        await caller.refused(
            "guide_steps_not_list",
            400,
            "PUT",
            "/api/v1/seller/products/OP-1001/guide",
            json={"install_steps": "one"},
            headers=auth,
        )
        await caller.refused(
            "link_not_web",
            400,
            "PUT",
            "/api/v1/seller/products/OP-1001/guide",
            json={"video_url": "javascript:alert(1)"},
            headers=auth,
        )
        await caller.refused(
            "guide_version_missing",
            400,
            "POST",
            "/api/v1/seller/products/OP-1001/guide/rollback",
            json={},
            headers=auth,
        )
        await caller.refused(
            "guide_version_not_found",
            404,
            "POST",
            "/api/v1/seller/products/OP-1001/guide/rollback",
            json={"version": 999},
            headers=auth,
        )
        manual = "/api/v1/seller/products/OP-1001/manual"
        await caller.refused(
            "manual_content_type", 415, "POST", manual, data=b"x", headers={**auth, "Content-Type": "text/plain"}
        )
        await caller.refused(
            "manual_not_pdf",
            415,
            "POST",
            manual,
            data=b"not a pdf",
            headers={**auth, "Content-Type": "application/pdf"},
        )
        await caller.refused(
            "secret_kind_unknown", 404, "POST", "/api/v1/seller/secrets/password/rotate", json={}, headers=auth
        )
        await caller.refused(
            "grace_hours_invalid",
            400,
            "POST",
            "/api/v1/seller/secrets/webhook/rotate",
            json={"grace_hours": 1000},
            headers=auth,
        )
        await caller.refused("member_fields_invalid", 400, "POST", "/api/v1/seller/team", json={"email": "x"}, headers=auth)
        await caller.refused(
            "email_invalid", 400, "POST", "/api/v1/seller/team", json={"email": "x", "name": "X"}, headers=auth
        )
        await caller.refused(
            "role_invalid",
            400,
            "POST",
            "/api/v1/seller/team",
            json={"email": "x@example.com", "name": "X", "role": "owner"},
            headers=auth,
        )
        await caller.refused("member_not_found", 404, "DELETE", "/api/v1/seller/team/nobody@example.com", headers=auth)
        await caller.refused(
            "jobs_status_invalid", 400, "GET", "/api/v1/seller/jobs", params={"status": "pending"}, headers=auth
        )
        await caller.refused("job_not_found", 404, "POST", "/api/v1/seller/jobs/999999/retry", headers=auth)
    finally:
        await caller.close()


async def test_every_refusal_of_the_consoles_carries_a_registered_code(server: TestServer, demo_sessions: Sessions) -> None:
    accounts = AgentAccounts(demo_sessions)
    await accounts.add("refusals.seller@example.com", "Wang Fang", "a long enough password", [STORE], role="seller_admin")
    await accounts.add("refusals.agent@example.com", "Li Na", "a long enough password", [STORE], role="agent")
    caller = Caller(server)
    try:
        await caller.refused("session_expired", 401, "GET", "/seller/api/me")
        await caller.refused("csrf_token_wrong", 403, "POST", "/seller/api/login", json={"email": "a", "password": "b"})
        await caller.refused(
            "cross_origin", 403, "POST", "/seller/api/login", json={}, headers={"Origin": "https://evil.example"}
        )
        page = await caller.http.get("/seller")
        csrf = re.search(r'<meta name="login-csrf" content="([^"]+)"', await page.text())
        assert csrf
        login = {"X-CSRF-Token": csrf.group(1)}
        await caller.refused("login_fields_missing", 400, "POST", "/seller/api/login", json={}, headers=login)
        await caller.refused(
            "login_wrong",
            401,
            "POST",
            "/seller/api/login",
            json={"email": "refusals.seller@example.com", "password": "wrong"},
            headers=login,
        )
        await caller.refused("invitation_token_missing", 400, "POST", "/seller/api/invitation", json={}, headers=login)
        await caller.refused(
            "invitation_not_found", 404, "POST", "/seller/api/invitation", json={"token": "nope"}, headers=login
        )
        await caller.refused("join_token_missing", 400, "POST", "/seller/api/join", json={}, headers=login)
        await caller.refused(
            "join_fields_invalid", 400, "POST", "/seller/api/join", json={"token": "t", "password": 3}, headers=login
        )

        await caller.console_login("seller", "refusals.seller@example.com", "a long enough password")
        signed = {"X-CSRF-Token": caller.csrf}
        await caller.refused("csrf_token_wrong", 403, "PUT", f"/seller/api/stores/{STORE}/settings", json={})
        await caller.refused("console_store_not_found", 404, "GET", f"/seller/api/stores/{OTHER}/settings")
        body = await caller.refused(
            "template_too_long",
            400,
            "PUT",
            f"/seller/api/stores/{STORE}/settings",
            json={"templates": {"greeting": "x" * 5000}},
            headers=signed,
        )
        assert body["params"] == {"limit": 2000} and body["field"] == "templates.greeting"
        await caller.refused(
            "settings_version_missing",
            400,
            "POST",
            f"/seller/api/stores/{STORE}/settings/rollback",
            json={},
            headers=signed,
        )
        await caller.refused(
            "template_key_unknown",
            400,
            "POST",
            f"/seller/api/stores/{STORE}/preview",
            json={"template": "nope", "text": "x"},
            headers=signed,
        )
        body = await caller.refused(
            "template_placeholder_malformed",
            400,
            "POST",
            f"/seller/api/stores/{STORE}/preview",
            json={"template": "greeting", "text": "{a.b}"},
            headers=signed,
        )
        assert body["params"] == {"text": "a.b", "position": 1}
        await caller.refused("test_chat_not_started", 400, "GET", f"/seller/api/stores/{STORE}/test-chat")
        await caller.refused(
            "member_remove_self",
            400,
            "DELETE",
            f"/seller/api/stores/{STORE}/team/refusals.seller@example.com",
            headers=signed,
        )
        await caller.refused(
            "invitation_not_yours", 404, "POST", "/seller/api/invitations/accept", json={"token": "x"}, headers=signed
        )
        await caller.refused("invitation_not_waiting", 404, "POST", "/seller/api/invitations/999/decline", headers=signed)
        await caller.close()

        caller = Caller(server)
        await caller.console_login("agent", "refusals.agent@example.com", "a long enough password")
        signed = {"X-CSRF-Token": caller.csrf}
        await caller.refused("queue_limit_invalid", 400, "GET", "/agent/api/queue", params={"limit": "x"})
        await caller.refused("queue_limit_out_of_range", 400, "GET", "/agent/api/queue", params={"limit": "0"})
        await caller.refused("queue_order_invalid", 400, "GET", "/agent/api/queue", params={"order": "random"})
        await caller.refused("queue_cursor_invalid", 400, "GET", "/agent/api/queue", params={"cursor": "x"})
        await caller.refused("conversation_not_found", 404, "GET", "/agent/api/conversations/nope")
        await caller.refused(
            "spam_ids_invalid", 400, "POST", "/agent/api/escalations/spam", json={"escalation_ids": []}, headers=signed
        )
        await caller.refused("http_not_found", 404, "GET", "/agent/api/nothing-here")
    finally:
        await caller.close()


def _calls(name: str) -> list[tuple[Path, ast.Call]]:
    found = []
    for path in sorted(WEB.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if called == name:
                    found.append((path, node))
    return found


def test_no_handler_refuses_with_free_form_english() -> None:
    """``json_error`` takes a code of the registry (a literal) or a refusal's own ``.code``; an
    English sentence, an f-string or any other expression in its place is a refusal clients
    cannot translate."""
    calls = _calls("json_error")
    assert len(calls) > 50  # the check sees the call sites
    for path, call in calls:
        where = f"{path.name}:{call.lineno}"
        code = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "code"), None)
        if isinstance(code, ast.Constant):
            assert code.value in REFUSALS, f"{where}: {code.value!r} is not a registered code"
        else:
            # Only json_io passes a code through: a refusal's, or aiohttp's status mapped by HTTP_REFUSALS.
            assert path.name == "json_io.py" and (
                (isinstance(code, ast.Attribute) and code.attr == "code")
                or (isinstance(code, ast.Name) and code.id == "code")
            ), f"{where}: json_error without a registered code"
    for path, call in _calls("RefusedRequest"):
        assert isinstance(call.args[1], ast.Constant) and call.args[1].value in REFUSALS, f"{path.name}:{call.lineno}"


def test_no_handler_raises_an_http_error_with_its_own_english() -> None:
    """aiohttp's exceptions with a ``reason`` would reach clients as an English sentence with no
    code of its own (RefusedRequest is the way); without one they are aiohttp's own, by status."""
    for path in sorted(WEB.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr.startswith("HTTP"):
                assert not node.keywords and not node.args, (
                    f"{path.name}:{node.lineno}: web.{node.func.attr} with its own text"
                )


def test_aiohttps_own_refusals_get_a_code_by_status_and_another_keeps_its_reason() -> None:
    for refusal, code in (
        (web.HTTPBadRequest(), "http_bad_request"),
        (web.HTTPNotFound(), "http_not_found"),
        (web.HTTPMethodNotAllowed("GET", ["POST"]), "http_method_not_allowed"),
        (web.HTTPRequestEntityTooLarge(max_size=1, actual_size=2), "http_body_too_large"),
        (web.HTTPUnsupportedMediaType(), "http_unsupported_media_type"),
    ):
        response = error_response(refusal)
        assert response.status == refusal.status and HTTP_REFUSALS[refusal.status] == code
        conforming(json.loads(response.text or ""), code, refusal)
    response = error_response(web.HTTPLengthRequired())
    assert response.status == 411
    assert json.loads(response.text or "") == {
        "error": "Length Required",
        "code": "http_error",
        "params": {"reason": "Length Required"},
    }
    # aiohttp's class with a text of its own is no longer aiohttp's wording: kept, under the catch-all code.
    assert json.loads(error_response(web.HTTPNotFound(reason="gone fishing")).text or "")["code"] == "http_error"
