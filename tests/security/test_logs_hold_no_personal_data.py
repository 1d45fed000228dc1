"""Issue 13, item 14: what shoppers write, and their email addresses, never reach a log.

Real traffic through the real stack (gateway, Rasa, the action server and the worker, each
logging at its default level into var/logs): a signed-in shopper's conversation, plain text with
an email in it, a button payload ("/intent{...}") the bot offered, and "/"-prefixed text with an
email that the bot never offered. Then no log file holds any of it."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.chat.conversations import ConversationService
from bot.core.config import Settings
from bot.core.db import create_engine, create_sessionmaker
from tests.conftest import signed_shopper
from tests.engine import bot_cli, running_engine

pytestmark = pytest.mark.engine

STORE = "yangteng-auto"
ALEX = "alex@example.com"  # the demo shopper, whose orders the bot offers as buttons
PLAIN_EMAIL = "wombat.leak@example.com"
PAYLOAD_EMAIL = "numbat.leak@example.com"
DIRECT_EMAIL = "bilby.leak@example.com"
STAFF_EMAIL = "new.hire.leak@yangteng.example"
WORDS = "my quokka-7731 parcel"  # words no log line would hold by chance


def call(url: str, body: Any = None, token: str | None = None, method: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = None if body is None else json.dumps(body).encode()
    method = method or ("POST" if body is not None else "GET")
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def shopper_secret(settings: Settings) -> str:
    async def read() -> str:
        engine = create_engine(settings.database_url)
        try:
            return await ConversationService(create_sessionmaker(engine)).shopper_secret(STORE) or ""
        finally:
            await engine.dispose()

    return asyncio.run(read())


def all_logs(var_dir: Path) -> str:
    logs = sorted((var_dir / "logs").glob("*"))
    assert {p.name for p in logs} >= {"rasa.log", "action_server.log", "gateway.log", "worker.log"}
    return "\n".join(f"=== {p.name}\n{p.read_text(errors='replace')}" for p in logs)


def test_no_log_holds_shopper_text_or_emails(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    with running_engine(var_dir, with_gateway=True, with_worker=True) as (_, settings):
        base = settings.gateway_url
        status, started = call(
            f"{base}/api/v1/stores/{STORE}/conversations", {"shopper": signed_shopper(shopper_secret(settings), ALEX)}
        )
        assert status == 201, started
        messages = f"{base}/api/v1/conversations/{started['conversation_id']}/messages"
        token = started["token"]

        # Plain text with an email, read by Rasa's NLU and the actions.
        status, answer = call(messages, {"text": f"Hi, {WORDS} never came, write to {PLAIN_EMAIL} please"}, token)
        assert status == 200 and answer["messages"], answer
        # A button the bot offered: "/"-prefixed text that Rasa parses as an intent.
        status, answer = call(messages, {"text": "where is my order?"}, token)
        assert status == 200, answer
        buttons = [b for m in answer["messages"] for b in m.get("buttons") or [] if b["payload"].startswith("/inform")]
        assert buttons, answer
        offered = buttons[0]["payload"]
        status, answer = call(messages, {"payload": offered, "title": buttons[0]["title"]}, token)
        assert status == 200 and len(answer["messages"]) > 1, answer
        # "/"-prefixed text with an email that no button offered: refused, and not logged either.
        status, refused = call(messages, {"text": f'/inform{{"email": "{PAYLOAD_EMAIL}"}} {WORDS}'}, token)
        assert status == 400, refused
        status, refused = call(messages, {"payload": f'/ inform{{"email":"{PAYLOAD_EMAIL}"}}'}, token)
        assert status == 400, refused
        # An anonymous shopper's identity check with an email, through the actions.
        status, anonymous = call(f"{base}/api/v1/stores/{STORE}/conversations", {})
        assert status == 201
        status, answer = call(
            f"{base}/api/v1/conversations/{anonymous['conversation_id']}/messages",
            {"text": f"where is order FZ-20931, my email is {PLAIN_EMAIL}"},
            anonymous["token"],
        )
        assert status == 200 and answer["messages"], answer

        # Were "/"-prefixed text with an email to reach Rasa itself (loopback only; the gateway
        # passes only offered buttons), Rasa's log would still not hold it: an unreadable entity
        # part, no intent at all, an intent it does not know.
        for text in (
            f'/inform{{"email": "{DIRECT_EMAIL}"}} {WORDS}',
            f'/{{"email": "{DIRECT_EMAIL}"}} {WORDS}',
            f'/no_such_intent{{"email": "{DIRECT_EMAIL}"}}',
            f'/inform{{"email": {DIRECT_EMAIL}}}',
        ):
            status, _ = call(f"{settings.rasa_url}/webhooks/rest/webhook", {"sender": "log-check", "message": text})
            assert status == 200

        # Staff emails are personal data too: an invitation and a path that holds an email.
        created = bot_cli(settings, "api-tokens", "create", "--store", STORE)
        assert created.returncode == 0, created.stderr
        seller = created.stdout.strip().splitlines()[0]
        status, invited = call(f"{base}/api/v1/seller/team", {"email": STAFF_EMAIL, "name": "New Hire"}, seller)
        assert status in (200, 201), invited
        status, removed = call(f"{base}/api/v1/seller/team/{STAFF_EMAIL}", token=seller, method="DELETE")
        assert status in (200, 204, 404), removed

    logs = all_logs(var_dir)
    leaked = [
        secret
        for secret in (
            ALEX,
            PLAIN_EMAIL,
            PAYLOAD_EMAIL,
            DIRECT_EMAIL,
            STAFF_EMAIL,
            "leak@",
            "leak%40",
            WORDS,
            "quokka",
            offered,
            offered.split("{", 1)[-1],
            "where is my order",
        )
        if secret.lower() in logs.lower()
    ]
    assert not leaked, (
        f"the logs hold {leaked}:\n"
        + "\n".join(line for line in logs.splitlines() if any(s.lower() in line.lower() for s in leaked))[:4000]
    )
