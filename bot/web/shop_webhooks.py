"""Order webhooks from the sellers' shops: Shopify and WooCommerce.

Each provider's module reads its own headers, signature and body
(:mod:`bot.integrations.shopify`, :mod:`bot.integrations.woocommerce`); what they share is here:
the body read within the gateway's limit, the answer for each outcome, and the refused or ignored
deliveries kept for the seller's console.

The answers: 200 applied, duplicate or stale (the shop must not retry); 202 ignored, refused (a
well-signed order we cannot use: the reason says why) or unknown_order; 400 malformed; 401 a wrong
signature; 404 an unknown store or shop; 413 a body over the limit. Never a 5xx for what the shop
sent: WooCommerce disables a webhook after five failures in a row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aiohttp import web

from bot.integrations import shopify, woocommerce
from bot.integrations.shop_orders import DeliveryRefused, ShopDelivery
from bot.web.json_io import error_response, json_error, refusal_response
from bot.web.services import services

#: A provider's reader: (request headers, raw body, keys valid now, the connector's bound shop) -> delivery.
ReadDelivery = Callable[[Mapping[str, str], bytes, list[str], str | None], ShopDelivery]


async def _shop_webhook(request: web.Request, provider: str, read_delivery: ReadDelivery) -> web.Response:
    # Read before the transaction: a slow sender must not hold a database connection.
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        return error_response(exc)
    store_id = request.match_info["store_id"]
    found = services(request)

    def read(keys: list[str], shop: str | None) -> ShopDelivery:
        return read_delivery(request.headers, body, keys, shop)

    try:
        outcome = await found.order_webhooks.receive(store_id, provider, read)
    except DeliveryRefused as refused:
        await found.integrations.record_problem(
            store_id, provider, refused.status, refused.code, refused.english, refused.params
        )
        return refusal_response(refused.status, refused)
    if outcome is None:
        return json_error(404, "store_unknown")
    if outcome.result == "ping":
        # WooCommerce counts anything but exactly 200 as a failed ping.
        return web.json_response({"result": "ping"})
    answer = {"result": outcome.result, "order_number": outcome.order_number}
    if outcome.result in ("ignored", "refused", "unknown_order"):
        # Acknowledged, so that the shop does not retry or give up on the webhook; the seller sees why.
        refusal = outcome.refusal
        await found.integrations.record_problem(
            store_id,
            provider,
            202,
            refusal.code if refusal else outcome.result,
            outcome.reason or "",
            refusal.params if refusal else None,
        )
        return web.json_response({**answer, "reason": outcome.reason}, status=202)
    return web.json_response(answer)


async def shopify_webhook(request: web.Request) -> web.Response:
    return await _shop_webhook(request, "shopify", shopify.read_delivery)


async def woocommerce_webhook(request: web.Request) -> web.Response:
    return await _shop_webhook(request, "woocommerce", woocommerce.read_delivery)


def add_shop_webhooks(app: web.Application) -> None:
    app.router.add_post("/webhooks/orders/shopify/{store_id}", shopify_webhook)
    app.router.add_post("/webhooks/orders/woocommerce/{store_id}", woocommerce_webhook)
