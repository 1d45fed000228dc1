"""The seller console at /seller: a store's seller admins edit its reply flows.

Same accounts and the same protections as the agent console
(:mod:`bot.web.agent_api`), with a cookie of its own on ``/seller``:

- the session is a random HttpOnly, SameSite=Strict cookie (Secure under HTTPS);
- every state-changing request carries ``X-CSRF-Token`` (the session's token,
  or for the login the token the page was served with) and no foreign Origin;
- only the stores where the account is a ``seller_admin`` exist here: any
  other store, the account's agent-only stores included, answers 404.

Every change goes through :class:`~bot.seller.store_settings.StoreSettingsService`,
the same checks and versions as the seller API and the CLI.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from string import Template
from typing import Any

from aiohttp import web

from bot.core.clock import utc_now
from bot.core.models import AgentRole
from bot.seller.store_settings import SettingsError
from bot.seller.templates import PLACEHOLDERS, TEMPLATES, TemplateError
from bot.support.business_hours import (
    DEFAULT_HOURS,
    WEEKDAYS,
)
from bot.support.console_sessions import ConsoleSessions, SignedInAgent
from bot.support.escalations import PRIORITY_BY_REASON
from bot.web.console_auth import STATIC, ConsoleAuth, signed_shopper_attributes, widget_page_csp
from bot.web.json_io import RefusedRequest, json_error, read_json_object, refusal_response
from bot.web.seller_api import INTEGRATION_ROUTES, STORE_ROUTES
from bot.web.seller_settings import change_settings, rollback_settings, settings_history, version_json
from bot.web.services import services
from bot.web.store_actor import Actor, StoreHandler

ADMIN = AgentRole.seller_admin.value


async def _not_online(console_sessions: ConsoleSessions, token: str) -> None:
    """A seller editing templates is not answering shoppers: this session never counts as an agent online."""
    await console_sessions.offline(token)


def _admin_view(agent: SignedInAgent) -> dict[str, Any]:
    """The account as the seller console sees it: its seller-admin stores only."""
    return replace(agent, stores=tuple(s for s in agent.stores if s.role == ADMIN)).as_json()


AUTH = ConsoleAuth(
    "seller",
    {"seller.css": "text/css"},
    static_globs=("seller/*.js", "shared/*.js", "i18n/seller.*.json", "i18n/refusals.*.json"),
    view=_admin_view,
    after_login=_not_online,
)


def _store_id(request: web.Request) -> str:
    """The path's store, if this account administers it; 404 otherwise (as if it did not exist)."""
    store_id = request.match_info["store_id"]
    agent = AUTH.agent(request)
    if not any(s.id == store_id and s.role == ADMIN for s in agent.stores):
        raise RefusedRequest(404, "console_store_not_found")
    return store_id


def _changed_by(request: web.Request) -> str:
    agent = AUTH.agent(request)
    return f"{agent.name} <{agent.email}>"


