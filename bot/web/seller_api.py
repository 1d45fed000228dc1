"""The seller API: one store's reply-flow settings and order push, with a per-store token.

The token decides the store; no path or body can name another one. Every
change goes through the same checks and versions as the seller console.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.core.jobs import JobNotRetryable
from bot.core.models import AgentRole, iso_utc
from bot.core.text_input import BadInput, loads
from bot.guides.manuals import MAX_MANUAL_BYTES, BadManual
from bot.guides.product_guides import MAX_STEP_CHARS, MAX_STEPS, GuideError, GuideVersionNotFound, ProductNotFound
from bot.integrations.store_integrations import IntegrationRefused, provider
from bot.orders.importer import import_lines
from bot.seller.shopper_erasure import ErasureRefused
from bot.seller.store_secrets import DEFAULT_GRACE, KINDS, MAX_GRACE, rotate_secret, secret_status
from bot.seller.store_smtp import SmtpSettingsError, clear_smtp, set_smtp, smtp_status
from bot.support.credentials import AccountError
from bot.support.team_removal import remove_from_team
from bot.web.json_io import (
    RefusedRequest,
    json_error,
    nothing_saved,
    read_json,
    refusal_response,
    version_number,
    whole_number,
)
from bot.web.seller_settings import change_settings, current_settings, rollback_settings, settings_history
from bot.web.services import services
from bot.web.shop_backfill_api import backfill
from bot.web.store_actor import API_ACTOR, Actor, StoreHandler, log_name

log = logging.getLogger(__name__)
#: Line types a seller may push: never a store line (its secrets) nor an account.
PUSHABLE = frozenset({"product", "order", "canned_reply"})
MAX_PUSH_LINES = 5000


async def _store(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    store_id = await services(request).api_tokens.store_for(token.strip() if scheme.lower() == "bearer" else None)
    if store_id is None:
        raise RefusedRequest(401, "seller_token_wrong")
    return store_id


async def push_lines(request: web.Request) -> web.Response:
    """Products, orders and canned replies in the import format (JSON Lines), for this store only."""
    store_id = await _store(request)
    text = (await request.read()).decode("utf-8", errors="replace")
    lines = text.splitlines()
    if len(lines) > MAX_PUSH_LINES:
        return json_error(413, "push_too_many_lines", {"limit": MAX_PUSH_LINES})
    checked: list[str] = []
    refused: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            checked.append("")
            continue
        try:
            obj = loads(line)
        except (json.JSONDecodeError, BadInput):
            obj = None  # reported by the importer, with its line number and field
        if isinstance(obj, dict) and obj.get("type") not in PUSHABLE:
            refused.append(
                {"line": number, "error": f"type {obj.get('type')!r} cannot be pushed ({', '.join(sorted(PUSHABLE))})"}
            )
            checked.append("")
        elif isinstance(obj, dict) and obj.get("store", store_id) != store_id:
            refused.append({"line": number, "error": "this token's store only"})
            checked.append("")
        else:
            if isinstance(obj, dict):
                obj["store"] = store_id
                line = json.dumps(obj)
            checked.append(line)  # a malformed line is reported by the importer itself
    report = await import_lines(services(request).sessions, checked)
    errors = sorted(refused + [{"line": n, "error": e} for n, e in report.errors], key=lambda e: e["line"])
    return web.json_response({"imported": report.imported, "errors": errors}, status=200 if not errors else 422)


async def upload_manual(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """A product's installation manual as a PDF (the raw file as the body, at most 10 MB)."""
    if request.content_type != "application/pdf":
        return json_error(415, "manual_content_type")
    if (request.content_length or 0) > MAX_MANUAL_BYTES:
        return json_error(413, "manual_too_large", {"limit_mb": MAX_MANUAL_BYTES // (1024 * 1024)})
    # Read it ourselves: the app-wide body limit (1 MB) is for JSON, not for manuals.
    data = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > MAX_MANUAL_BYTES:
            return json_error(413, "manual_too_large", {"limit_mb": MAX_MANUAL_BYTES // (1024 * 1024)})
    try:
        stored = await services(request).manuals.upload(
            store_id, request.match_info["sku"], bytes(data), services(request).settings.public_base_url, actor.label
        )
    except BadManual as exc:
        return refusal_response(exc.status, exc)
    url = services(request).settings.public_base_url + stored.path()
    return web.json_response({"manual_url": url, "size": stored.size}, status=201)


async def manual_file(request: web.Request) -> web.StreamResponse:
    """Public: what shoppers open from the chat. Unknown or mistyped links are 404."""
    file_id = whole_number(request.match_info["file_id"])
    if file_id is None:  # not a number, or one no file can have
        raise web.HTTPNotFound()
    name = request.match_info["name"]
    data = await services(request).manuals.read(file_id, name)
    if data is None:
        raise web.HTTPNotFound()
    return web.Response(
        body=data,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "Cache-Control": "public, max-age=86400, immutable",
            # A PDF is shown by the browser's viewer; it must never run as a page of this site.
            "Content-Security-Policy": "sandbox",
        },
    )


# --- product guides ---


def _guide_error(exc: Exception) -> web.Response:
    if isinstance(exc, ProductNotFound):
        return json_error(404, "product_not_found", {"sku": exc.args[0]})
    if isinstance(exc, GuideVersionNotFound):
        return json_error(404, "guide_version_not_found", {"version": exc.args[0]})
    assert isinstance(exc, GuideError)
    return nothing_saved(exc)


async def list_products(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    guides = await services(request).guides.list(store_id)
    # The limits a guide is checked against, so that a client (the console) need not repeat them.
    limits = {"max_steps": MAX_STEPS, "max_step_chars": MAX_STEP_CHARS, "max_manual_bytes": MAX_MANUAL_BYTES}
    return web.json_response({"products": [g.as_json() for g in guides], "limits": limits})


async def get_guide(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    try:
        guide = await services(request).guides.get(store_id, request.match_info["sku"])
    except ProductNotFound as exc:
        return _guide_error(exc)
    return web.json_response(guide.as_json())


async def put_guide(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    try:
        guide = await services(request).guides.update(
            store_id, request.match_info["sku"], await read_json(request), actor.label
        )
    except (GuideError, ProductNotFound) as exc:
        return _guide_error(exc)
    return web.json_response(guide.as_json())


async def guide_history(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    try:
        versions = await services(request).guides.history(store_id, request.match_info["sku"])
    except ProductNotFound as exc:
        return _guide_error(exc)
    return web.json_response({"versions": [v.as_json() for v in versions]})


async def rollback_guide(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    version = version_number(await read_json(request))
    if version is None:
        return json_error(400, "guide_version_missing")
    try:
        guide = await services(request).guides.rollback(store_id, request.match_info["sku"], version, actor.label)
    except (GuideError, ProductNotFound, GuideVersionNotFound) as exc:
        return _guide_error(exc)
    return web.json_response(guide.as_json())


# --- secrets and team ---


def _grace(body: Any) -> dt.timedelta | None:
    """The ``grace_hours`` of a rotation's body (24 when left out), or None when it is not 0 to 168 hours."""
    hours = body.get("grace_hours", DEFAULT_GRACE / dt.timedelta(hours=1)) if isinstance(body, dict) else None
    if not isinstance(hours, (int, float)) or isinstance(hours, bool) or not 0 <= hours <= MAX_GRACE / dt.timedelta(hours=1):
        return None
    return dt.timedelta(hours=hours)


async def secrets_status(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    return web.json_response(await secret_status(services(request).sessions, store_id))


async def rotate(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """A new shopper-identity or webhook secret, shown once; the old one works for the grace period."""
    kind = request.match_info["kind"]
    body = await read_json(request) if request.can_read_body else {}
    if kind not in KINDS:
        return json_error(404, "secret_kind_unknown")
    grace = _grace(body)
    if grace is None:
        return json_error(400, "grace_hours_invalid", field="grace_hours")
    rotated = await rotate_secret(services(request).sessions, store_id, kind, grace)
    log.info("%s rotated the %s secret of %s", log_name(actor), kind, store_id)
    return web.json_response(
        {"secret": rotated.secret, "previous_valid_until": iso_utc(rotated.previous_valid_until)},
        headers={"Cache-Control": "no-store"},
    )


async def get_smtp(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """The store's own SMTP server (all null: the deployment's), never its password: only whether one is set."""
    return web.json_response(await smtp_status(services(request).sessions, store_id), headers={"Cache-Control": "no-store"})


async def put_smtp(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """The store's own SMTP server, checked whole; a password left out is kept, null removes it."""
    try:
        smtp = await set_smtp(services(request).sessions, store_id, await read_json(request))
    except SmtpSettingsError as exc:
        return nothing_saved(exc)
    # Audited as a secret rotation is: who, which store, never the values.
    log.info("%s changed the SMTP server of %s", log_name(actor), store_id)
    return web.json_response(smtp.status(), headers={"Cache-Control": "no-store"})


async def delete_smtp(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """Back to the deployment's SMTP server: the store's host, user name and password are forgotten."""
    if await clear_smtp(services(request).sessions, store_id):
        log.info("%s cleared the SMTP server of %s", log_name(actor), store_id)
    return web.json_response(await smtp_status(services(request).sessions, store_id))


async def get_team(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """The store's members, and its invitations still waiting for an answer."""
    invitations = await services(request).invitations.store_invitations(store_id)
    return web.json_response(
        {
            "team": await services(request).accounts.team(store_id),
            "invitations": [_team_invitation(i.as_json()) for i in invitations],
        }
    )


def _team_invitation(body: dict[str, Any]) -> dict[str, Any]:
    """An invitation as the store sees it (its own store goes without saying)."""
    return {k: body[k] for k in ("id", "email", "name", "role", "invited_by", "created_at", "expires_at")}


def invitation_url(request: web.Request, role: str, token: str) -> str:
    """The link the admin passes on: seller admins land on the seller console, agents on theirs.
    The token is in the fragment, which browsers never send (no server or proxy logs it)."""
    console = "seller" if role == AgentRole.seller_admin.value else "agent"
    return f"{services(request).settings.public_base_url}/{console}#invitation={token}"


async def add_member(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """Invite someone to the team (agent or seller admin): always an invitation, with a link to pass on.

    The answer is the same (201, same fields) whether the email has no account, or one at another
    store: the store learns nothing about other stores, and never gets a password. Someone
    already on this store's team has their role changed (200)."""
    body = await read_json(request)
    if not isinstance(body, dict):
        return json_error(400, "member_fields_invalid")
    email, name, role = body.get("email"), body.get("name"), body.get("role", "agent")
    if not isinstance(email, str) or not isinstance(name, str) or not isinstance(role, str) or not name.strip():
        return json_error(400, "member_fields_invalid")
    try:
        issued = await services(request).invitations.invite(store_id, email, name, role, actor.label)
    except AccountError as exc:
        return refusal_response(400, exc)
    email = email.strip().lower()
    if issued is None:
        log.info("%s changed a member's role at %s to %s", log_name(actor), store_id, role)
        return web.json_response({"email": email, "name": name.strip(), "role": role, "status": "member"})
    log.info("%s invited someone to %s as %s", log_name(actor), store_id, role)
    invitation = issued.invitation
    return web.json_response(
        {
            "email": invitation.email,
            "name": invitation.name,
            "role": invitation.role,
            "status": "invited",
            "invitation": _team_invitation(invitation.as_json()),
            "invitation_url": invitation_url(request, role, issued.token),  # the only time it is shown
        },
        status=201,
        headers={"Cache-Control": "no-store"},
    )


async def remove_member(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    email = request.match_info["email"].strip().lower()
    if actor.email is not None and email == actor.email.lower():
        return json_error(400, "member_remove_self")
    removed = await remove_from_team(services(request).accounts, services(request).engine.rasa, store_id, email)
    if not removed:
        return json_error(404, "member_not_found")
    log.info("%s removed a member from %s", log_name(actor), store_id)
    return web.Response(status=204)


# --- jobs the worker gave up on ---


async def list_jobs(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """The store's failed jobs (a confirmation or invitation that never went out, a shopper's
    message the assistant never answered), the latest first."""
    if request.query.get("status", "failed") != "failed":
        return json_error(400, "jobs_status_invalid", field="status")
    jobs = await services(request).failed_jobs.list(store_id)
    return web.json_response({"jobs": [job.as_json() for job in jobs]})


async def retry_job(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """Try a failed job again, now, with a fresh count of attempts."""
    job_id = whole_number(request.match_info["job_id"])
    try:
        if job_id is None:
            raise JobNotRetryable(request.match_info["job_id"])
        await services(request).failed_jobs.retry(store_id, job_id)
    except JobNotRetryable:
        return json_error(404, "job_not_found")
    log.info("%s queued failed job %s of %s again", log_name(actor), job_id, store_id)
    return web.json_response({"id": job_id, "status": "pending"}, status=202)


# --- connectors (Shopify, WooCommerce, the tracking providers) ---

#: A connector setting refused: an unknown provider is a 404, a shop another store has a 409.
_INTEGRATION_STATUS = {"integration_provider_unknown": 404, "shop_bound_elsewhere": 409}


def _integration_refused(refused: IntegrationRefused, field: str | None = None) -> web.Response:
    return refusal_response(_INTEGRATION_STATUS.get(refused.code, 400), refused, field=field)


async def list_integrations(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """Every connector of the store: the webhook URL to paste, whether a key is set (never the key),
    the shop it is bound to, the last delivery and the last refused or ignored ones."""
    found = services(request)
    try:
        overview = await found.integrations.overview(store_id, found.settings.public_base_url)
    except LookupError:
        return json_error(404, "store_unknown")
    return web.json_response({"integrations": overview}, headers={"Cache-Control": "no-store"})


async def new_integration_key(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """A key we make for the connector (WooCommerce, EasyPost), shown only in this answer; the
    previous one works for the grace period."""
    return await _replace_integration_key(request, store_id, actor, pasted=False)


async def paste_integration_key(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """The key the provider made (Shopify's signing key, the 17TRACK API key), never shown again."""
    return await _replace_integration_key(request, store_id, actor, pasted=True)


async def _replace_integration_key(request: web.Request, store_id: str, actor: Actor, pasted: bool) -> web.Response:
    name = request.match_info["provider"]
    try:
        provider(name)
    except IntegrationRefused as exc:
        return _integration_refused(exc)
    body = await read_json(request) if pasted or request.can_read_body else {}
    key = body.get("key") if isinstance(body, dict) else None
    if pasted and not isinstance(key, str):
        return _integration_refused(IntegrationRefused("integration_key_invalid", min=8, max=200), field="key")
    grace = _grace(body)
    if grace is None:
        return json_error(400, "grace_hours_invalid", field="grace_hours")
    try:
        made = await services(request).integrations.replace_key(store_id, name, key if pasted else None, grace)
    except IntegrationRefused as exc:
        return _integration_refused(exc, field="key" if exc.code == "integration_key_invalid" else None)
    log.info("%s replaced the %s key of %s", log_name(actor), name, store_id)
    answer: dict[str, Any] = {"previous_valid_until": iso_utc(made.previous_valid_until)}
    if made.secret is not None:
        answer["key"] = made.secret  # the only time it is shown
    return web.json_response(answer, headers={"Cache-Control": "no-store"})


async def bind_integration_shop(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """The Shopify shop domain or WooCommerce site URL whose webhooks this store takes; null unbinds."""
    name = request.match_info["provider"]
    try:
        spec = provider(name)
        if spec.external_id is None:
            raise IntegrationRefused("integration_has_no_shop", provider=name)
    except IntegrationRefused as exc:
        return _integration_refused(exc)
    body = await read_json(request)
    value = body.get("value", ...) if isinstance(body, dict) else ...
    if value is not None and not isinstance(value, str):
        return json_error(400, "integration_shop_value_missing", field="value")
    try:
        bound = await services(request).integrations.bind_shop(store_id, name, value)
    except IntegrationRefused as exc:
        return _integration_refused(exc, field="value")
    log.info("%s %s the %s shop of %s", log_name(actor), "bound" if bound else "unbound", name, store_id)
    return web.json_response({"value": bound})


# --- a shopper's data erased, at the shopper's request ---


async def erase_shopper(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """Erase the store's conversations with a shopper (their messages, photos, cases), and the
    shopper's reviews; the store's orders are kept (bot/seller/shopper_erasure.py)."""
    body = await read_json(request)
    try:
        erased = await services(request).shopper_erasure.erase(
            store_id, body.get("email") if isinstance(body, dict) else None
        )
    except ErasureRefused as exc:
        return refusal_response(400, exc, field="email")
    except LookupError:
        return json_error(404, "store_unknown")
    log.info("%s erased a shopper's data at %s", log_name(actor), store_id)
    return web.json_response(erased.as_json(), headers={"Cache-Control": "no-store"})


#: Requests about the store's shoppers: mounted by the seller API under /api/v1/stores/{store_id}.
PRIVACY_ROUTES: list[tuple[str, str, StoreHandler]] = [
    ("POST", "/erasures", erase_shopper),
]


#: The store's connectors: mounted by the seller API under /api/v1/stores/{store_id} (the token's
#: store only) and by the seller console under /seller/api/stores/{store_id}.
INTEGRATION_ROUTES: list[tuple[str, str, StoreHandler]] = [
    ("GET", "/integrations", list_integrations),
    ("POST", "/integrations/{provider}/key", new_integration_key),
    ("PUT", "/integrations/{provider}/key", paste_integration_key),
    ("PUT", "/integrations/{provider}/shop", bind_integration_shop),
    ("POST", "/integrations/{provider}/backfill", backfill),
]


#: (method, path under the store, handler): mounted by the seller API under /api/v1/seller and by
#: the seller console under /seller/api/stores/{store_id}.
STORE_ROUTES: list[tuple[str, str, StoreHandler]] = [
    ("GET", "/products", list_products),
    ("GET", "/products/{sku}/guide", get_guide),
    ("PUT", "/products/{sku}/guide", put_guide),
    ("GET", "/products/{sku}/guide/history", guide_history),
    ("POST", "/products/{sku}/guide/rollback", rollback_guide),
    ("POST", "/products/{sku}/manual", upload_manual),
    ("GET", "/secrets", secrets_status),
    ("POST", "/secrets/{kind}/rotate", rotate),
    ("GET", "/smtp", get_smtp),
    ("PUT", "/smtp", put_smtp),
    ("DELETE", "/smtp", delete_smtp),
    ("GET", "/team", get_team),
    ("POST", "/team", add_member),
    ("DELETE", "/team/{email}", remove_member),
    ("GET", "/jobs", list_jobs),
    ("POST", "/jobs/{job_id}/retry", retry_job),
]


#: The store's settings as the API changes them: a partial change is a PATCH.
SETTINGS_ROUTES: list[tuple[str, str, StoreHandler]] = [
    ("GET", "/settings", current_settings),
    ("PATCH", "/settings", change_settings),
    ("GET", "/settings/history", settings_history),
    ("POST", "/settings/rollback", rollback_settings),
]


def _with_token(handler: StoreHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def api_handler(request: web.Request) -> web.StreamResponse:
        return await handler(request, await _store(request), API_ACTOR)

    api_handler.__doc__ = handler.__doc__
    return api_handler


def with_path_store_token(handler: StoreHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A handler under /api/v1/stores/{store_id}: the token must be that store's. Another store's id
    answers as an unknown store does (404), so that a token learns nothing of other stores."""

    async def api_handler(request: web.Request) -> web.StreamResponse:
        store_id = await _store(request)
        if request.match_info["store_id"] != store_id:
            return json_error(404, "store_unknown")
        return await handler(request, store_id, API_ACTOR)

    api_handler.__doc__ = handler.__doc__
    return api_handler


def add_seller_api(app: web.Application) -> None:
    app.router.add_get("/files/manuals/{file_id}/{name}", manual_file)
    for method, path, handler in SETTINGS_ROUTES:
        app.router.add_route(method, "/api/v1/seller" + path, _with_token(handler))
    app.router.add_post("/api/v1/seller/imports", push_lines)
    for method, path, handler in STORE_ROUTES:
        app.router.add_route(method, "/api/v1/seller" + path, _with_token(handler))
    for method, path, handler in INTEGRATION_ROUTES + PRIVACY_ROUTES:
        app.router.add_route(method, "/api/v1/stores/{store_id}" + path, with_path_store_token(handler))
