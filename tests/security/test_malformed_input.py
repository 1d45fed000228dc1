"""Item 10: input that used to answer 500 gets a 400 or 404 with a reason: numbers no database
column holds (``?after=``, a manual's id, a rollback's version), JSON nested deeper than the
parser's recursion, well-signed webhooks whose content is malformed, and header or cookie
bytes that are not UTF-8 (aiohttp hands them over as lone surrogates)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import Message, Store, StoreSettingsVersion, TrackingWebhookEvent
from bot.orders.importer import import_lines
from bot.seller.api_tokens import ApiTokens
from bot.shipping.tracking_updates import aftership_signature, simple_signature
from bot.support.accounts import AgentAccounts
from tests.security.conftest import GatewayFactory

Sessions = async_sessionmaker[AsyncSession]
STORE = "yangteng-auto"
SECRET = "malformed-input-webhook-secret"
HUGE = "9" * 30  # more than 64 bits
NESTED = "[" * 100_000 + "]" * 100_000
JSON = {"Content-Type": "application/json"}


async def conversation(client: TestClient) -> tuple[str, str]:
    response = await client.post(f"/api/v1/stores/{STORE}/conversations")
    assert response.status == 201
    started = await response.json()
    return started["conversation_id"], started["token"]


async def seller(sessions: Sessions) -> dict[str, str]:
    return {"Authorization": f"Bearer {await ApiTokens(sessions).create(STORE, 'malformed')}"}


async def refused(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status == status, await response.text()
    answer = await response.json()
    assert isinstance(answer.get("error"), str) and answer["error"], answer
    return answer


async def test_after_must_be_a_whole_number_a_database_holds(gateway: GatewayFactory) -> None:
    client = await gateway()
    cid, token = await conversation(client)
    auth = {"Authorization": f"Bearer {token}"}
    for after in (str(2**31), HUGE, "9" * 5000, "-1", "1e3", " 5", "٣"):
        answer = await refused(
            await client.get(f"/api/v1/conversations/{cid}/messages", params={"after": after}, headers=auth)
        )
        assert answer["field"] == "after", after
        # The websocket checks it before the upgrade: a plain 400 too.
        answer = await refused(await client.get(f"/api/v1/conversations/{cid}/ws", params={"token": token, "after": after}))
        assert answer["field"] == "after", after
    ok = await client.get(f"/api/v1/conversations/{cid}/messages", params={"after": str(2**31 - 1)}, headers=auth)
    assert ok.status == 200 and (await ok.json())["messages"] == []


async def test_a_manual_link_with_an_impossible_id_is_404(gateway: GatewayFactory) -> None:
    client = await gateway()
    for file_id in (str(2**31), HUGE, "9" * 5000, "-1", "1_0"):
        response = await client.get(f"/files/manuals/{file_id}/op-1001-0123456789ab.pdf")
        assert response.status == 404, file_id


async def test_a_rollback_version_must_be_a_version_number(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    client = await gateway()
    auth = {**await seller(demo_sessions), **JSON}
    for version in (2**31, 2**63, 10**30, -1, 1.5, "1", True):
        sent = json.dumps({"version": version})
        for path in ("/api/v1/seller/settings/rollback", "/api/v1/seller/products/OP-1001/guide/rollback"):
            answer = await refused(await client.post(path, data=sent, headers=auth))
            assert "version" in answer["error"], (path, version)
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StoreSettingsVersion)) == 0


async def test_a_version_out_of_range_is_404_not_a_crash(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    client = await gateway()
    auth = {**await seller(demo_sessions), **JSON}
    response = await client.post("/api/v1/seller/settings/rollback", data=json.dumps({"version": 2**31 - 1}), headers=auth)
    await refused(response, 404)


async def test_deeply_nested_json_is_refused_everywhere(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    async with demo_sessions() as session, session.begin():
        await session.execute(update(Store).where(Store.id == STORE).values(webhook_secret=SECRET))
    client = await gateway()
    cid, token = await conversation(client)
    bearer = {"Authorization": f"Bearer {token}", **JSON}
    sellers = {**await seller(demo_sessions), **JSON}
    for path, headers, method in (
        (f"/api/v1/stores/{STORE}/conversations", JSON, client.post),
        (f"/api/v1/conversations/{cid}/messages", bearer, client.post),
        ("/api/v1/seller/settings", sellers, client.patch),
        ("/api/v1/seller/team", sellers, client.post),
        ("/api/v1/seller/products/OP-1001/guide", sellers, client.put),
    ):
        answer = await refused(await method(path, data=NESTED, headers=headers))
        assert "nested" in answer["error"] or "JSON" in answer["error"], (path, answer)
    # Just past the limit, where the parser itself still copes, is refused by the check.
    deep = json.dumps({"templates": {"greeting": json.loads("[" * 40 + "]" * 40)}})
    answer = await refused(await client.patch("/api/v1/seller/settings", data=deep, headers=sellers))
    assert "nested" in answer["error"]
    raw = NESTED.encode()
    answer = await refused(
        await client.post(
            f"/webhooks/tracking/{STORE}", data=raw, headers={"X-Signature": simple_signature(SECRET, raw), **JSON}
        )
    )
    async with client.ws_connect(f"/api/v1/conversations/{cid}/ws?token={token}") as ws:
        await ws.send_str("[" * 5000 + "]" * 5000)
        frame = json.loads((await ws.receive(timeout=10)).data)
        assert frame["type"] == "error" and "nested" in frame["error"]
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 0
        assert await session.scalar(select(func.count()).select_from(TrackingWebhookEvent)) == 0


async def test_the_importer_reports_nesting_and_huge_numbers(demo_sessions: Sessions) -> None:
    report = await import_lines(
        demo_sessions,
        [
            NESTED,
            '{"type": "store", "id": "x", "name": "X", "review_delay_days": ' + HUGE + "}",
            '{"type": "store", "id": "y", "name": "Y", "n": ' + "9" * 5000 + "}",
        ],
    )
    assert [number for number, _ in report.errors] == [1, 2, 3]
    assert "nested" in report.errors[0][1]
    assert '"review_delay_days"' in report.errors[1][1] and "64 bits" in report.errors[1][1]


def _aftership(msg: Any, **extra: Any) -> Any:
    return {"event_id": "evt-bad", "msg": msg, **extra}


AFTERSHIP_MALFORMED = [
    ("a list body", [1, 2]),
    ("a number body", 7),
    ("msg is a list", _aftership([])),
    ("checkpoints is a number", _aftership({"tracking_number": "1Z", "tag": "InTransit", "checkpoints": 5})),
    ("checkpoints is an object", _aftership({"tracking_number": "1Z", "tag": "InTransit", "checkpoints": {"a": 1}})),
    ("a checkpoint is a list", _aftership({"tracking_number": "1Z", "tag": "InTransit", "checkpoints": [[1]]})),
    ("a tag is a number", _aftership({"tracking_number": "1Z", "tag": 3})),
    ("a tag is a list", _aftership({"tracking_number": "1Z", "tag": ["Delivered"]})),
    ("a tag is an object", _aftership({"tracking_number": "1Z", "tag": {"x": 1}})),
    (
        "a checkpoint tag is a list",
        _aftership(
            {
                "tracking_number": "1Z",
                "tag": "InTransit",
                "checkpoints": [{"checkpoint_time": "2026-11-20T10:00:00Z", "tag": []}],
            }
        ),
    ),
    (
        "a time is an int",
        _aftership(
            {
                "tracking_number": "1Z",
                "tag": "InTransit",
                "checkpoints": [{"checkpoint_time": 1700000000, "tag": "InTransit"}],
            }
        ),
    ),
    (
        "a time out of range",
        _aftership(
            {
                "tracking_number": "1Z",
                "tag": "InTransit",
                "checkpoints": [{"checkpoint_time": "0001-01-01T00:00:00+05:00", "tag": "InTransit"}],
            }
        ),
    ),
    ("a delivery date is a list", _aftership({"tracking_number": "1Z", "tag": "Delivered", "shipment_delivery_date": [1]})),
    ("a tracking number is a number", _aftership({"tracking_number": 12, "tag": "InTransit"})),
    ("a huge number", _aftership({"tracking_number": "1Z", "tag": "InTransit", "x": 10**30})),
]

SIMPLE_MALFORMED = [
    ("a list body", []),
    ("a string body", "hello"),
    ("events is a number", {"event_id": "e", "tracking_number": "1Z", "status": "InTransit", "events": 3}),
    ("an event is a list", {"event_id": "e", "tracking_number": "1Z", "status": "InTransit", "events": [[]]}),
    ("a status is a list", {"event_id": "e", "tracking_number": "1Z", "status": ["Delivered"]}),
    (
        "an event time is an int",
        {"event_id": "e", "tracking_number": "1Z", "status": "InTransit", "events": [{"time": 5, "tag": "InTransit"}]},
    ),
    (
        "a delivered_at out of range",
        {"event_id": "e", "tracking_number": "1Z", "status": "Delivered", "delivered_at": "9999-12-31T23:59:59-05:00"},
    ),
    (
        "an estimated delivery is an object",
        {"event_id": "e", "tracking_number": "1Z", "status": "InTransit", "estimated_delivery": {"d": 1}},
    ),
]


@pytest.fixture
async def signed_client(gateway: GatewayFactory, demo_sessions: Sessions) -> TestClient:
    async with demo_sessions() as session, session.begin():
        await session.execute(update(Store).where(Store.id == STORE).values(webhook_secret=SECRET))
    return await gateway()


async def test_a_signed_but_malformed_aftership_update_is_400(signed_client: TestClient, demo_sessions: Sessions) -> None:
    for what, payload in AFTERSHIP_MALFORMED:
        raw = json.dumps(payload).encode()
        response = await signed_client.post(
            f"/webhooks/tracking/aftership/{STORE}",
            data=raw,
            headers={"aftership-hmac-sha256": aftership_signature(SECRET, raw), **JSON},
        )
        assert response.status == 400, (what, await response.text())
        await refused(response)
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(TrackingWebhookEvent)) == 0


async def test_a_signed_but_malformed_simple_update_is_400(signed_client: TestClient, demo_sessions: Sessions) -> None:
    for what, payload in SIMPLE_MALFORMED:
        raw = json.dumps(payload).encode()
        response = await signed_client.post(
            f"/webhooks/tracking/{STORE}", data=raw, headers={"X-Signature": simple_signature(SECRET, raw), **JSON}
        )
        assert response.status == 400, (what, await response.text())
        await refused(response)
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(TrackingWebhookEvent)) == 0


async def _raw_request(client: TestClient, head: bytes) -> int:
    """Send a request's head as these exact bytes (an HTTP client would encode its headers itself)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(head + b"Host: test\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 30)
        return int(status_line.split()[1])
    finally:
        writer.close()


