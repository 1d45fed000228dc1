"""The demo inbox (DEMO=1 only): the emails the sink kept, as JSON, and a reply passed on to the
inbound webhook as an inbound-parse form (here a stand-in server records what it gets)."""

from __future__ import annotations

import email.parser
import email.policy
import json
import mailbox
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.core.clock import utc_now
from bot.core.config import load_settings
from bot.core.db import create_engine, create_sessionmaker
from bot.runtime.stack import free_port
from bot.web.app import create_app
from bot.web.console_auth import STATIC

INBOUND_SECRET = "inbound-secret-for-the-test"
Inbox = Callable[..., Awaitable[TestClient]]


def delivery_email(subject: str = "Your messages from Yangteng Auto Parts", text: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Yangteng Auto Parts <assistant@demo.localhost>"
    message["To"] = "alex@example.com"
    message["Reply-To"] = "reply+abc234@demo.localhost"
    message["Subject"] = subject
    message["Date"] = format_datetime(utc_now())
    message["Message-ID"] = "<n7.abc@demo.localhost>"
    message.set_content(
        text
        or "Your parcel was delivered.\nThe manual: https://yangteng-auto.example/manuals/OP-1001.pdf.\n"
        "Continue in chat: http://127.0.0.1:8080/continue/tok123\nNot a link: javascript:alert(1)\n"
    )
    message.add_alternative("<p>Your parcel was delivered.</p>", subtype="html")
    message.add_attachment(b"%PDF-1.4 demo", maintype="application", subtype="pdf", filename="OP-1001.pdf")
    return message


def keep(directory: Path, message: EmailMessage) -> str:
    # With CRLF line ends, as the sink keeps what came over SMTP.
    return mailbox.Maildir(directory, factory=None, create=True).add(message.as_bytes(policy=email.policy.SMTP))


class StandInWebhook:
    """Stands in for the inbound webhook (POST /webhooks/email/inbound/{secret}): records each form."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.answer: dict[str, Any] = {"ok": True}
        self.forms: list[tuple[str, str, dict[str, str]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.forms.append((request.match_info["secret"], request.content_type, {k: str(v) for k, v in form.items()}))
        return web.json_response(self.answer, status=self.status)


@pytest.fixture
async def inbox(tmp_path: Path) -> AsyncIterator[Inbox]:
    """``await inbox(DEMO="1", ...)``: the gateway (no store database is read by the inbox) in a test client."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    clients: list[TestClient] = []

    async def start(**env: str) -> TestClient:
        settings = load_settings(
            {
                "VAR_DIR": str(tmp_path),
                "EMAIL_INBOUND_SECRET": INBOUND_SECRET,
                "MAIL_SINK_DIR": str(tmp_path / "sink"),
                **env,
            }
        )
        client = TestClient(TestServer(create_app(settings, create_sessionmaker(engine))))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()
    await engine.dispose()


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[StandInWebhook, int]]:
    stand_in = StandInWebhook()
    app = web.Application()
    app.router.add_post("/webhooks/email/inbound/{secret}", stand_in.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield stand_in, port
    await runner.cleanup()


async def test_no_inbox_without_demo(inbox: Inbox, tmp_path: Path) -> None:
    key = keep(tmp_path / "sink", delivery_email())
    client = await inbox(DEMO="0")
    for path in (
        "/demo/inbox",
        "/demo/inbox/api/messages",
        f"/demo/inbox/api/messages/{key}",
        "/demo/inbox/static/inbox/main.js",
    ):
        assert (await client.get(path)).status == 404, path
    assert (await client.post(f"/demo/inbox/api/messages/{key}/reply", json={"text": "hi"})).status == 404


async def test_the_page_has_a_strict_policy(inbox: Inbox) -> None:
    client = await inbox(DEMO="1")
    page = await client.get("/demo/inbox")
    assert page.status == 200 and page.content_type == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert 'src="/demo/inbox/static/inbox/main.js"' in await page.text()
    script = await client.get("/demo/inbox/static/inbox/main.js")
    assert script.status == 200 and script.content_type == "application/javascript"
    assert (await client.get("/demo/inbox/static/shared/dom.js")).status == 200
    for path in (
        "/demo/inbox/static/../app.py",
        "/demo/inbox/static/inbox/..%2F..%2Fapp.py",
        "/demo/inbox/static/agent.html",
    ):
        assert (await client.get(path)).status == 404, path


async def test_an_empty_inbox_before_the_sink_kept_anything(inbox: Inbox) -> None:
    client = await inbox(DEMO="1")
    listed = await client.get("/demo/inbox/api/messages")
    assert listed.status == 200 and await listed.json() == {"messages": []}


async def test_the_inbox_lists_newest_first_and_shows_one(inbox: Inbox, tmp_path: Path) -> None:
    older = keep(tmp_path / "sink", delivery_email("Older"))
    # Kept a minute before the other (the Maildir file's time is when the sink kept it).
    path = next((tmp_path / "sink" / "new").glob(f"{older}*"))
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime - 60))
    newer = keep(tmp_path / "sink", delivery_email())
    client = await inbox(DEMO="1")

    listed = await (await client.get("/demo/inbox/api/messages")).json()
    assert [m["id"] for m in listed["messages"]] == [newer, older]
    assert listed["messages"][0] == {
        "id": newer,
        "from": "Yangteng Auto Parts <assistant@demo.localhost>",
        "to": "alex@example.com",
        "subject": "Your messages from Yangteng Auto Parts",
        "date": listed["messages"][0]["date"],
    }
    shown = await client.get(f"/demo/inbox/api/messages/{newer}")
    assert shown.status == 200 and shown.headers["Cache-Control"] == "no-store"
    body = await shown.json()
    assert body["reply_to"] == "reply+abc234@demo.localhost"
    assert body["text"].startswith("Your parcel was delivered.")
    # Only http(s) links, without the sentence's full stop.
    assert body["links"] == [
        "https://yangteng-auto.example/manuals/OP-1001.pdf",
        "http://127.0.0.1:8080/continue/tok123",
    ]
    assert body["attachments"] == [{"filename": "OP-1001.pdf", "content_type": "application/pdf", "size": 13}]
    assert ["Reply-To", "reply+abc234@demo.localhost"] in body["headers"]


