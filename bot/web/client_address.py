"""Who is asking: the client address that every limit, lockout and throttle is keyed by.

Behind a TLS proxy, ``request.remote`` is the proxy, and every shopper would
share one quota. So when the direct peer is one of ``TRUSTED_PROXIES``, the
client is the right-most ``X-Forwarded-For`` entry that is not itself a trusted
proxy: everything left of it was written by the client and may be forged,
everything right of it was appended by proxies we run. Without trusted proxies
the header is ignored, so nobody can pick their own address.

An IPv6 client gets a whole /64 from its provider, so limits count the /64.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp.typedefs import Middleware

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: The client as limits count it: an IPv4 address, or an IPv6 /64 network.
CLIENT_KEY = web.RequestKey("client_key", str)
UNKNOWN = "unknown"


def parse_trusted_proxies(value: str) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES``: addresses or networks, separated by commas or spaces."""
    networks = []
    for part in value.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"TRUSTED_PROXIES: {part!r} is not an address or network") from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Iterable[Network]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def client_address(remote: str | None, forwarded_for: list[str], proxies: tuple[Network, ...]) -> Address | None:
    """The client's address: the peer, or behind trusted proxies the right-most untrusted hop."""
    peer = _address(remote or "")
    if peer is None or not proxies or not _trusted(peer, proxies):
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # Our proxies write addresses: an unreadable hop was forged, and the real client
            # is unknown (a misconfigured proxy chain). Unknown clients share one quota.
            return None
        if not _trusted(address, proxies):
            return address
    # Every hop is one of ours (or there were none): the left-most is the client.
    return _address(hops[0]) if hops else peer


def limit_key(address: Address | None) -> str:
    """What limits count: the IPv4 address, or the IPv6 /64."""
    if address is None:
        return UNKNOWN
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def client_key_middleware(proxies: tuple[Network, ...]) -> Middleware:
    """Works out the client key once per request, before anything counts it."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        address = client_address(request.remote, request.headers.getall("X-Forwarded-For", []), proxies)
        request[CLIENT_KEY] = limit_key(address)
        return await handler(request)

    return middleware


def client_key(request: web.BaseRequest) -> str:
    return request.get(CLIENT_KEY, UNKNOWN)
