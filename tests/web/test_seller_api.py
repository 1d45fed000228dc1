"""The seller API through aiohttp's test client, on SQLite and PostgreSQL:
per-store tokens, settings with versions and rollback, order push, erasing a
shopper's data, and one store never reaching another's data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import CannedReply, Conversation, Message, Order, Photo, PhotoBlob, StoreSettingsVersion
from bot.guides.manuals import MAX_MANUAL_BYTES
from bot.guides.product_guides import MAX_STEP_CHARS, MAX_STEPS
from bot.photos.conversation_photos import ConversationPhotos
from bot.photos.storage import DatabaseStorage
from bot.seller.api_tokens import ApiTokens
from bot.seller.store_settings import StoreSettingsService
from bot.web.app import create_app
from bot.web.public_files import OPENAPI
from bot.web.seller_api import STORE_ROUTES
from tests.engine import engine_settings

Sessions = async_sessionmaker[AsyncSession]
STORE, OTHER = "yangteng-auto", "bloomkids-baby"
SPEC = yaml.safe_load(OPENAPI.read_text())


def conforms(body: Any, schema: str) -> None:
    def nullable(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: nullable(v) for k, v in node.items()}
            return {"anyOf": [{"type": "null"}, node]} if node.pop("nullable", False) else node
        return [nullable(v) for v in node] if isinstance(node, list) else node

    jsonschema.validate(body, nullable({**SPEC["components"]["schemas"][schema], "components": SPEC["components"]}))


@pytest.fixture
async def client(demo_sessions: Sessions, tmp_path: Path) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(engine_settings(tmp_path), demo_sessions)))
    await client.start_server()
    yield client
    await client.close()


async def token(sessions: Sessions, store: str = STORE) -> dict[str, str]:
    return {"Authorization": f"Bearer {await ApiTokens(sessions).create(store, 'test')}"}


async def test_every_endpoint_wants_a_live_token_of_its_own_store(client: TestClient, demo_sessions: Sessions) -> None:
    tokens = ApiTokens(demo_sessions)
    live = await tokens.create(STORE, "ERP")
    revoked = await tokens.create(STORE, "old laptop")
    [info] = [t for t in await tokens.list(STORE) if t.label == "old laptop"]
    assert await tokens.revoke(STORE, info.fingerprint) == 1
    assert await tokens.revoke(OTHER, (await tokens.list(STORE))[0].fingerprint) == 0  # not the other store's to revoke
    for headers in (
        {},
        {"Authorization": "Bearer sk_store_nope"},
        {"Authorization": f"Bearer {revoked}"},
        {"Authorization": f"Basic {live}"},
        {"Authorization": f"Bearer {live}x"},
    ):
        store_routes = [
            (
                method,
                "/api/v1/seller"
                + path.format(sku="OP-1001", kind="webhook", email="lin.wei@yangteng-auto.example", job_id="1"),
            )
            for method, path, _ in STORE_ROUTES
        ]
        for method, path in [
            ("GET", "/api/v1/seller/settings"),
            ("PATCH", "/api/v1/seller/settings"),
            ("GET", "/api/v1/seller/settings/history"),
            ("POST", "/api/v1/seller/settings/rollback"),
            ("POST", "/api/v1/seller/imports"),
            *store_routes,
        ]:
            response = await client.request(method, path, headers=headers, json={})
            assert response.status == 401, (method, path, headers)
            assert "token" in (await response.json())["error"]
    assert (await client.get("/api/v1/seller/settings", headers={"Authorization": f"Bearer {live}"})).status == 200


async def test_settings_round_trip_with_versions_and_rollback(client: TestClient, demo_sessions: Sessions) -> None:
    auth = await token(demo_sessions)
    first = await (await client.get("/api/v1/seller/settings", headers=auth)).json()
    conforms(first, "SettingsVersion")
    assert first["version"] == 0 and "{order_number}" in first["settings"]["templates"]["delivery_confirmation"]
    assert "order_number" in first["placeholders"]["delivery_confirmation"]

    changed = await client.patch(
        "/api/v1/seller/settings",
        headers=auth,
        json={
            "templates": {"review_thanks": "谢谢 {shopper_first_name}！"},
            "review": {"delay_days": 12},
        },
    )
    assert changed.status == 200
    body = await changed.json()
    conforms(body, "SettingsVersion")
    assert (body["version"], body["changed_by"]) == (1, "seller API")
    assert body["settings"]["templates"]["review_thanks"] == "谢谢 {shopper_first_name}！"

    bad = await client.patch(
        "/api/v1/seller/settings",
        headers=auth,
        json={
            "templates": {"greeting": "Hi {shopper.__dict__}"},
            "review": {"delay_days": 20},
        },
    )
    assert bad.status == 400
    error = await bad.json()
    assert error["field"] == "templates.greeting" and error["error"].startswith("nothing saved")
    # The words before the refusal's own English, said apart: a console shows the rest beside the field.
    assert error["context"] == "nothing saved: templates.greeting: " and error["error"].startswith(error["context"])
    assert (await StoreSettingsService(demo_sessions).current(STORE)).settings["review"]["delay_days"] == 12
    assert (await client.patch("/api/v1/seller/settings", headers=auth, data="{nope")).status == 400

    history = await (await client.get("/api/v1/seller/settings/history", headers=auth)).json()
    assert [(v["version"], v["summary"]) for v in history["versions"]] == [
        (1, "changed templates.review_thanks, review.delay_days"),
        (0, "as imported"),
    ]
    # Beside the English, the code and params a client words in its own language.
    assert [(v["summary_code"], v["summary_params"]) for v in history["versions"]] == [
        ("changed", {"fields": ["templates.review_thanks", "review.delay_days"]}),
        ("as_imported", {}),
    ]
    back = await client.post("/api/v1/seller/settings/rollback", headers=auth, json={"version": 0})
    assert back.status == 200 and (await back.json())["settings"]["review"]["delay_days"] == 7
    rolled_back = await back.json()
    assert (rolled_back["summary_code"], rolled_back["summary_params"]) == ("rolled_back", {"version": 0})
    assert (await client.post("/api/v1/seller/settings/rollback", headers=auth, json={"version": 7})).status == 404
    assert (await client.post("/api/v1/seller/settings/rollback", headers=auth, json={"version": "1"})).status == 400


async def test_one_stores_token_never_changes_another_store(client: TestClient, demo_sessions: Sessions) -> None:
    auth = await token(demo_sessions, STORE)
    await client.patch("/api/v1/seller/settings", headers=auth, json={"templates": {"greeting": "Yangteng says hi"}})
    other = await StoreSettingsService(demo_sessions).current(OTHER)
    assert other.version == 0 and other.template("greeting") != "Yangteng says hi"
    async with demo_sessions() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(StoreSettingsVersion).where(StoreSettingsVersion.store_id == OTHER)
            )
            == 0
        )
    # Lines naming another store are refused, and nothing reaches it.
    push = await client.post(
        "/api/v1/seller/imports",
        headers=auth,
        data=json.dumps({"type": "canned_reply", "store": OTHER, "title": "Hijack", "text": "x"}) + "\n",
    )
    assert push.status == 422
    assert (await push.json())["errors"] == [{"line": 1, "error": "this token's store only"}]
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CannedReply).where(CannedReply.title == "Hijack")) == 0


async def test_pushing_orders_imports_the_good_lines_and_names_the_bad_ones(
    client: TestClient, demo_sessions: Sessions
) -> None:
    auth = await token(demo_sessions)
    order = {
        "type": "order",
        "order_number": "FZ-30001",
        "placed_at": "2026-11-26T10:00:00Z",
        "status": "processing",
        "shopper": {"name": "Sam Rivera", "email": "sam@example.com"},
        "shipping": {"postcode": "94110", "country": "US"},
        "items": [{"sku": "OP-1001", "name": "Aluminium oil pan", "quantity": 1}],
    }
    body = "\n".join(
        [
            json.dumps(order),
            "{not json",
            json.dumps({"type": "store", "id": STORE, "name": "Renamed", "webhook_secret": "mine now"}),
            json.dumps({"type": "agent", "email": "x@y.z", "name": "X", "stores": [STORE]}),
            json.dumps({**order, "order_number": "FZ-30002", "status": "teleported"}),
            json.dumps({"type": "canned_reply", "title": "Holiday hours", "text": "We're back on Monday."}),
        ]
    )
    response = await client.post("/api/v1/seller/imports", headers=auth, data=body)
    assert response.status == 422
    report = await response.json()
    conforms(report, "PushReport")
    assert report["imported"]["order"] == 1 and report["imported"]["canned_reply"] == 1
    assert [e["line"] for e in report["errors"]] == [2, 3, 4, 5]
    assert "cannot be pushed" in report["errors"][1]["error"] and "status" in report["errors"][3]["error"]
    async with demo_sessions() as session:
        assert await session.scalar(select(Order.store_id).where(Order.order_number == "FZ-30001")) == STORE
        assert await session.scalar(select(func.count()).select_from(Order).where(Order.order_number == "FZ-30002")) == 0
    clean = await client.post("/api/v1/seller/imports", headers=auth, data=json.dumps(order) + "\n")
    assert clean.status == 200 and (await clean.json())["errors"] == []


def pdf(body: bytes = b"1 0 obj << /Type /Catalog >> endobj") -> bytes:
    return b"%PDF-1.7\n" + body + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def test_a_pdf_manual_upload_becomes_the_products_link_and_is_served(
    client: TestClient, demo_sessions: Sessions
) -> None:
    from bot.core.models import Product

    auth = await token(demo_sessions)
    upload = await client.post(
        "/api/v1/seller/products/OP-1001/manual", headers={**auth, "Content-Type": "application/pdf"}, data=pdf()
    )
    assert upload.status == 201, await upload.text()
    url = (await upload.json())["manual_url"]
    path = "/" + url.split("/", 3)[3]
    assert path.startswith("/files/manuals/") and path.endswith(".pdf")
    async with demo_sessions() as session:
        assert (
            await session.scalar(select(Product.manual_url).where(Product.store_id == STORE, Product.sku == "OP-1001"))
            == url
        )
    served = await client.get(path)
    assert served.status == 200 and await served.read() == pdf()
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["Content-Security-Policy"] == "sandbox"
    assert (await client.get(path.replace(".pdf", "0.pdf"))).status == 404  # the name must match exactly
    file_id = int(path.split("/")[3])
    assert (await client.get(f"/files/manuals/{file_id + 1}/x.pdf")).status == 404


@pytest.mark.parametrize(
    "content_type, body, status, words",
    [
        ("image/png", b"\x89PNG\r\n\x1a\n", 415, "application/pdf"),
        ("application/pdf", b"<script>alert(1)</script>", 415, "not a PDF"),
        ("application/pdf", b"%PDF-1.7 but cut short", 415, "not a PDF"),
        ("application/pdf", b"", 400, "empty"),
        ("application/pdf", pdf(b"x" * (10 * 1024 * 1024)), 413, "at most 10 MB"),
    ],
)
async def test_a_manual_that_is_not_a_small_pdf_is_refused_and_nothing_changes(
    client: TestClient, demo_sessions: Sessions, content_type: str, body: bytes, status: int, words: str
) -> None:
    from bot.core.models import ManualFile, Product

    auth = await token(demo_sessions)
    response = await client.post(
        "/api/v1/seller/products/OP-1001/manual", headers={**auth, "Content-Type": content_type}, data=body
    )
    assert response.status == status and words in (await response.json())["error"]
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ManualFile)) == 0
        assert (await session.scalar(select(Product.manual_url).where(Product.sku == "OP-1001"))).endswith("op-1001.pdf")


async def test_a_manual_for_another_stores_product_is_refused(client: TestClient, demo_sessions: Sessions) -> None:
    auth = await token(demo_sessions, STORE)
    bloomkids_sku = "BK-CR100"  # a real BloomKids product
    response = await client.post(
        f"/api/v1/seller/products/{bloomkids_sku}/manual", headers={**auth, "Content-Type": "application/pdf"}, data=pdf()
    )
    assert response.status == 404


async def test_rotating_the_webhook_secret_keeps_the_old_one_for_the_grace_period_only(
    client: TestClient, demo_sessions: Sessions
) -> None:
    import base64
    import datetime as dt
    import hashlib
    import hmac

    from sqlalchemy import update

    from bot.core.models import Store

    async with demo_sessions() as session, session.begin():
        await session.execute(update(Store).where(Store.id == STORE).values(webhook_secret="old-secret"))
    auth = await token(demo_sessions)

    def signed(secret: str, event: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {"event_id": event, "msg": {"tracking_number": "9400111899223100000000", "tag": "InTransit", "checkpoints": []}}
        ).encode()
        digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        return body, {"aftership-hmac-sha256": digest, "Content-Type": "application/json"}

    rotated = await client.post("/api/v1/seller/secrets/webhook/rotate", headers=auth, json={"grace_hours": 2})
    assert rotated.status == 200 and rotated.headers["Cache-Control"] == "no-store"
    body = await rotated.json()
    new_secret = body["secret"]
    assert len(new_secret) == 64 and body["previous_valid_until"]
    for secret, event in ((new_secret, "e-new"), ("old-secret", "e-old")):
        data, headers = signed(secret, event)
        assert (await client.post(f"/webhooks/tracking/aftership/{STORE}", data=data, headers=headers)).status == 200
    data, headers = signed("never-was", "e-forged")
    assert (await client.post(f"/webhooks/tracking/aftership/{STORE}", data=data, headers=headers)).status == 401
    # After the grace period the old secret is refused.
    async with demo_sessions() as session, session.begin():
        await session.execute(
            update(Store)
            .where(Store.id == STORE)
            .values(webhook_secret_previous_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    data, headers = signed("old-secret", "e-late")
    assert (await client.post(f"/webhooks/tracking/aftership/{STORE}", data=data, headers=headers)).status == 401
    assert (await client.post("/api/v1/seller/secrets/password/rotate", headers=auth, json={})).status == 404
    assert (
        await client.post("/api/v1/seller/secrets/webhook/rotate", headers=auth, json={"grace_hours": 999})
    ).status == 400


async def test_rotating_the_shopper_secret_keeps_signed_in_shoppers_signed_in(
    client: TestClient, demo_sessions: Sessions
) -> None:
    from bot.chat.conversations import ConversationService
    from tests.conftest import signed_shopper

    conversations = ConversationService(demo_sessions)
    await conversations.ensure_shopper_secrets()
    old = await conversations.shopper_secret(STORE)
    assert old
    auth = await token(demo_sessions)
    new = (await (await client.post("/api/v1/seller/secrets/shopper/rotate", headers=auth)).json())["secret"]
    for secret in (old, new):
        response = await client.post(
            f"/api/v1/stores/{STORE}/conversations", json={"shopper": signed_shopper(secret, "alex@example.com")}
        )
        assert response.status == 201
    other = await conversations.shopper_secret(OTHER)
    response = await client.post(
        f"/api/v1/stores/{STORE}/conversations", json={"shopper": signed_shopper(other or "x", "alex@example.com")}
    )
    assert response.status == 401  # another store's key never signs for this one


async def test_the_team_is_managed_per_store(client: TestClient, demo_sessions: Sessions) -> None:
    from sqlalchemy import update

    from bot.chat.conversations import ConversationService
    from bot.core.models import Agent, Conversation, Escalation
    from bot.support.accounts import AgentAccounts
    from bot.support.console_sessions import ConsoleSessions
    from bot.support.escalations import EscalationService
    from bot.support.staff_invitations import StaffInvitations

    auth = await token(demo_sessions)
    team = await (await client.get("/api/v1/seller/team", headers=auth)).json()
    assert {m["email"] for m in team["team"]} == {
        "lin.wei@yangteng-auto.example",
        "wang.fang@yangteng-auto.example",
    }  # this store's people only

    added = await client.post("/api/v1/seller/team", headers=auth, json={"email": "Sam@Yangteng.example", "name": "Sam Lee"})
    assert added.status == 201 and added.headers["Cache-Control"] == "no-store"
    invited = await added.json()
    conforms(invited, "TeamInvitationSent")
    assert (invited["email"], invited["role"], invited["status"]) == ("sam@yangteng.example", "agent", "invited")
    assert "password" not in invited
    assert invited["invitation_url"].startswith("http://127.0.0.1:") and "/agent#invitation=" in invited["invitation_url"]
    team = await (await client.get("/api/v1/seller/team", headers=auth)).json()
    assert "sam@yangteng.example" not in {m["email"] for m in team["team"]}  # invited, not yet a member
    [pending] = team["invitations"]
    conforms(pending, "TeamInvitation")
    assert (pending["email"], pending["invited_by"]) == ("sam@yangteng.example", "seller API")
    # Sam follows the link and chooses a password: now a member.
    accounts = AgentAccounts(demo_sessions)
    invitations = StaffInvitations(demo_sessions, ConsoleSessions(demo_sessions))
    joined = await invitations.join(invited["invitation_url"].split("#invitation=")[1], "sams-own-password", "", "127.0.0.1")
    assert joined is not None and [s.id for s in joined[0].stores] == [STORE] and joined[0].name == "Sam Lee"
    assert await accounts.password_works("sam@yangteng.example", "sams-own-password")
    again = await client.post(
        "/api/v1/seller/team", headers=auth, json={"email": "sam@yangteng.example", "name": "Sam", "role": "seller_admin"}
    )
    assert again.status == 200  # already on this team: the role changes, nothing else
    conforms(await again.json(), "TeamMember")
    members = (await (await client.get("/api/v1/seller/team", headers=auth)).json())["team"]
    assert {m["email"]: m["role"] for m in members}["sam@yangteng.example"] == "seller_admin"
    assert await accounts.password_works("sam@yangteng.example", "sams-own-password")
    assert (
        await client.post("/api/v1/seller/team", headers=auth, json={"email": "x@y.z", "name": "X", "role": "root"})
    ).status == 400

    # Sam holds a conversation; removing Sam sends it back to the queue.
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    await EscalationService(demo_sessions).record(chat.conversation_id, "damaged", "cracked")
    async with demo_sessions() as session, session.begin():
        sam = await session.scalar(select(Agent.id).where(Agent.email == "sam@yangteng.example"))
        await session.execute(update(Conversation).where(Conversation.id == chat.conversation_id).values(handled_by=sam))
        await session.execute(update(Escalation).values(status="claimed", claimed_by=sam))
    other = await token(demo_sessions, OTHER)
    assert (await client.delete("/api/v1/seller/team/sam@yangteng.example", headers=other)).status == 404  # not theirs
    assert (await client.delete("/api/v1/seller/team/sam@yangteng.example", headers=auth)).status == 204
    async with demo_sessions() as session:
        assert await session.scalar(select(Conversation.handled_by).where(Conversation.id == chat.conversation_id)) is None
        assert await session.scalar(select(Escalation.status)) == "open"
    assert (await client.delete("/api/v1/seller/team/sam@yangteng.example", headers=auth)).status == 404


# --- product guides ---


async def test_a_guide_change_is_saved_versioned_and_restorable(client: TestClient, demo_sessions: Sessions) -> None:
    from bot.guides.in_chat import GuideService

    auth = await token(demo_sessions)
    listed = await (await client.get("/api/v1/seller/products", headers=auth)).json()
    for product in listed["products"]:
        conforms(product, "ProductGuide")
    # The limits a change is checked against, sent so that a client (the console) need not repeat them.
    assert listed["limits"] == {
        "max_steps": MAX_STEPS,
        "max_step_chars": MAX_STEP_CHARS,
        "max_manual_bytes": MAX_MANUAL_BYTES,
    }
    [oil_pan] = [p for p in listed["products"] if p["sku"] == "OP-1001"]
    assert oil_pan["version"] == 0 and oil_pan["install_steps"]
    assert not [p for p in listed["products"] if p["sku"].startswith("BK-")]  # this store's products only
    imported = {k: oil_pan[k] for k in ("manual_url", "video_url", "install_steps")}

    changed = await client.put(
        "/api/v1/seller/products/OP-1001/guide",
        headers=auth,
        json={"video_url": " https://videos.example/op-1001-v2 ", "install_steps": ["Drain the oil.", "  Fit   the pan. "]},
    )
    assert changed.status == 200, await changed.text()
    guide = await changed.json()
    assert guide["version"] == 1 and guide["video_url"] == "https://videos.example/op-1001-v2"
    assert guide["install_steps"] == ["Drain the oil.", "Fit the pan."] and guide["manual_url"] == imported["manual_url"]
    # What the chat reads, at once: no restart.
    [product] = [p for p in await GuideService(demo_sessions).products(STORE) if p.sku == "OP-1001"]
    assert (product.video_url, product.install_steps) == (
        "https://videos.example/op-1001-v2",
        ["Drain the oil.", "Fit the pan."],
    )

    history = await (await client.get("/api/v1/seller/products/OP-1001/guide/history", headers=auth)).json()
    assert [(v["version"], v["changed_by"], v["summary"]) for v in history["versions"]] == [
        (1, "seller API", "changed video_url, install_steps"),
        (0, None, "as imported"),
    ]
    assert [(v["summary_code"], v["summary_params"]) for v in history["versions"]] == [
        ("changed", {"fields": ["video_url", "install_steps"]}),
        ("as_imported", {}),
    ]
    assert history["versions"][1]["guide"] == imported

    restored = await client.post("/api/v1/seller/products/OP-1001/guide/rollback", headers=auth, json={"version": 0})
    assert restored.status == 200
    body = await restored.json()
    assert body["version"] == 2 and {k: body[k] for k in imported} == imported
    assert (
        await client.post("/api/v1/seller/products/OP-1001/guide/rollback", headers=auth, json={"version": 9})
    ).status == 404
    assert (
        await client.post("/api/v1/seller/products/OP-1001/guide/rollback", headers=auth, json={"version": "1"})
    ).status == 400

    # The uploaded manual is a version too.
    upload = await client.post(
        "/api/v1/seller/products/OP-1001/manual", headers={**auth, "Content-Type": "application/pdf"}, data=pdf()
    )
    assert upload.status == 201
    latest = (await (await client.get("/api/v1/seller/products/OP-1001/guide/history", headers=auth)).json())["versions"][0]
    assert latest["version"] == 3 and latest["summary"].startswith("uploaded the manual op-1001-")
    assert latest["summary_code"] == "manual_uploaded"
    assert latest["summary_params"] == {"name": latest["summary"].removeprefix("uploaded the manual ")}
    restored_entry = (await (await client.get("/api/v1/seller/products/OP-1001/guide/history", headers=auth)).json())[
        "versions"
    ][1]
    assert (restored_entry["summary_code"], restored_entry["summary_params"]) == ("restored", {"version": 0})
    assert latest["guide"]["manual_url"] == (await upload.json())["manual_url"]


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"video_url": "javascript:alert(1)"}, "video_url", "http(s) link"),
        ({"manual_url": "https://x.example/a b.pdf"}, "manual_url", "spaces"),
        ({"manual_url": "https://x.example/" + "a" * 1000}, "manual_url", "at most 1,000"),
        ({"install_steps": "Drain the oil."}, "install_steps", "list of texts"),
        ({"install_steps": ["Drain the oil.", "   "]}, "install_steps", "step 2 is empty"),
        ({"install_steps": ["step"] * 51}, "install_steps", "at most 50"),
        ({"install_steps": ["x" * 1001]}, "install_steps", "longer than 1,000"),
        ({"video_url": "https://videos.example/ok", "price": 1}, "price", "not part of a guide"),
        ({}, "guide", "send an object"),
    ],
)
async def test_a_bad_guide_change_saves_nothing(
    client: TestClient, demo_sessions: Sessions, change: dict[str, Any], field: str, words: str
) -> None:
    from bot.core.models import ProductGuideVersion

    auth = await token(demo_sessions)
    before = await (await client.get("/api/v1/seller/products/OP-1001/guide", headers=auth)).json()
    response = await client.put("/api/v1/seller/products/OP-1001/guide", headers=auth, json=change)
    assert response.status == 400
    body = await response.json()
    assert body["field"] == field and words in body["error"] and body["error"].startswith("nothing saved")
    assert await (await client.get("/api/v1/seller/products/OP-1001/guide", headers=auth)).json() == before
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ProductGuideVersion)) == 0


async def test_another_stores_products_are_not_found(client: TestClient, demo_sessions: Sessions) -> None:
    from bot.core.models import Product

    auth = await token(demo_sessions, STORE)
    for method, path, body in (
        ("GET", "/api/v1/seller/products/BK-CR100/guide", None),
        ("PUT", "/api/v1/seller/products/BK-CR100/guide", {"video_url": "https://evil.example/v"}),
        ("GET", "/api/v1/seller/products/BK-CR100/guide/history", None),
        ("POST", "/api/v1/seller/products/BK-CR100/guide/rollback", {"version": 0}),
    ):
        response = await client.request(method, path, headers=auth, json=body)
        assert response.status == 404, (method, path)
    async with demo_sessions() as session:
        assert (
            await session.scalar(select(Product.video_url).where(Product.store_id == OTHER, Product.sku == "BK-CR100"))
            != "https://evil.example/v"
        )


async def test_the_secret_status_never_shows_a_secret(client: TestClient, demo_sessions: Sessions) -> None:
    from bot.chat.conversations import ConversationService

    await ConversationService(demo_sessions).ensure_shopper_secrets()
    auth = await token(demo_sessions)
    before = await (await client.get("/api/v1/seller/secrets", headers=auth)).json()
    assert before["shopper"] == {"set": True, "previous_valid_until": None}
    rotated = await (
        await client.post("/api/v1/seller/secrets/shopper/rotate", headers=auth, json={"grace_hours": 1})
    ).json()
    after = await client.get("/api/v1/seller/secrets", headers=auth)
    text = await after.text()
    assert rotated["secret"] not in text
    body = json.loads(text)
    assert body["shopper"]["previous_valid_until"] == rotated["previous_valid_until"]
    assert set(body) == {"shopper", "webhook"}


async def test_the_history_of_a_store_never_changed_is_its_version_0(client: TestClient, demo_sessions: Sessions) -> None:
    """The seller API and the seller console share one history handler: a store never changed
    has one version, 0 (as imported), and it is the current one."""
    auth = await token(demo_sessions, OTHER)
    history = await (await client.get("/api/v1/seller/settings/history", headers=auth)).json()
    assert history["current"] == 0
    assert [(v["version"], v["summary"]) for v in history["versions"]] == [(0, "as imported")]
    refused = await client.post("/api/v1/seller/settings/rollback", headers=auth, json={})
    assert refused.status == 400 and (await refused.json())["field"] == "version"


# --- erasing a shopper's data ---

ERASED = "erase.me@example.com"


async def a_shopper_at_both_stores(sessions: Sessions) -> dict[str, str]:
    """ERASED's conversation at each store, with a message and a photo kept in the database: store to photo id."""
    async with sessions() as session, session.begin():
        for store in (STORE, OTHER):
            session.add(Conversation(id=f"erase-{store}", store_id=store, shopper_email=ERASED, last_seq=1))
            await session.flush()
            session.add(Message(store_id=store, conversation_id=f"erase-{store}", seq=1, sender="shopper", text="hi"))
    photos = ConversationPhotos(sessions, DatabaseStorage(sessions))
    prepared = SimpleNamespace(jpeg=b"\xff\xd8 jpeg", thumbnail=b"\xff\xd8 thumb", width=10, height=10)
    return {store: (await photos.add(store, f"erase-{store}", "shopper", prepared)).id for store in (STORE, OTHER)}


