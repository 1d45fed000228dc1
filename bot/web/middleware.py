"""What every request and response of the gateway goes through: the /api/ rules (CORS with bearer
tokens, per-address limits, errors as JSON), the security headers, and an access log that holds
no token and no email address."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.web.client_address import client_key
from bot.web.json_io import error_response, json_error
from bot.web.services import services

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def too_many(retry_after: int) -> web.Response:
    return json_error(429, "rate_limited", {"retry_after": retry_after}, headers={"Retry-After": str(retry_after)})


CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Expose-Headers": "Retry-After",
    "Access-Control-Max-Age": "600",
}


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """For /api/: CORS (bearer tokens, no cookies), per-IP limits, JSON errors."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=CORS_HEADERS)
    retry_after = services(request).ip_limit.check(client_key(request))
    if retry_after:
        response: web.StreamResponse = too_many(retry_after)
    else:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status == 101:
                raise
            response = error_response(exc)
    if not getattr(response, "prepared", False):
        response.headers.update(CORS_HEADERS)
    return response


#: What every response says in ``Server``: no framework or Python version for an attacker to match.
SERVER_NAME = "aftersales"
#: A year, with subdomains: sent only when the public address is https (PUBLIC_URL).
HSTS = "max-age=31536000; includeSubDomains"


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response just before its headers go out (``on_response_prepare``): handlers'
    answers, raised HTTP errors such as the router's 404 and 405, files and websocket handshakes.
    A middleware misses the errors raised past it and the ones aiohttp makes itself."""
    response.headers["Server"] = SERVER_NAME
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if services(request).settings.public_base_url.lower().startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)


def loggable_path(path: str) -> str:
    """A request path as the access log writes it: a segment holding an email address (a team
    member's, in /team/{email}) is personal data and is written as ``{email}``; an email's "continue in
    chat" link (/continue/{token}) opens a conversation for days, and is written as ``{token}``."""
    if path.startswith("/continue/"):
        return "/continue/{token}"
    return "/".join("{email}" if "@" in segment else segment for segment in path.split("/"))


class AccessLog(AbstractAccessLogger):
    """The request path without its query string (websocket URLs carry tokens) nor emails."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.1f ms',
            client_key(request),
            request.method,
            loggable_path(request.path),
            response.status,
            time * 1000,
        )
