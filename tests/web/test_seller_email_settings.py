"""Email in the seller API and the seller console (issue 16, part 6), on SQLite and PostgreSQL: the
email settings saved as a version, the email preview, a store's own SMTP server with a write-only
password, and one store never reaching another's server."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import Store, StoreSettingsVersion
from bot.email.store_email import store_email_settings
from bot.web.app import create_app
from bot.web.console_auth import STATIC
from tests.engine import engine_settings
from tests.web.test_seller_api import conforms, token
from tests.web.test_seller_console import signed_in

Sessions = async_sessionmaker[AsyncSession]
STORE, OTHER = "yangteng-auto", "bloomkids-baby"
API = "/seller/api/stores"
SMTP = "/api/v1/seller/smtp"
PASSWORD = "s3cret smtp passw0rd"
SERVER = {"host": "smtp.yangteng-auto.example", "port": 587, "tls": "starttls", "username": "mailer", "password": PASSWORD}


@pytest.fixture
async def server(demo_sessions: Sessions, tmp_path: Path) -> AsyncIterator[TestServer]:
    server = TestServer(create_app(engine_settings(tmp_path), demo_sessions))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def client(server: TestServer) -> AsyncIterator[TestClient]:
    client = TestClient(server)
    await client.start_server()
    yield client
    await client.close()


async def smtp_row(sessions: Sessions, store: str) -> tuple[Any, ...]:
    async with sessions() as session:
        row = await session.get(Store, store)
        assert row is not None
        return (row.smtp_host, row.smtp_port, row.smtp_tls, row.smtp_username, row.smtp_password)


# --- a store's own SMTP server ---


async def test_the_smtp_password_is_written_never_shown(
    client: TestClient, demo_sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    auth = await token(demo_sessions)
    first = await client.get(SMTP, headers=auth)
    assert first.status == 200
    assert await first.json() == {"host": None, "port": None, "tls": None, "username": None, "password_set": False}

    caplog.set_level(logging.INFO, logger="bot.web.seller_api")
    saved = await client.put(SMTP, headers=auth, json=SERVER)
    assert saved.status == 200, await saved.text()
    body = await saved.json()
    conforms(body, "StoreSmtp")
    assert body == {**{k: v for k, v in SERVER.items() if k != "password"}, "password_set": True}
    assert saved.headers["Cache-Control"] == "no-store"
    assert PASSWORD not in await saved.text()
    assert await smtp_row(demo_sessions, STORE) == ("smtp.yangteng-auto.example", 587, "starttls", "mailer", PASSWORD)
    # Audited like a secret's rotation: who and which store, never a value.
    assert "seller API changed the SMTP server of yangteng-auto" in caplog.text
    assert PASSWORD not in caplog.text and "mailer" not in caplog.text

    shown = await client.get(SMTP, headers=auth)
    assert PASSWORD not in await shown.text() and (await shown.json())["password_set"] is True

    # Left out, the password is kept; another mode without a port gets that mode's usual one.
    kept = await client.put(
        SMTP, headers=auth, json={"host": "SMTP.Yangteng-Auto.example.", "tls": "tls", "username": "mailer"}
    )
    assert (await kept.json()) == {
        "host": "smtp.yangteng-auto.example",
        "port": 465,
        "tls": "tls",
        "username": "mailer",
        "password_set": True,
    }
    assert (await smtp_row(demo_sessions, STORE))[4] == PASSWORD
    # Null removes it; no user name takes it away too.
    removed = await client.put(SMTP, headers=auth, json={**SERVER, "password": None})
    assert (await removed.json())["password_set"] is False
    await client.put(SMTP, headers=auth, json=SERVER)
    no_user = await client.put(SMTP, headers=auth, json={"host": "smtp.yangteng-auto.example", "username": None})
    assert (await no_user.json())["password_set"] is False
    assert (await smtp_row(demo_sessions, STORE))[3:] == (None, None)

    # Never in the settings or their history: the server is not a setting at all.
    await client.put(SMTP, headers=auth, json=SERVER)
    for path in ("/api/v1/seller/settings", "/api/v1/seller/settings/history"):
        assert PASSWORD not in await (await client.get(path, headers=auth)).text()
    async with demo_sessions() as session:
        saved_versions = (await session.scalars(select(StoreSettingsVersion.settings))).all()
    assert all(PASSWORD not in json.dumps(v) for v in saved_versions)

    # Cleared: back to the deployment's server, and the password is gone from the database.
    cleared = await client.delete(SMTP, headers=auth)
    assert cleared.status == 200 and (await cleared.json())["host"] is None
    assert await smtp_row(demo_sessions, STORE) == (None,) * 5
    assert "seller API cleared the SMTP server of yangteng-auto" in caplog.text


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"host": "127.0.0.1"}, "host", "smtp_host_invalid"),
        ({"host": "localhost"}, "host", "smtp_host_invalid"),
        ({"host": "redis.internal"}, "host", "smtp_host_invalid"),
        ({"host": "[::1]"}, "host", "smtp_host_invalid"),
        ({"host": "smtp example.com"}, "host", "smtp_host_invalid"),
        ({"host": None}, "host", "smtp_host_invalid"),
        ({"port": 0}, "port", "smtp_port_invalid"),
        ({"port": 65536}, "port", "smtp_port_invalid"),
        ({"port": "587"}, "port", "smtp_port_invalid"),
        ({"port": True}, "port", "smtp_port_invalid"),
        ({"tls": "ssl"}, "tls", "smtp_tls_invalid"),
        ({"username": "two words"}, "username", "smtp_username_invalid"),
        ({"username": "x" * 321}, "username", "smtp_username_invalid"),
        ({"password": ""}, "password", "smtp_password_invalid"),
        ({"password": "line\nbreak"}, "password", "smtp_password_invalid"),
        ({"password": 12345}, "password", "smtp_password_invalid"),
        ({"username": None, "password": "alone"}, "username", "smtp_password_without_username"),
        ({"server": "smtp.example.com"}, "server", "setting_unknown"),
    ],
)
async def test_a_bad_smtp_server_is_refused_and_changes_nothing(
    client: TestClient, demo_sessions: Sessions, change: dict[str, Any], field: str, code: str
) -> None:
    auth = await token(demo_sessions)
    await client.put(SMTP, headers=auth, json=SERVER)
    before = await smtp_row(demo_sessions, STORE)
    response = await client.put(SMTP, headers=auth, json={**SERVER, **change})
    assert response.status == 400
    body = await response.json()
    conforms(body, "Error")
    assert (body["code"], body["field"]) == (code, field)
    assert await smtp_row(demo_sessions, STORE) == before


async def test_a_body_that_is_not_an_object_is_refused(client: TestClient, demo_sessions: Sessions) -> None:
    auth = await token(demo_sessions)
    for body in ([], "smtp.example.com", None):
        response = await client.put(SMTP, headers=auth, data=json.dumps(body))
        assert response.status == 400 and (await response.json())["code"] == "setting_not_object"
    assert await smtp_row(demo_sessions, STORE) == (None,) * 5


async def test_an_admin_of_one_store_never_reads_or_changes_anothers_smtp_server(
    server: TestServer, client: TestClient, demo_sessions: Sessions
) -> None:
    # The other store has a server of its own.
    await client.put(SMTP, headers=await token(demo_sessions, OTHER), json={**SERVER, "host": "smtp.bloomkids.example"})
    theirs = await smtp_row(demo_sessions, OTHER)
    async with await signed_in(server, demo_sessions, [STORE]) as browser:
        mine = await browser.get(f"{API}/{STORE}/smtp")
        assert mine.status == 200 and (await mine.json())["host"] is None
        for method in ("GET", "PUT", "DELETE"):
            path = f"{API}/{OTHER}/smtp"
            response = await (browser.get(path) if method == "GET" else browser.send(method, path, SERVER))
            assert response.status == 404, method
            text = await response.text()
            assert "smtp.bloomkids" not in text and PASSWORD not in text
        # Their own store's change is theirs only.
        assert (await browser.send("PUT", f"{API}/{STORE}/smtp", SERVER)).status == 200
    assert await smtp_row(demo_sessions, OTHER) == theirs
    # A support agent of the store (not a seller admin) has no console store at all.
    async with await signed_in(server, demo_sessions, [STORE], role="agent") as agent:
        assert (await agent.get(f"{API}/{STORE}/smtp")).status == 404
        assert (await agent.send("DELETE", f"{API}/{STORE}/smtp")).status == 404
    assert (await smtp_row(demo_sessions, STORE))[0] == "smtp.yangteng-auto.example"
    # The seller API's token decides the store: the other store's token sees only its own.
    shown = await (await client.get(SMTP, headers=await token(demo_sessions, OTHER))).json()
    assert shown["host"] == "smtp.bloomkids.example"


async def test_the_console_changes_need_the_csrf_token(server: TestServer, demo_sessions: Sessions) -> None:
    async with await signed_in(server, demo_sessions) as browser:
        for method in ("PUT", "DELETE"):
            response = await browser.client.request(method, f"{API}/{STORE}/smtp", json=SERVER)
            assert response.status == 403, method
    assert await smtp_row(demo_sessions, STORE) == (None,) * 5


# --- the email settings, saved as versions ---


async def test_the_email_section_is_saved_as_a_version_and_refused_per_field(
    server: TestServer, demo_sessions: Sessions
) -> None:
    async with await signed_in(server, demo_sessions) as browser:
        current = await (await browser.get(f"{API}/{STORE}/settings")).json()
        assert current["settings"]["email"]["kinds"]["review_invitation"] is True
        change = {
            "email": {
                "kinds": {"review_invitation": False},
                "sender_name": "Yangteng Service",
                "quiet_hours": None,
            }
        }
        saved = await browser.send("PUT", f"{API}/{STORE}/settings", change)
        assert saved.status == 200, await saved.text()
        body = await saved.json()
        assert body["summary_params"]["fields"] == [
            "email.kinds.review_invitation",
            "email.sender_name",
            "email.quiet_hours",
        ]
        # Quiet hours back, after none.
        again = await browser.send(
            "PUT", f"{API}/{STORE}/settings", {"email": {"quiet_hours": {"start": "22:00", "end": "07:30"}}}
        )
        assert again.status == 200, await again.text()
        for email, field in (
            ({"reply_domain": "not a domain"}, "email.reply_domain"),
            ({"page_url": "javascript:alert(1)"}, "email.page_url"),
            ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "email.quiet_hours.start"),
            ({"quiet_hours": {"start": "22:00"}}, "email.quiet_hours"),
            ({"sender_name": ""}, "email.sender_name"),
            ({"kinds": {"review_invitation": "no"}}, "email.kinds.review_invitation"),
        ):
            refused = await browser.send("PUT", f"{API}/{STORE}/settings", {"email": email})
            assert refused.status == 400, email
            assert (await refused.json())["field"] == field
    async with demo_sessions() as session:
        email_settings = await store_email_settings(session, STORE)
    assert not email_settings.sends("review_invitation") and not email_settings.sends("review_reminder")
    assert email_settings.sends("delivery_confirmation")
    assert email_settings.sender_name == "Yangteng Service"
    assert email_settings.quiet_hours == ("22:00", "07:30")


# --- the email preview ---


async def test_the_email_preview_is_plain_text_from_saved_or_unsaved_templates(
    server: TestServer, demo_sessions: Sessions
) -> None:
    async with await signed_in(server, demo_sessions) as browser:
        saved = await browser.send("POST", f"{API}/{STORE}/email-preview", {})
        assert saved.status == 200, await saved.text()
        body = await saved.json()
        assert body["subject"] == "Your messages from Yangteng Auto Parts"
        assert body["text"].startswith("Hi ") and "Yangteng Auto Parts:\n" in body["text"]
        assert "was delivered" in body["text"]
        # As the worker sends it: the footer, then the conversation's "continue in chat" link.
        assert "continue in the chat on our page.\nContinue in the chat: https://" in body["text"]

        unsaved = await browser.send(
            "POST",
            f"{API}/{STORE}/email-preview",
            {"templates": {"email_subject": "News from {store_name}\nBcc: x@evil.example", "email_footer": "<b>Bye</b>"}},
        )
        body = await unsaved.json()
        # One header line, and the seller's words as they are: text, never markup.
        assert body["subject"] == "News from Yangteng Auto Parts Bcc: x@evil.example"
        assert "\n<b>Bye</b>\nContinue in the chat: " in body["text"]

        for templates, field in (
            ({"email_intro": "Hi {order_number}"}, "templates.email_intro"),
            ({"email_footer": ""}, "templates.email_footer"),
            ({"greeting": "Hi"}, "templates.greeting"),
        ):
            refused = await browser.send("POST", f"{API}/{STORE}/email-preview", {"templates": templates})
            assert refused.status == 400 and (await refused.json())["field"] == field
        assert (await browser.send("POST", f"{API}/{STORE}/email-preview", {"templates": []})).status == 400
        assert (await browser.send("POST", f"{API}/{OTHER}/email-preview", {})).status == 404


# --- both languages ---


def test_the_console_names_the_email_kinds_fields_and_the_failed_email_job_in_both_languages() -> None:
    from bot.email.store_email import EMAIL_KINDS

    for language in ("en", "zh-CN"):
        texts = json.loads((STATIC / "i18n" / f"seller.{language}.json").read_text(encoding="utf-8"))
        assert texts["jobs.kind.unread_email"].strip()
        for kind in EMAIL_KINDS:
            assert texts[f"email.kind.{kind}"].strip() and texts[f"field.email.kinds.{kind}"].strip()
        for field in ("sender_name", "reply_domain", "page_url", "quiet_hours", "quiet_hours.start", "quiet_hours.end"):
            assert texts[f"field.email.{field}"].strip()
