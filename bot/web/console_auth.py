"""Signing in to a console (the agent console at /agent, the seller console at /seller).

Both use the same accounts and the same protections; each has its own cookies
on its own path, so signing out of one leaves the other alone:

- the session is a random ``HttpOnly``, ``SameSite=Strict`` cookie (``Secure``
  under HTTPS, also behind a proxy that says so) of which the database keeps
  only the SHA-256;
- every state-changing request carries ``X-CSRF-Token``: the session's own
  token, or for the login the token the page was served with (double submit
  against an HttpOnly cookie); a foreign ``Origin`` is refused as well;
- failed logins are throttled per email and per address (429, Retry-After), every
  sign-in is rate-limited per address, and a process busy checking passwords answers
  503 at once rather than queueing without bound;
- an invitation link (``#invitation=…``, the fragment never reaches a server log) opens
  the console at ``join``: a new person chooses a password, the holder of an existing
  account enters its own; signed in, ``invitations`` lists, accepts and declines;
- API answers are JSON, never cached.
"""

from __future__ import annotations

import hmac
import html
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from string import Template
from typing import Any

from aiohttp import web

from bot.chat.shopper_signatures import sign_shopper
from bot.core.clock import utc_now
from bot.core.text_input import received_bytes
from bot.support.console_sessions import ConsoleSessions, LoginThrottled, SignedInAgent
from bot.support.credentials import MIN_PASSWORD_CHARS, AccountError, PasswordCheckBusy
from bot.support.staff_invitations import InvitationNotFound
from bot.web.client_address import client_key
from bot.web.json_io import error_response, json_error, read_json_object, refusal_response, whole_number
from bot.web.services import services

STATIC = Path(__file__).parent / "static"
CSRF_HEADER = "X-CSRF-Token"
SESSION_SECONDS = 12 * 3600
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
#: The content type of each kind of file a console serves under /<console>/static/.
CONTENT_TYPES = {".js": "application/javascript", ".json": "application/json", ".css": "text/css"}


def signed_shopper_attributes(secret: str, email: str) -> str:
    """The widget tag's attributes for a shopper a page of ours vouches for (the demo page, the
    seller's test conversation), signed now as a store's server signs them: email, time, signature."""
    ts = int(utc_now().timestamp())
    return (
        f' data-shopper-email="{html.escape(email)}" data-shopper-ts="{ts}"'
        f' data-shopper-signature="{html.escape(sign_shopper(secret, email, ts))}"'
    )


def widget_page_csp(frame_ancestors: str, form_action: str) -> str:
    """The policy of a page of ours that hosts the shopper widget (the demo store page, the seller
    console's test conversation): what the widget needs (its websocket, https images and videos,
    the style element it adds to the page, and ``blob:`` images: the shopper's photos, which it
    fetches with the conversation's token and shows as object URLs) and nothing more."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https: blob:; "
        f"media-src 'self' https:; connect-src 'self' ws: wss:; frame-ancestors {frame_ancestors}; base-uri 'none'; "
        f"form-action {form_action}"
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Turns a service's exception into an answer for this console, or None to let it through.
ErrorMap = Callable[[Exception], web.Response | None]


def is_secure(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def same_origin(request: web.Request) -> bool:
    """Browsers send Origin on every cross-site POST; a client without one still needs the CSRF token."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin in (f"{request.scheme}://{request.host}", f"https://{request.host}")


