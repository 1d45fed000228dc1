"""What the gateway serves to anyone: the widget's script, the OpenAPI description, the health
check, and in demo mode the demo store's product page with the widget on it."""

from __future__ import annotations

import html
from pathlib import Path
from string import Template
from urllib.parse import urlencode

from aiohttp import web

from bot.web.console_auth import signed_shopper_attributes, widget_page_csp
from bot.web.services import services

STATIC = Path(__file__).parent / "static"
OPENAPI = Path(__file__).parent / "openapi.yaml"
DEMO_STORE = "yangteng-auto"
DEMO_PRODUCT_SKU = "OP-1001"
DEMO_SHOPPER = "alex@example.com"


async def widget_js(_: web.Request) -> web.StreamResponse:
    return web.FileResponse(
        STATIC / "widget.js",
        headers={"Content-Type": "application/javascript; charset=utf-8", "Cache-Control": "public, max-age=300"},
    )


async def openapi(_: web.Request) -> web.StreamResponse:
    return web.FileResponse(OPENAPI, headers={"Content-Type": "application/yaml; charset=utf-8"})


async def health(request: web.Request) -> web.Response:
    rasa_up = await services(request).engine.rasa.is_up()
    return web.json_response({"status": "ok" if rasa_up else "degraded", "rasa": rasa_up}, status=200 if rasa_up else 503)


DEMO_CSP = widget_page_csp(frame_ancestors="'none'", form_action="'self'")


async def demo_page(request: web.Request) -> web.Response:
    """The car-parts store's product page with the widget, as the demo shopper or anonymous."""
    store_name = await services(request).orders.store_name(DEMO_STORE)
    secret = await services(request).conversations.shopper_secret(DEMO_STORE)
    if store_name is None:
        return web.Response(status=503, text="The demo store is not loaded: run `make run` (or `make db`).")
    product = await services(request).orders.product(DEMO_STORE, DEMO_PRODUCT_SKU)
    if request.query.get("shopper") == "anonymous" or not secret:
        identity_attrs = ""
        banner = "You are browsing anonymously: the assistant will check your order number and email."
        switch = "/" if secret else ""
        switch_text = "Browse as Alex Miller (signed in)" if secret else ""
    else:
        # What the store's server does when it makes the page: signs the shopper, now.
        identity_attrs = signed_shopper_attributes(secret, DEMO_SHOPPER)
        banner = "You are signed in as Alex Miller (alex@example.com): the store vouches for you."
        switch, switch_text = "/?" + urlencode({"shopper": "anonymous"}), "Browse anonymously"
    page = Template((STATIC / "demo.html").read_text(encoding="utf-8")).safe_substitute(
        store_name=html.escape(store_name),
        store_id=html.escape(DEMO_STORE),
        product_name=html.escape(product.name if product else "Aluminium oil pan"),
        product_sku=html.escape(DEMO_PRODUCT_SKU),
        manual_url=html.escape(product.manual_url or "#" if product else "#"),
        widget_src="/widget.js",
        identity_attrs=identity_attrs,
        identity_banner=html.escape(banner)
        + (f' <a href="{html.escape(switch)}">{html.escape(switch_text)}</a>' if switch else ""),
        switch_link=html.escape(switch),
    )
    return web.Response(text=page, content_type="text/html", headers={"Content-Security-Policy": DEMO_CSP})


def add_public_files(app: web.Application, demo: bool) -> None:
    app.router.add_get("/api/v1/openapi.yaml", openapi)
    app.router.add_get("/widget.js", widget_js)
    app.router.add_get("/healthz", health)
    if demo:
        # Only in demo mode (DEMO=1, set by `make run`): a page that vouches for a shopper.
        app.router.add_get("/", demo_page)
