"""Item 1: one store can never take over, or learn about, another store's staff account.

The attack from the issue, through the HTTP API: store B's admin creates
``newhire@a-store.example``; later store A adds that email to its team. A's addition must not
attach A's membership to the account B set up: B must not be able to sign in and read A's
queue. A's answer must be the same whether or not the email exists elsewhere, and an account
left without a store cannot sign in. SQLite and PostgreSQL (the ``demo_sessions`` fixture).
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp.test_utils import TestClient

from bot.chat.conversations import ConversationService, NewMessage
from bot.seller.api_tokens import ApiTokens
from bot.support.accounts import AgentAccounts
from bot.support.escalations import EscalationService
from tests.security.conftest import GatewayFactory

A, B = "yangteng-auto", "bloomkids-baby"
NEWHIRE = "newhire@a-store.example"


async def seller_api(demo_sessions, store: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {await ApiTokens(demo_sessions).create(store, 'team admin')}"}


async def login_csrf(client: TestClient, console: str = "agent") -> str:
    page = await client.get(f"/{console}")
    assert page.status == 200
    return page.cookies[f"{console}_login_csrf"].value


async def sign_in(client: TestClient, email: str, password: str, console: str = "agent") -> tuple[int, dict[str, Any]]:
    response = await client.post(
        f"/{console}/api/login",
        json={"email": email, "password": password},
        headers={"X-CSRF-Token": await login_csrf(client, console)},
    )
    return response.status, await response.json()


async def follow_link(client: TestClient, url: str, password: str, name: str = "") -> tuple[int, dict[str, Any]]:
    """What the console does with an invitation link: read the fragment's token, answer with a password."""
    console = url.split("://", 1)[1].split("/", 1)[1].split("#", 1)[0]
    token = url.split("#invitation=", 1)[1]
    csrf = await login_csrf(client, console)
    shown = await client.post(f"/{console}/api/invitation", json={"token": token}, headers={"X-CSRF-Token": csrf})
    assert shown.status == 200, await shown.text()
    response = await client.post(
        f"/{console}/api/join", json={"token": token, "password": password, "name": name}, headers={"X-CSRF-Token": csrf}
    )
    return response.status, await response.json()


async def escalated_conversation(demo_sessions, store: str) -> str:  # type: ignore[no-untyped-def]
    conversations = ConversationService(demo_sessions)
    chat, _ = await conversations.start(store)  # an anonymous shopper is enough here
    await conversations.append(chat, [NewMessage("shopper", "my parcel is lost, a person please")])
    assert await EscalationService(demo_sessions).record(chat.conversation_id, "shopper_request", "a person please")
    return chat.conversation_id