class ConsoleAuth:
    """The page, static files, sign-in, sign-out and session check of one console."""

    def __init__(
        self,
        name: str,
        static_files: dict[str, str],
        static_globs: tuple[str, ...] = (),
        view: Callable[[SignedInAgent], dict[str, Any]] = SignedInAgent.as_json,
        errors: ErrorMap | None = None,
        after_login: Callable[[ConsoleSessions, str], Awaitable[None]] | None = None,
    ) -> None:
        self.name = name
        self.path = f"/{name}"
        self.api = f"/{name}/api/"
        self.session_cookie = f"{name}_session"
        self.login_cookie = f"{name}_login_csrf"
        #: The files under /{name}/static/ and their content types: console.css (shared by both consoles),
        #: the named files, and those the globs match when the gateway starts (ES modules, text tables).
        #: Only these are ever served: a path is looked up here, never joined to the folder as it came.
        self.static_files = {**static_files, "console.css": "text/css"}
        for pattern in static_globs:
            for path in sorted(STATIC.glob(pattern)):
                if path.is_file() and path.suffix in CONTENT_TYPES:
                    self.static_files[path.relative_to(STATIC).as_posix()] = CONTENT_TYPES[path.suffix]
        self.view = view
        self.errors = errors
        self.after_login = after_login
        self.signed_in = web.RequestKey(f"signed_in_{name}", SignedInAgent)
        #: API paths that need no session (they check the login CSRF token instead).
        self.public_paths = frozenset({self.api + "login", self.api + "join", self.api + "invitation"})

    def agent(self, request: web.Request) -> SignedInAgent:
        return request[self.signed_in]

    def token(self, request: web.Request) -> str:
        return request.cookies.get(self.session_cookie, "")

    def _set_cookie(
        self, request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int | None
    ) -> None:
        response.set_cookie(
            name, value, path=self.path, httponly=True, samesite="Strict", secure=is_secure(request), max_age=max_age
        )

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(self.api):
            return await handler(request)
        try:
            if request.method not in ("GET", "HEAD") and not same_origin(request):
                return json_error(403, "cross_origin")
            if request.path not in self.public_paths:
                agent = await services(request).console_sessions.session_for(self.token(request))
                if agent is None:
                    return json_error(401, "session_expired")
                if request.method not in ("GET", "HEAD") and not agent.csrf_matches(request.headers.get(CSRF_HEADER)):
                    return json_error(403, "csrf_token_wrong")
                request[self.signed_in] = agent
            response = await handler(request)
        except web.HTTPException as exc:
            response = error_response(exc)
        except (LoginThrottled, PasswordCheckBusy) as exc:
            # Any route that checks a password (sign-in, an invitation link): come back later.
            status = 429 if isinstance(exc, LoginThrottled) else 503
            response = refusal_response(status, exc, headers={"Retry-After": str(exc.retry_after)})
        except Exception as exc:
            mapped = self.errors(exc) if self.errors else None
            if mapped is None:
                raise
            response = mapped
        if not response.prepared:
            response.headers["Cache-Control"] = "no-store"
        return response

    async def page(self, request: web.Request) -> web.Response:
        """The console's page, with a fresh login CSRF token (meta tag + HttpOnly cookie)."""
        token = secrets.token_urlsafe(32)
        page = Template((STATIC / f"{self.name}.html").read_text(encoding="utf-8")).safe_substitute(login_csrf=token)
        response = web.Response(
            text=page,
            content_type="text/html",
            headers={"Content-Security-Policy": CONSOLE_CSP, "Cache-Control": "no-store", "X-Frame-Options": "DENY"},
        )
        self._set_cookie(request, response, self.login_cookie, token, max_age=None)
        return response

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in self.static_files:
            raise web.HTTPNotFound()
        return web.FileResponse(
            STATIC / name,
            headers={"Content-Type": f"{self.static_files[name]}; charset=utf-8", "Cache-Control": "no-cache"},
        )

    def _login_refusal(self, request: web.Request) -> web.Response | None:
        """Before a sign-in or an invitation link: the page's CSRF token, and the per-address limit."""
        expected = request.cookies.get(self.login_cookie, "")
        given = request.headers.get(CSRF_HEADER, "")
        if not expected or not hmac.compare_digest(received_bytes(expected), received_bytes(given)):
            return json_error(403, "csrf_token_wrong")
        retry_after = services(request).login_limit.check(client_key(request))
        if retry_after:
            return json_error(
                429, "sign_ins_rate_limited", {"retry_after": retry_after}, headers={"Retry-After": str(retry_after)}
            )
        return None

    async def _signed_in_response(self, request: web.Request, agent: SignedInAgent, token: str) -> web.Response:
        if self.after_login is not None:
            await self.after_login(services(request).console_sessions, token)
        response = web.json_response(self.view(agent))
        self._set_cookie(request, response, self.session_cookie, token, max_age=SESSION_SECONDS)
        response.del_cookie(self.login_cookie, path=self.path)
        return response

    async def login(self, request: web.Request) -> web.Response:
        refused = self._login_refusal(request)
        if refused is not None:
            return refused
        body = await read_json_object(request)
        email, password = body.get("email"), body.get("password")
        if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
            return json_error(400, "login_fields_missing")
        if len(email) > 320 or len(password) > 1000:
            return json_error(401, "login_wrong")
        # Throttled or busy: the middleware answers.
        result = await services(request).console_sessions.login(email, password, client_key(request))
        if result is None:
            return json_error(401, "login_wrong")
        return await self._signed_in_response(request, *result)

    # --- invitations ---

    async def invitation(self, request: web.Request) -> web.Response:
        """What an invitation link is for (store, role, email), before the person answers it."""
        refused = self._login_refusal(request)
        if refused is not None:
            return refused
        token = (await read_json_object(request)).get("token")
        if not isinstance(token, str) or not token or len(token) > 200:
            return json_error(400, "invitation_token_missing", field="token")
        try:
            invitation = await services(request).invitations.invitation(token)
        except InvitationNotFound:
            return json_error(404, "invitation_not_found")
        return web.json_response({"invitation": invitation.as_json(), "min_password_chars": MIN_PASSWORD_CHARS})

    async def join(self, request: web.Request) -> web.Response:
        """Answer an invitation link: a new person's chosen password, or an existing account's own."""
        refused = self._login_refusal(request)
        if refused is not None:
            return refused
        body = await read_json_object(request)
        token, password, name = body.get("token"), body.get("password"), body.get("name", "")
        if not isinstance(token, str) or not token or len(token) > 200:
            return json_error(400, "join_token_missing", field="token")
        if not isinstance(password, str) or not isinstance(name, str) or len(password) > 1000:
            return json_error(400, "join_fields_invalid", field="password")
        try:
            result = await services(request).invitations.join(token, password, name, client_key(request))
        except InvitationNotFound:
            return json_error(404, "invitation_not_found")
        except AccountError as exc:
            return refusal_response(400, exc, field="password")
        if result is None:
            return json_error(401, "join_password_wrong")
        return await self._signed_in_response(request, *result)

    async def my_invitations(self, request: web.Request) -> web.Response:
        invitations = await services(request).invitations.my_invitations(self.agent(request))
        return web.json_response({"invitations": [i.as_json() for i in invitations]})

    async def accept_invitation(self, request: web.Request) -> web.Response:
        """Signed in, with the link's token: only the person the store sent the link to can accept."""
        token = (await read_json_object(request)).get("token")
        if not isinstance(token, str) or not token or len(token) > 200:
            return json_error(400, "invitation_token_missing", field="token")
        try:
            invitation = await services(request).invitations.accept(self.agent(request), token)
        except InvitationNotFound:
            return json_error(404, "invitation_not_yours")
        agent = await services(request).console_sessions.session_for(self.token(request))
        assert agent is not None
        return web.json_response({"accepted": invitation.as_json(), **self.view(agent)})

    async def decline_invitation(self, request: web.Request) -> web.Response:
        invitation_id = whole_number(request.match_info["invitation_id"])  # None: more than an id column holds
        try:
            if invitation_id is None:
                raise InvitationNotFound(request.match_info["invitation_id"])
            await services(request).invitations.decline(self.agent(request), invitation_id)
        except InvitationNotFound:
            return json_error(404, "invitation_not_waiting")
        return web.Response(status=204)

    async def logout(self, request: web.Request) -> web.Response:
        await services(request).console_sessions.logout(self.token(request))
        response = web.Response(status=204)
        response.del_cookie(self.session_cookie, path=self.path)
        return response

    async def me(self, request: web.Request) -> web.Response:
        return web.json_response(self.view(self.agent(request)))

    def application(self) -> web.Application:
        """The console as an aiohttp sub-application for /{name}: its page, static files, sign-in and
        invitations, behind its own middleware. The console adds its API (paths relative to /{name})."""
        console = web.Application(middlewares=[self.middleware])
        console.router.add_get("/", self.page)
        console.router.add_get("/static/{name:.+}", self.static)
        console.router.add_post("/api/login", self.login)
        console.router.add_post("/api/logout", self.logout)
        console.router.add_get("/api/me", self.me)
        console.router.add_post("/api/invitation", self.invitation)
        console.router.add_post("/api/join", self.join)
        console.router.add_get("/api/invitations", self.my_invitations)
        console.router.add_post("/api/invitations/accept", self.accept_invitation)
        console.router.add_post("/api/invitations/{invitation_id:[0-9]{1,12}}/decline", self.decline_invitation)
        return console

    def mount(self, app: web.Application, console: web.Application) -> None:
        # /{name} itself, without the slash, is the parent's: a sub-application's paths all start with /{name}/.
        app.router.add_get(self.path, self.page)
        app.add_subapp(self.path, console)