def _for_admin(handler: StoreHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A handler shared with the seller API, for the path's store if this account administers it."""

    async def console_handler(request: web.Request) -> web.StreamResponse:
        store_id = _store_id(request)
        return await handler(request, store_id, Actor(_changed_by(request), AUTH.agent(request).email))

    return console_handler


# --- settings ---


async def console_settings(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """The settings, and what the console's editor needs beside them: what each placeholder means,
    the escalation reasons, the weekdays and default hours, and the store's name and time zone."""
    body = version_json(await services(request).store_settings.current(store_id))
    body["placeholder_descriptions"] = PLACEHOLDERS
    body["reasons"] = sorted(PRIORITY_BY_REASON)
    body["weekdays"] = list(WEEKDAYS)
    body["default_business_hours"] = DEFAULT_HOURS
    store = await services(request).store_settings.store(store_id)
    body["store"] = {
        "id": store_id,
        "name": store.name if store else store_id,
        "timezone": store.timezone if store else None,
    }
    return web.json_response(body)


#: The store's settings as the console edits them: the editor sends what changed, with a PUT.
SETTINGS_ROUTES: list[tuple[str, str, StoreHandler]] = [
    ("GET", "/settings", console_settings),
    ("PUT", "/settings", change_settings),
    ("GET", "/settings/history", settings_history),
    ("POST", "/settings/rollback", rollback_settings),
]


# --- preview ---


async def preview(request: web.Request) -> web.Response:
    store_id = _store_id(request)
    body = await read_json_object(request)
    key, text = body.get("template"), body.get("text")
    if not isinstance(key, str) or key not in TEMPLATES:
        return json_error(400, "template_key_unknown", {"templates": ", ".join(TEMPLATES)}, field="template")
    try:
        rendered, sample = await services(request).previews.preview(store_id, key, text)
    except TemplateError as exc:
        return refusal_response(400, exc, field=f"templates.{key}")
    return web.json_response({"rendered": rendered, "sample": sample})


async def email_preview(request: web.Request) -> web.Response:
    """What a delivery-confirmation email of the store looks like, as plain text: ``{"templates": {...}}``
    may hold the console's unsaved email_subject, email_intro, email_footer and delivery_confirmation."""
    store_id = _store_id(request)
    body = await read_json_object(request)
    unsaved = body.get("templates", {})
    if not isinstance(unsaved, dict):
        return json_error(400, "setting_not_object", field="templates")
    try:
        preview = await services(request).previews.email_preview(store_id, unsaved)
    except SettingsError as exc:
        return refusal_response(400, exc, field=exc.field)
    return web.json_response(preview.as_json())


# --- test conversation ---

#: The sample shopper's address is on a reserved domain (RFC 2606), so it can never be a real
#: shopper's: a seller testing the bot cannot read or write a real conversation this way.
SAMPLE_SHOPPER_DOMAIN = "sample-shopper.invalid"
_RUN = re.compile(r"[a-z0-9]{1,16}")
#: Framed by the console only.
TEST_CHAT_CSP = widget_page_csp(frame_ancestors="'self'", form_action="'none'")


def sample_shopper_email(agent_id: int, run: str) -> str:
    return f"seller-{agent_id}-{run}@{SAMPLE_SHOPPER_DOMAIN}"


async def start_test_chat(request: web.Request) -> web.Response:
    """A new test conversation: a fresh sample shopper, so the seller starts from the greeting."""
    store_id = _store_id(request)
    run = secrets.token_hex(4)
    return web.json_response(
        {
            "url": f"/seller/api/stores/{store_id}/test-chat?run={run}",
            "shopper_email": sample_shopper_email(AUTH.agent(request).id, run),
        }
    )


async def test_chat_page(request: web.Request) -> web.Response:
    """The store's widget, signed in as the seller's sample shopper, for the console's test panel."""
    store_id = _store_id(request)
    run = request.query.get("run", "")
    if not _RUN.fullmatch(run):
        return json_error(400, "test_chat_not_started")
    store = await services(request).store_settings.store(store_id)
    if store is None:
        raise web.HTTPNotFound()
    email = sample_shopper_email(AUTH.agent(request).id, run)
    keys = store.shopper_secrets(utc_now())
    identity = ""
    if keys:  # a store without a shopper secret has anonymous shoppers only
        identity = signed_shopper_attributes(keys[0], email)
    page = Template((STATIC / "test-chat.html").read_text(encoding="utf-8")).safe_substitute(
        store_id=html.escape(store_id),
        store_name=html.escape(store.name),
        identity_attrs=identity,
    )
    return web.Response(
        text=page,
        content_type="text/html",
        headers={"Content-Security-Policy": TEST_CHAT_CSP, "X-Frame-Options": "SAMEORIGIN"},
    )


def add_seller_console(app: web.Application) -> None:
    """Mount the console at /seller."""
    console = AUTH.application()
    console.router.add_post("/api/stores/{store_id}/preview", preview)
    console.router.add_post("/api/stores/{store_id}/email-preview", email_preview)
    for method, path, handler in SETTINGS_ROUTES + STORE_ROUTES + INTEGRATION_ROUTES:
        console.router.add_route(method, "/api/stores/{store_id}" + path, _for_admin(handler))
    console.router.add_post("/api/stores/{store_id}/test-chat", start_test_chat)
    console.router.add_get("/api/stores/{store_id}/test-chat", test_chat_page)
    AUTH.mount(app, console)