@pytest.mark.parametrize(
    ("key", "status"),
    [
        # The URL itself resolves "..": what is left is no route of the inbox.
        ("..", 404),
        ("%2E%2E", 404),
        ("...", 400),
        ("..%2F..%2Fetc%2Fpasswd", 400),
        ("%2Fetc%2Fpasswd", 400),
        ("new%2F1", 400),
        ("a%00b", 400),
        ("a b", 400),
        ("x" * 300, 400),
        ("1732999999.M1P2Q3.nowhere", 404),
        ("cur", 404),
    ],
)
async def test_bad_and_unknown_ids_are_refused_never_a_500(inbox: Inbox, tmp_path: Path, key: str, status: int) -> None:
    keep(tmp_path / "sink", delivery_email())
    client = await inbox(DEMO="1")
    for response in (
        await client.get(f"/demo/inbox/api/messages/{key}"),
        await client.post(f"/demo/inbox/api/messages/{key}/reply", json={"text": "hi"}),
    ):
        assert response.status == status, key
        if response.content_type == "application/json":
            assert (await response.json())["code"] == {400: "http_bad_request", 404: "http_not_found"}[status]
        else:
            assert "%" in key or key == "..", key  # only the router's own 404 is not JSON


async def test_a_reply_reaches_the_inbound_webhook_as_an_inbound_parse_form(
    inbox: Inbox, tmp_path: Path, webhook: tuple[StandInWebhook, int]
) -> None:
    stand_in, port = webhook
    key = keep(tmp_path / "sink", delivery_email())
    client = await inbox(DEMO="1", GATEWAY_PORT=str(port))

    answer = await client.post(f"/demo/inbox/api/messages/{key}/reply", json={"text": "Thanks! Where is the gasket?"})
    assert answer.status == 200, await answer.text()
    assert await answer.json() == {"sent": True, "webhook_status": 200, "webhook": {"ok": True}}
    [(secret, content_type, form)] = stand_in.forms
    assert secret == INBOUND_SECRET and content_type == "multipart/form-data"
    assert form["from"] == "alex@example.com"
    assert form["to"] == "reply+abc234@demo.localhost"
    assert form["subject"] == "Re: Your messages from Yangteng Auto Parts"
    new_text, _, quoted = form["text"].partition("\n\nOn ")
    assert new_text == "Thanks! Where is the gasket?"
    attribution, *lines = quoted.splitlines()
    assert attribution.endswith(", Yangteng Auto Parts <assistant@demo.localhost> wrote:")
    assert lines[0] == "> Your parcel was delivered." and all(line.startswith(">") for line in lines)
    assert "\r" not in form["text"]
    headers = email.parser.HeaderParser(policy=email.policy.default).parsestr(form["headers"])
    assert headers["In-Reply-To"] == "<n7.abc@demo.localhost>" and headers["Message-ID"].endswith("@demo-inbox.localhost>")
    assert json.loads(form["envelope"]) == {"to": ["reply+abc234@demo.localhost"], "from": "alex@example.com"}


