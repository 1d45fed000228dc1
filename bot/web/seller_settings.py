"""A store's reply-flow settings over HTTP: read, change, history, roll back.

Written once, for the seller API (``/api/v1/seller/settings``, the store decided by its token) and
the seller console (``/seller/api/stores/{store_id}/settings``, the store decided by the signed-in
admin): each decides the store and who is acting its own way, then calls these. Every change goes
through :class:`~bot.seller.store_settings.StoreSettingsService`, whose checks and versions are the
CLI's too.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.core.models import iso_utc
from bot.seller.store_settings import TEMPLATES, SettingsError, SettingsVersion, VersionNotFound
from bot.web.json_io import json_error, nothing_saved, read_json, version_number
from bot.web.services import services
from bot.web.store_actor import Actor


def version_json(version: SettingsVersion, with_settings: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": version.version,
        "changed_by": version.changed_by,
        "summary": version.summary,
        "summary_code": version.summary_code,
        "summary_params": version.summary_params,
        "created_at": iso_utc(version.created_at),
    }
    if with_settings:
        body["settings"] = version.settings
        body["placeholders"] = {key: sorted(allowed) for key, (allowed, _) in TEMPLATES.items()}
    return body


async def current_settings(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    return web.json_response(version_json(await services(request).store_settings.current(store_id)))


async def change_settings(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """A partial change (only the keys sent), checked whole and saved as a new version."""
    try:
        saved = await services(request).store_settings.update(store_id, await read_json(request), actor.label)
    except SettingsError as exc:
        return nothing_saved(exc)
    return web.json_response(version_json(saved))


async def settings_history(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """Every version, newest first, without their content; a store never changed has its version 0."""
    store_settings = services(request).store_settings
    versions = await store_settings.history(store_id) or [await store_settings.current(store_id)]
    return web.json_response(
        {"current": versions[0].version, "versions": [version_json(v, with_settings=False) for v in versions]}
    )


async def rollback_settings(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """An earlier version made current again, as a new version (history is never rewritten)."""
    version = version_number(await read_json(request))
    if version is None:
        return json_error(400, "settings_version_missing", field="version")
    try:
        saved = await services(request).store_settings.rollback(store_id, version, actor.label)
    except VersionNotFound:
        return json_error(404, "version_not_found", {"version": version})
    except SettingsError as exc:
        return nothing_saved(exc)
    return web.json_response(version_json(saved))