async def test_header_and_cookie_bytes_that_are_not_utf8(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    """aiohttp decodes header bytes as UTF-8 with surrogateescape: 0xE9 arrives as "\\udce9". Hashing or
    comparing such a token used to raise UnicodeEncodeError (500); now it is simply a wrong token."""
    async with demo_sessions() as session, session.begin():
        await session.execute(update(Store).where(Store.id == STORE).values(webhook_secret=SECRET))
    client = await gateway()
    cid, _ = await conversation(client)
    bad = b"\xe9\xff"
    assert (
        await _raw_request(
            client,
            b"GET /api/v1/conversations/" + cid.encode() + b"/messages HTTP/1.1\r\nAuthorization: Bearer " + bad + b"\r\n",
        )
        == 401
    )
    assert (
        await _raw_request(
            client,
            b"GET /api/v1/conversations/" + cid.encode() + b"/ws?token=x HTTP/1.1\r\nAuthorization: Bearer " + bad + b"\r\n",
        )
        == 401
    )
    assert (
        await _raw_request(
            client, b"GET /api/v1/seller/settings HTTP/1.1\r\nAuthorization: Bearer sk_store_" + bad + b"\r\n"
        )
        == 401
    )
    assert (
        await _raw_request(
            client, b"POST /webhooks/tracking/" + STORE.encode() + b" HTTP/1.1\r\nX-Signature: sha256=" + bad + b"\r\n"
        )
        == 401
    )
    assert (
        await _raw_request(
            client,
            b"POST /webhooks/tracking/aftership/" + STORE.encode() + b" HTTP/1.1\r\naftership-hmac-sha256: " + bad + b"\r\n",
        )
        == 401
    )
    for console in (b"agent", b"seller"):
        assert (
            await _raw_request(
                client, b"GET /" + console + b"/api/me HTTP/1.1\r\nCookie: " + console + b"_session=" + bad + b"\r\n"
            )
            == 401
        )
        assert (
            await _raw_request(
                client,
                b"POST /"
                + console
                + b"/api/login HTTP/1.1\r\n"
                + b"Cookie: "
                + console
                + b"_login_csrf="
                + bad
                + b"\r\nX-CSRF-Token: "
                + bad
                + b"x\r\n",
            )
            == 403
        )


async def test_an_invitation_id_no_column_holds_is_404(gateway: GatewayFactory, demo_sessions: Sessions) -> None:
    """The console's decline link takes up to 12 digits; past 2**31 - 1 it is no invitation (PostgreSQL
    refused the comparison: 500)."""
    assert await AgentAccounts(demo_sessions).add(
        "malformed@yangteng-auto.example", "Mal Formed", "a-long-password", [STORE]
    )
    client = await gateway()
    page = await client.get("/agent")
    csrf = page.cookies["agent_login_csrf"].value
    login = await client.post(
        "/agent/api/login",
        json={"email": "malformed@yangteng-auto.example", "password": "a-long-password"},
        headers={"X-CSRF-Token": csrf},
    )
    assert login.status == 200, await login.text()
    me = await login.json()
    for invitation_id in (str(2**31), "999999999999"):
        response = await client.post(
            f"/agent/api/invitations/{invitation_id}/decline", headers={"X-CSRF-Token": me["csrf_token"]}
        )
        await refused(response, 404)