async def test_a_refused_or_unreachable_webhook_is_a_502_with_nothing_else_done(
    inbox: Inbox, tmp_path: Path, webhook: tuple[StandInWebhook, int]
) -> None:
    stand_in, port = webhook
    stand_in.status = 403
    stand_in.answer = {"error": "this reply is not from the conversation's shopper", "code": "x"}
    key = keep(tmp_path / "sink", delivery_email())
    refused = await (await inbox(DEMO="1", GATEWAY_PORT=str(port))).post(
        f"/demo/inbox/api/messages/{key}/reply", json={"text": "hello"}
    )
    assert (await refused.json())["error"] == (
        "the inbound webhook answered 403: this reply is not from the conversation's shopper"
    )
    unreachable = await (await inbox(DEMO="1", GATEWAY_PORT=str(free_port()))).post(
        f"/demo/inbox/api/messages/{key}/reply", json={"text": "hello"}
    )
    assert unreachable.status == 502 and (await unreachable.json())["code"] == "http_error"


@pytest.mark.parametrize(
    ("request_args", "status", "code"),
    [
        ({"json": {"text": "  "}}, 400, "text_empty"),
        ({"json": {"text": 5}}, 400, "text_empty"),
        ({"json": {"text": "x" * 5001}}, 400, "text_too_long"),
        ({"json": ["text"]}, 400, "body_not_object"),
        ({"data": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "body_not_json"),
        # What a form on another site can send: refused before anything is read.
        ({"data": '{"text": "hi"}', "headers": {"Content-Type": "text/plain"}}, 403, "cross_origin"),
        ({"json": {"text": "hi"}, "headers": {"Origin": "https://evil.example"}}, 403, "cross_origin"),
    ],
)
async def test_a_bad_reply_is_a_clear_refusal(
    inbox: Inbox, tmp_path: Path, webhook: tuple[StandInWebhook, int], request_args: dict[str, Any], status: int, code: str
) -> None:
    stand_in, port = webhook
    key = keep(tmp_path / "sink", delivery_email())
    client = await inbox(DEMO="1", GATEWAY_PORT=str(port))
    answer = await client.post(f"/demo/inbox/api/messages/{key}/reply", **request_args)
    assert answer.status == status and (await answer.json())["code"] == code
    assert stand_in.forms == []


async def test_a_malformed_kept_email_is_still_listed_and_shown(inbox: Inbox, tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "sink", factory=None, create=True)
    key = box.add(
        b"From: =?bogus-charset?q?x?= <\r\nSubject: =?utf-8?b?!!!?=\r\nContent-Type: text/plain; charset=no-such\r\n\r\n\xff\xfe"
    )
    client = await inbox(DEMO="1")
    assert (await client.get("/demo/inbox/api/messages")).status == 200
    assert (await client.get(f"/demo/inbox/api/messages/{key}")).status == 200


def test_the_demo_page_links_to_the_inbox() -> None:
    # The demo page is served only with DEMO=1, exactly when the inbox is.
    page = (STATIC / "demo.html").read_text(encoding="utf-8")
    assert '<a class="inbox-link" href="/demo/inbox"' in page and "Open the demo inbox (emails the store sent)" in page