async def test_a_store_cannot_take_over_an_account_another_store_adds(gateway: GatewayFactory, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    attacker = await gateway()  # store B's admin, and then "newhire" as B set it up
    newhire = await gateway()  # the real person A hires
    a_admin, b_admin = await seller_api(demo_sessions, A), await seller_api(demo_sessions, B)
    a_conversation = await escalated_conversation(demo_sessions, A)

    # B creates the account first. B is never shown a password: only a link to pass on.
    by_b = await attacker.post("/api/v1/seller/team", headers=b_admin, json={"email": NEWHIRE, "name": "New Hire"})
    assert by_b.status == 201
    b_invite = await by_b.json()
    assert "password" not in b_invite
    # B follows its own link and chooses a password: the account is B's.
    status, _ = await follow_link(attacker, b_invite["invitation_url"], "b-knows-this-password")
    assert status == 200

    # A adds the same email, as a seller admin. The answer is the one for a brand-new email.
    by_a = await newhire.post(
        "/api/v1/seller/team", headers=a_admin, json={"email": NEWHIRE, "name": "New Hire", "role": "seller_admin"}
    )
    fresh = await newhire.post(
        "/api/v1/seller/team",
        headers=a_admin,
        json={"email": "nobody.yet@a-store.example", "name": "Nobody Yet", "role": "seller_admin"},
    )
    assert by_a.status == fresh.status == 201
    a_invite, fresh_invite = await by_a.json(), await fresh.json()
    assert set(a_invite) == set(fresh_invite) and set(a_invite["invitation"]) == set(fresh_invite["invitation"])
    assert a_invite["status"] == fresh_invite["status"] == "invited" and "password" not in a_invite
    assert {type(v) for v in a_invite.values()} == {type(v) for v in fresh_invite.values()}
    # A's team has no new member: the email is only invited.
    team = await (await newhire.get("/api/v1/seller/team", headers=a_admin)).json()
    assert NEWHIRE not in {m["email"] for m in team["team"]}
    assert NEWHIRE in {i["email"] for i in team["invitations"]}

    # B signs in as the account it set up: still B's store only; A's queue, conversation,
    # secrets stay out of reach, in both consoles.
    status, me = await sign_in(attacker, NEWHIRE, "b-knows-this-password")
    assert status == 200 and [s["id"] for s in me["agent"]["stores"]] == [B]
    csrf = me["csrf_token"]
    queue = await attacker.get("/agent/api/queue")
    assert queue.status == 200 and a_conversation not in await queue.text()
    assert (await attacker.get(f"/agent/api/conversations/{a_conversation}")).status == 404
    # B sees that an invitation waits, but cannot accept it without the link A gave its person.
    waiting = await (await attacker.get("/agent/api/invitations")).json()
    assert [i["store"]["id"] for i in waiting["invitations"]] == [A]
    for token in ("", "guess", secrets.token_urlsafe(32), b_invite["invitation_url"].split("#invitation=")[1]):
        refused = await attacker.post("/agent/api/invitations/accept", json={"token": token}, headers={"X-CSRF-Token": csrf})
        assert refused.status in (400, 404)
    status, me = await sign_in(attacker, NEWHIRE, "b-knows-this-password", console="seller")
    assert status == 200 and me["agent"]["stores"] == []
    assert (await attacker.get(f"/seller/api/stores/{A}/secrets")).status == 404
    assert (await attacker.get(f"/seller/api/stores/{A}/team")).status == 404

    # The real person opens A's link. The account under their email is B's: without its password
    # they cannot get in, and nothing of B's account changes (no password or name is set).
    status, body = await follow_link(newhire, a_invite["invitation_url"], "my-own-new-password", name="Real Person")
    assert status == 401, body
    assert await AgentAccounts(demo_sessions).password_works(NEWHIRE, "b-knows-this-password")
    status, _ = await sign_in(attacker, NEWHIRE, "b-knows-this-password")
    assert status == 200
    assert [s["id"] for s in (await (await attacker.get("/agent/api/me")).json())["agent"]["stores"]] == [B]

    # A withdraws the invitation; the link is dead.
    assert (await newhire.delete(f"/api/v1/seller/team/{NEWHIRE}", headers=a_admin)).status == 204
    status, _ = await follow_link(newhire, fresh_invite["invitation_url"], "nobody-yet-password")
    assert status == 200  # the other, untouched invitation still works
    dead = await newhire.post(
        "/agent/api/join",
        json={"token": a_invite["invitation_url"].split("#invitation=")[1], "password": "b-knows-this-password"},
        headers={"X-CSRF-Token": await login_csrf(newhire)},
    )
    assert dead.status == 404


async def test_an_account_without_a_store_cannot_sign_in(gateway: GatewayFactory, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    client = await gateway()
    b_admin = await seller_api(demo_sessions, B)
    invited = await (
        await client.post("/api/v1/seller/team", headers=b_admin, json={"email": NEWHIRE, "name": "New Hire"})
    ).json()
    status, _ = await follow_link(client, invited["invitation_url"], "b-knows-this-password")
    assert status == 200
    assert (await client.get("/agent/api/me")).status == 200

    # B takes it off its team: its only store. The open session ends and no new one starts.
    assert (await client.delete(f"/api/v1/seller/team/{NEWHIRE}", headers=b_admin)).status == 204
    assert (await client.get("/agent/api/me")).status == 401
    for console in ("agent", "seller"):
        status, body = await sign_in(client, NEWHIRE, "b-knows-this-password", console)
        assert (status, body) == (401, {"error": "wrong email or password", "code": "login_wrong", "params": {}})
    # The same answer as an unknown email's.
    wrong = {"error": "wrong email or password", "code": "login_wrong", "params": {}}
    assert await sign_in(client, "unknown@a-store.example", "b-knows-this-password") == (401, wrong)

    # An operator-made account with no store at all (e.g. every store deleted) cannot either.
    accounts = AgentAccounts(demo_sessions)
    assert await accounts.add("storeless@example.com", "Storeless", "a-long-password", [B])
    assert await accounts.remove_from_store(B, "storeless@example.com") == []
    assert (await sign_in(client, "storeless@example.com", "a-long-password"))[0] == 401


async def test_an_existing_account_joins_another_store_only_by_its_holder(gateway: GatewayFactory, demo_sessions) -> None:  # type: ignore[no-untyped-def]
    """The intended way for someone working for two stores: the link, answered by the holder,
    signed in (console) or with the account's own password. The account keeps its name and
    password; removing it from one store leaves the other."""
    client = await gateway()
    accounts = AgentAccounts(demo_sessions)
    assert await accounts.add("contractor@example.com", "Casey Contractor", "caseys-password", [A])
    b_admin = await seller_api(demo_sessions, B)

    first = await (
        await client.post(
            "/api/v1/seller/team", headers=b_admin, json={"email": "contractor@example.com", "name": "Renamed By B"}
        )
    ).json()
    status, me = await sign_in(client, "contractor@example.com", "caseys-password")
    assert status == 200
    waiting = await (await client.get("/agent/api/invitations")).json()
    assert [(i["store"]["id"], i["role"]) for i in waiting["invitations"]] == [(B, "agent")]
    token = first["invitation_url"].split("#invitation=")[1]
    accepted = await client.post(
        "/agent/api/invitations/accept", json={"token": token}, headers={"X-CSRF-Token": me["csrf_token"]}
    )
    assert accepted.status == 200
    body = await accepted.json()
    assert {s["id"] for s in body["agent"]["stores"]} == {A, B} and body["agent"]["name"] == "Casey Contractor"
    assert (
        await client.post("/agent/api/invitations/accept", json={"token": token}, headers={"X-CSRF-Token": me["csrf_token"]})
    ).status == 404

    # B re-adding a member changes the role here only, as the store's own business.
    again = await client.post(
        "/api/v1/seller/team", headers=b_admin, json={"email": "contractor@example.com", "name": "X", "role": "seller_admin"}
    )
    assert again.status == 200 and (await again.json())["status"] == "member"

    # B removes them: A's membership, the name and the password stay.
    assert (await client.delete("/api/v1/seller/team/contractor@example.com", headers=b_admin)).status == 204
    status, me = await sign_in(client, "contractor@example.com", "caseys-password")
    assert status == 200 and [s["id"] for s in me["agent"]["stores"]] == [A] and me["agent"]["name"] == "Casey Contractor"

    # A declined invitation is gone for good.
    second = await (
        await client.post("/api/v1/seller/team", headers=b_admin, json={"email": "contractor@example.com", "name": "C"})
    ).json()
    [waiting] = (await (await client.get("/agent/api/invitations")).json())["invitations"]
    declined = await client.post(
        f"/agent/api/invitations/{waiting['id']}/decline", headers={"X-CSRF-Token": me["csrf_token"]}
    )
    assert declined.status == 204
    assert (await (await client.get("/agent/api/invitations")).json())["invitations"] == []
    team = await (await client.get("/api/v1/seller/team", headers=b_admin)).json()
    assert team["invitations"] == [] and "contractor@example.com" not in {m["email"] for m in team["team"]}
    status, _ = await follow_link_status(client, second["invitation_url"])
    assert status == 404

    # The link also works signed out, with the account's own password (not a new one).
    third = await (
        await client.post("/api/v1/seller/team", headers=b_admin, json={"email": "contractor@example.com", "name": "C"})
    ).json()
    fresh = await gateway()
    status, _ = await follow_link(fresh, third["invitation_url"], "not-caseys-password")
    assert status == 401
    status, joined = await follow_link(fresh, third["invitation_url"], "caseys-password")
    assert status == 200 and {s["id"] for s in joined["agent"]["stores"]} == {A, B}


async def follow_link_status(client: TestClient, url: str) -> tuple[int, dict[str, Any]]:
    token = url.split("#invitation=", 1)[1]
    response = await client.post(
        "/agent/api/invitation", json={"token": token}, headers={"X-CSRF-Token": await login_csrf(client)}
    )
    return response.status, await response.json()


async def test_a_new_person_chooses_their_own_password_and_the_account_is_the_inviting_stores(
    gateway: GatewayFactory, demo_sessions
) -> None:  # type: ignore[no-untyped-def]
    client = await gateway()
    a_admin = await seller_api(demo_sessions, A)
    invited = await (
        await client.post(
            "/api/v1/seller/team",
            headers=a_admin,
            json={"email": "Sam@A-Store.example", "name": "Sam Lee", "role": "seller_admin"},
        )
    ).json()
    assert invited["invitation_url"].split("#")[0].endswith("/seller")
    token = invited["invitation_url"].split("#invitation=", 1)[1]
    csrf = await login_csrf(client, "seller")
    shown = await (await client.post("/seller/api/invitation", json={"token": token}, headers={"X-CSRF-Token": csrf})).json()
    invitation = shown["invitation"]
    assert (invitation["store"]["id"], invitation["email"], invitation["role"]) == (A, "sam@a-store.example", "seller_admin")
    short = await client.post("/seller/api/join", json={"token": token, "password": "short"}, headers={"X-CSRF-Token": csrf})
    assert short.status == 400
    joined = await client.post(
        "/seller/api/join",
        json={"token": token, "password": "sams-own-password", "name": "Sam"},
        headers={"X-CSRF-Token": csrf},
    )
    assert joined.status == 200
    assert (await joined.json())["agent"]["stores"] == [{"id": A, "name": "Yangteng Auto Parts", "role": "seller_admin"}]
    assert (await client.get(f"/seller/api/stores/{A}/settings")).status == 200
    # Used: the link does nothing more.
    assert (
        await client.post(
            "/seller/api/join",
            json={"token": token, "password": "sams-own-password"},
            headers={"X-CSRF-Token": await login_csrf(client, "seller")},
        )
    ).status == 404
