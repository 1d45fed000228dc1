"""Item 8: behind a trusted proxy, limits count the real client; without one, X-Forwarded-For is ignored."""

from __future__ import annotations

import ipaddress

import pytest

from bot.web.client_address import client_address, limit_key, parse_trusted_proxies
from tests.security.conftest import GatewayFactory

PROXY = parse_trusted_proxies("127.0.0.1, 10.0.0.0/8")


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # Not behind a proxy: the header is the client's own words and is ignored.
        ("203.0.113.7", ["198.51.100.1"], "203.0.113.7"),
        # The proxy appended the client; whatever the client wrote to the left is ignored.
        ("127.0.0.1", ["6.6.6.6, 198.51.100.9"], "198.51.100.9"),
        # Two trusted hops: the right-most untrusted entry is the client.
        ("10.1.2.3", ["6.6.6.6, 198.51.100.9, 10.9.9.9"], "198.51.100.9"),
        # The same header split over several lines.
        ("10.1.2.3", ["6.6.6.6", "198.51.100.9", "10.9.9.9"], "198.51.100.9"),
        # A trusted proxy that added nothing: the proxy is all we know.
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", ["[2001:db8:1:2::7]:443"], "2001:db8:1:2::7"),
        ("127.0.0.1", ["::ffff:198.51.100.3"], "198.51.100.3"),
        # An unreadable entry our proxies would never write.
        ("127.0.0.1", ["not-an-address"], None),
    ],
)
def test_client_address(remote: str, forwarded: list[str], expected: str | None) -> None:
    address = client_address(remote, forwarded, PROXY)
    assert (str(address) if address else None) == expected


def test_ipv6_clients_are_counted_per_64() -> None:
    one = limit_key(ipaddress.ip_address("2001:db8:1:2::7"))
    other_in_same_64 = limit_key(ipaddress.ip_address("2001:db8:1:2:ffff::1"))
    next_64 = limit_key(ipaddress.ip_address("2001:db8:1:3::7"))
    assert one == other_in_same_64 == "2001:db8:1:2::/64" and next_64 != one
    assert limit_key(ipaddress.ip_address("198.51.100.3")) == "198.51.100.3"
    assert limit_key(None) == "unknown"


def test_a_bad_setting_is_refused_with_its_value() -> None:
    with pytest.raises(ValueError, match="'10.0.0.300'"):
        parse_trusted_proxies("10.0.0.300")


async def _requests_until_limited(client, forwarded_for: str | None, tries: int = 6) -> int:  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    for n in range(1, tries + 1):
        response = await client.get("/api/v1/openapi.yaml", headers=headers)
        if response.status == 429:
            return n
        assert response.status == 200
    return 0


async def test_behind_a_trusted_proxy_each_shopper_has_their_own_quota(gateway: GatewayFactory) -> None:
    client = await gateway(TRUSTED_PROXIES="127.0.0.1", RATE_LIMIT_IP_PER_MINUTE="3")
    assert await _requests_until_limited(client, "198.51.100.1") == 4
    # Another shopper behind the same proxy is not limited by the first one's requests.
    assert await _requests_until_limited(client, "198.51.100.2") == 4
    # Forging a left-hand entry does not escape the limit: the proxy appended the real address.
    assert await _requests_until_limited(client, "192.0.2.99, 198.51.100.1") == 1


async def test_without_trusted_proxies_a_forged_header_changes_nothing(gateway: GatewayFactory) -> None:
    client = await gateway(RATE_LIMIT_IP_PER_MINUTE="3")
    assert await _requests_until_limited(client, "198.51.100.1") == 4
    # A new forged address each time would be a new quota if the header were believed.
    assert await _requests_until_limited(client, "198.51.100.2") == 1


async def test_the_login_throttle_counts_the_forwarded_client(gateway: GatewayFactory) -> None:
    from bot.support.console_sessions import MAX_FAILURES_PER_IP

    client = await gateway(TRUSTED_PROXIES="127.0.0.1")
    page = await client.get("/agent")
    csrf = page.cookies["agent_login_csrf"].value

    async def bad_login(email: str, forwarded_for: str) -> int:
        response = await client.post(
            "/agent/api/login",
            json={"email": email, "password": "wrong password"},
            headers={"X-CSRF-Token": csrf, "X-Forwarded-For": forwarded_for},
        )
        return response.status

    for n in range(MAX_FAILURES_PER_IP):
        assert await bad_login(f"guess{n}@example.com", "198.51.100.66") == 401
    assert await bad_login("another@example.com", "198.51.100.66") == 429
    # A different shopper behind the same proxy can still sign in (they get 401, not 429).
    assert await bad_login("another@example.com", "198.51.100.67") == 401