async def test_a_seller_erases_a_shopper_of_their_store_only(
    client: TestClient, demo_sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    photo_of = await a_shopper_at_both_stores(demo_sessions)
    path = f"/api/v1/stores/{STORE}/erasures"
    # Another store's token names this store in vain: unknown to it, and nothing is erased.
    refused = await client.post(path, headers=await token(demo_sessions, OTHER), json={"email": ERASED})
    assert refused.status == 404 and (await refused.json())["code"] == "store_unknown"
    assert (await client.post(path, json={"email": ERASED})).status == 401
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Photo)) == 2

    with caplog.at_level("INFO"):
        erased = await client.post(path, headers=await token(demo_sessions), json={"email": ERASED.upper()})
    assert erased.status == 200 and erased.headers["Cache-Control"] == "no-store"
    body = await erased.json()
    assert body == {"conversations": 1, "photos": 1, "reviews": 0}
    response = SPEC["paths"]["/api/v1/stores/{store_id}/erasures"]["post"]["responses"]["200"]
    jsonschema.validate(body, response["content"]["application/json"]["schema"])
    assert "erased a shopper's data" in caplog.text and ERASED not in caplog.text.lower()

    async with demo_sessions() as session:
        assert set(await session.scalars(select(Conversation.store_id).where(Conversation.shopper_email == ERASED))) == {
            OTHER
        }
        assert set(await session.scalars(select(Photo.id))) == {photo_of[OTHER]}
        assert {key.split(".")[0] for key in await session.scalars(select(PhotoBlob.key))} == {photo_of[OTHER]}
    again = await client.post(path, headers=await token(demo_sessions), json={"email": ERASED})
    assert await again.json() == {"conversations": 0, "photos": 0, "reviews": 0}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "body_not_json"),
        (b'{"email": 42}', "erasure_email_invalid"),
        (b'{"email": "not an address"}', "erasure_email_invalid"),
        (b'{"mail": "erase.me@example.com"}', "erasure_email_invalid"),
        (b'["erase.me@example.com"]', "erasure_email_invalid"),
    ],
)
async def test_an_erasure_without_an_email_address_is_a_400_that_erases_nothing(
    client: TestClient, demo_sessions: Sessions, body: bytes, code: str
) -> None:
    await a_shopper_at_both_stores(demo_sessions)
    response = await client.post(
        f"/api/v1/stores/{STORE}/erasures",
        headers={**await token(demo_sessions), "Content-Type": "application/json"},
        data=body,
    )
    assert response.status == 400
    refusal = await response.json()
    conforms(refusal, "Error")
    assert refusal["code"] == code
    if code == "erasure_email_invalid":
        assert (refusal["field"], refusal["params"]) == ("email", {"max": 320})
    async with demo_sessions() as session:
        assert (
            await session.scalar(select(func.count()).select_from(Conversation).where(Conversation.shopper_email == ERASED))
            == 2
        )
