"""Issue 13, item 15: every answer of the gateway says nosniff and names no server version;
HSTS is sent exactly when the public address is https."""

from __future__ import annotations

import re

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from tests.security.conftest import GatewayFactory

STORE = "yangteng-auto"
VERSION = re.compile(r"\d+\.\d+|python|aiohttp", re.IGNORECASE)


def assert_hardened(response: ClientResponse, *, hsts: bool) -> None:
    what = f"{response.method} {response.url.path} -> {response.status}"
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what
    server = response.headers.get("Server", "")
    assert not VERSION.search(server), f"{what}: Server: {server}"
    if hsts:
        assert response.headers.get("Strict-Transport-Security", "").startswith("max-age="), what
        max_age = int(response.headers["Strict-Transport-Security"].split(";")[0].split("=")[1])
        assert max_age >= 180 * 24 * 3600, what
    else:
        assert "Strict-Transport-Security" not in response.headers, what


async def every_kind_of_answer(client: TestClient) -> list[tuple[ClientResponse, int]]:
    """(response, the status it must have): errors raised by the router and by handlers, files, JSON."""
    started = await client.post(f"/api/v1/stores/{STORE}/conversations", json={})
    token, conversation = (await started.json())["token"], (await started.json())["conversation_id"]
    answers = [
        (started, 201),
        (await client.get("/no/such/page"), 404),  # the router's own 404, raised past every middleware
        (await client.get("/api/v1/no/such/route"), 404),
        (await client.delete("/widget.js"), 405),
        (await client.put("/api/v1/stores/yangteng-auto/conversations"), 405),
        (await client.get(f"/api/v1/conversations/{conversation}/messages"), 401),  # no token
        (await client.get(f"/api/v1/conversations/{conversation}/ws"), 401),
        # A websocket URL fetched as a plain GET (no upgrade): refused, still with the headers.
        (await client.get(f"/api/v1/conversations/{conversation}/ws", params={"token": token}), 400),
        (await client.get("/widget.js"), 200),  # files
        (await client.get("/agent/static/agent/main.js"), 200),
        (await client.get("/agent/static/no-such-file.js"), 404),
        (await client.get("/seller/static/seller/main.js"), 200),  # ES modules: nosniff makes the browser check their type
        (await client.get("/seller/static/i18n/seller.zh-CN.json"), 200),
        (await client.get("/seller/static/shared/..%2F..%2Fapp.py"), 404),
        (await client.get("/api/v1/openapi.yaml"), 200),
        (await client.get("/agent"), 200),
    ]
    # The per-address limit (RATE_LIMIT_IP_PER_MINUTE=20 below) answers 429 before any handler runs.
    for _ in range(40):
        limited = await client.get(
            f"/api/v1/conversations/{conversation}/messages", headers={"Authorization": f"Bearer {token}"}
        )
        if limited.status == 429:
            break
    answers.append((limited, 429))
    return answers


@pytest.mark.parametrize("public_url", ["", "http://shop.example"])
async def test_every_answer_has_nosniff_and_no_server_version_and_no_hsts_over_http(
    gateway: GatewayFactory, public_url: str
) -> None:
    client = await gateway(PUBLIC_URL=public_url, RATE_LIMIT_IP_PER_MINUTE="20")

    for response, status in await every_kind_of_answer(client):
        assert response.status == status, f"{response.method} {response.url.path}"
        assert_hardened(response, hsts=False)


async def test_every_answer_has_hsts_when_the_public_address_is_https(gateway: GatewayFactory) -> None:
    client = await gateway(PUBLIC_URL="https://help.shop.example", RATE_LIMIT_IP_PER_MINUTE="20")

    for response, status in await every_kind_of_answer(client):
        assert response.status == status, f"{response.method} {response.url.path}"
        assert_hardened(response, hsts=True)
