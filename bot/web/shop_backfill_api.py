"""The seller API's backfill: a store's past orders from its shop's own file (Shopify's "Export
orders" CSV or Admin API order JSON), all or nothing (:mod:`bot.integrations.shop_backfill`).

One of the store's connector routes (``INTEGRATION_ROUTES`` in :mod:`bot.web.seller_api`): the seller
API (its token's store only) and the seller console (a seller admin of the store) mount it alike.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.integrations.shop_backfill import MAX_BACKFILL_BYTES, backfill_providers, import_shop_orders
from bot.integrations.store_integrations import PROVIDERS
from bot.web.json_io import json_error, refusal_body
from bot.web.raw_body import BodyTooLarge, read_capped
from bot.web.services import services
from bot.web.store_actor import Actor, log_name

log = logging.getLogger(__name__)
CONTENT_TYPES = frozenset({"text/csv", "application/json", "application/x-ndjson"})


def _too_large() -> web.Response:
    return json_error(413, "backfill_too_large", {"limit_mb": MAX_BACKFILL_BYTES // (1024 * 1024)})


async def backfill(request: web.Request, store_id: str, actor: Actor) -> web.Response:
    """The file as the raw body; 200 with how many orders were imported, or 400 with every bad line
    (and nothing imported)."""
    provider = request.match_info["provider"]
    if provider not in PROVIDERS:
        return json_error(404, "integration_provider_unknown", {"provider": provider[:40]})
    if provider not in backfill_providers():
        return json_error(404, "backfill_provider_unsupported", {"provider": PROVIDERS[provider].title})
    if request.content_type not in CONTENT_TYPES:
        return json_error(415, "backfill_content_type")
    try:
        data = await read_capped(request, MAX_BACKFILL_BYTES)
    except BodyTooLarge:
        return _too_large()
    report = await import_shop_orders(services(request).sessions, store_id, provider, data)
    if not report.ok:
        body = refusal_body("backfill_lines_bad", {"count": len(report.errors)})
        return web.json_response({**body, "errors": [e.as_json() for e in report.errors]}, status=400)
    log.info("%s backfilled %d %s orders into %s", log_name(actor), report.imported, provider, store_id)
    return web.json_response({"imported": report.imported, "format": report.format})
