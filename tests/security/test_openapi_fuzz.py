"""Property-based fuzzing of the public HTTP API, generated from ``bot/web/openapi.yaml`` with
schemathesis: no generated input may make any endpoint answer 500.

How it runs:

- The gateway runs in-process (aiohttp's runner on a free loopback port, in a thread with its own
  event loop) over a migrated store database holding the demo stores, on SQLite and on PostgreSQL
  (which is stricter: 32-bit INTEGER binds, NUL bytes, JSON values).
- Authentication is real so that requests reach past it: the conversation endpoints get a live
  conversation's token (and, usually, its id in the path), the seller API a live seller API token
  (``bot/seller/api_tokens.py``), and the tracking webhooks are signed with the store's current webhook
  secret over the exact bytes sent (a generated signature would only ever be a 401). Path
  parameters mix the demo store's real ids (stores, SKUs, tracking numbers, team members) with
  generated ones.
- Rasa is not running: ``RASA_PORT`` points at a closed port. The chat endpoint then gives its
  deliberate answer for an assistant that is down (the honest message, or a 502, never a 500),
  in milliseconds, so the whole API fits the budget. ``not_a_server_error`` expects 2xx, 3xx, 4xx
  and 502, so only a 500 (or another unplanned 5xx) fails.
- The budget is fixed and deterministic: schemathesis' examples, coverage and fuzzing phases with
  ``max-examples`` per operation, a fixed seed and Hypothesis' ``derandomize``; about a minute per
  database on 2 cores.
- The consoles' JSON APIs (/agent/api, /seller/api), which the public document does not list, get
  a second test with Hypothesis itself: signed in to both consoles (session cookie and CSRF token),
  every route gets generated JSON bodies, queries and path values (300 requests per database).
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
import requests
import schemathesis
import yaml
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.shopper_signatures import token_hash
from bot.core.clock import utc_now
from bot.core.config import load_settings
from bot.core.db import create_engine, create_sessionmaker
from bot.core.migrate import upgrade
from bot.core.models import Conversation, ConversationToken, Store
from bot.integrations import shopify, woocommerce
from bot.integrations.easypost import easypost_signature
from bot.integrations.seventeen_track import seventeen_track_signature
from bot.integrations.store_integrations import StoreIntegrations, signing_keys
from bot.orders.importer import import_lines
from bot.runtime.stack import free_port
from bot.seller.api_tokens import ApiTokens
from bot.shipping.tracking_updates import aftership_signature, simple_signature
from bot.support.accounts import AgentAccounts
from bot.web.app import create_app
from bot.web.public_files import OPENAPI
from tests.conftest import DEMO_DATA, demo_objects

# Hundreds of generated requests per database: seconds, not a quick-loop test.
pytestmark = pytest.mark.slow
T = TypeVar("T")
STORE = "yangteng-auto"
OTHER_STORE = "bloomkids-baby"
WEBHOOK_SECRET = "fuzz-webhook-secret"
#: A conversation made for the fuzzer, with a known id (a path parameter) and token.
CONVERSATION_ID = "fuzzed-conversation-000001"
CONVERSATION_TOKEN = "fuzzed-conversation-token-0000000000000000000000"
DEMO = demo_objects()
SKUS = sorted({o["sku"] for o in DEMO if o["type"] == "product" and o["store"] == STORE})
TRACKING_NUMBERS = sorted(
    {s["tracking_number"] for o in DEMO if o["type"] == "order" and o["store"] == STORE for s in o.get("shipments", [])}
)
CONSOLE_EMAIL, CONSOLE_PASSWORD = "fuzz-admin@yangteng-auto.example", "fuzz-admin-password"
MEMBERS = sorted({o["email"] for o in DEMO if o["type"] == "agent" and STORE in o["stores"]})
CONFIG = schemathesis.Config.from_str(
    """
seed = 20261130
[generation]
max-examples = 20
deterministic = true
database = "none"
[checks.not_a_server_error]
expected-statuses = ["2xx", "3xx", "4xx", "502"]
"""
)
#: The signature header of each tracking webhook, and how it is computed over the body's bytes.
#: path -> (the signature header, how the provider signs, the connector whose key signs)
WEBHOOK_SIGNERS = {
    "/webhooks/tracking/aftership/{store_id}": ("aftership-hmac-sha256", aftership_signature, "aftership"),
    "/webhooks/tracking/{store_id}": ("X-Signature", simple_signature, "json"),
    "/webhooks/tracking/easypost/{store_id}": ("X-Hmac-Signature", easypost_signature, "easypost"),
    "/webhooks/tracking/17track/{store_id}": ("sign", seventeen_track_signature, "17track"),
    "/webhooks/orders/woocommerce/{store_id}": ("X-WC-Webhook-Signature", woocommerce.signature, "woocommerce"),
    "/webhooks/orders/shopify/{store_id}": ("X-Shopify-Hmac-Sha256", shopify.sign, "shopify"),
}
#: The Shopify shop the fuzzed store is bound to: sent with every generated Shopify delivery, so that
#: the body is read rather than refused for its shop.
SHOP_DOMAIN = "fuzz-store.myshopify.com"


@schemathesis.serializer("application/x-ndjson", "application/pdf", "image/*")
def _as_bytes(context: schemathesis.SerializationContext, value: Any) -> dict[str, Any]:
    """The seller API's JSON Lines push, the manual and photo uploads take the body as it is."""
    if isinstance(value, bytes):
        return {"data": value}
    if hasattr(value, "data") and isinstance(value.data, bytes):  # schemathesis' Binary
        return {"data": value.data}
    text = value if isinstance(value, str) else json.dumps(value)
    return {"data": text.encode("utf-8", "surrogatepass")}


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class LiveGateway:
    """The gateway serving on a loopback port from its own thread and event loop."""

    def __init__(self, database_url: str, var_dir: Path) -> None:
        self.database_url, self.var_dir = database_url, var_dir
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzzed-gateway", daemon=True)
        self.base_url = ""
        self.seller_token = ""
        self.console_routes: list[tuple[str, str]] = []

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    def start(self) -> None:
        self.thread.start()
        self.run(self._start())

    def stop(self) -> None:
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()

    async def _start(self) -> None:
        self.engine = create_engine(self.database_url)
        if self.engine.dialect.name == "postgresql":
            async with self.engine.begin() as connection:
                await connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                await connection.exec_driver_sql("CREATE SCHEMA public")
        await upgrade(self.engine)
        self.sessions: async_sessionmaker[AsyncSession] = create_sessionmaker(self.engine)
        with DEMO_DATA.open(encoding="utf-8") as lines:
            report = await import_lines(self.sessions, lines)
        assert report.ok, report.errors
        async with self.sessions() as session, session.begin():
            await session.execute(update(Store).values(webhook_secret=WEBHOOK_SECRET, shopper_secret="fuzz-shopper-secret"))
            session.add(Conversation(id=CONVERSATION_ID, store_id=STORE))
            await session.flush()
            session.add(
                ConversationToken(token_hash=token_hash(CONVERSATION_TOKEN), store_id=STORE, conversation_id=CONVERSATION_ID)
            )
        integrations = StoreIntegrations(self.sessions)
        for provider in ("easypost", "17track", "woocommerce", "shopify"):
            await integrations.replace_key(STORE, provider, pasted=WEBHOOK_SECRET)
        await integrations.bind_shop(STORE, "shopify", SHOP_DOMAIN)
        self.seller_token = await ApiTokens(self.sessions).create(STORE, "fuzzing")
        # Both consoles: a seller admin of the store is also its agent.
        assert await AgentAccounts(self.sessions).add(CONSOLE_EMAIL, "Fuzz Admin", CONSOLE_PASSWORD, [STORE], "seller_admin")
        settings = load_settings(
            {
                "VAR_DIR": str(self.var_dir),
                "DATABASE_URL": self.database_url,
                # Nobody listens there: the chat answers as it does when the assistant is down.
                "RASA_PORT": str(free_port()),
                "ACTION_SERVER_PORT": str(free_port()),
                # Limits are not what is fuzzed: they would turn most requests into 429s.
                "RATE_LIMIT_IP_PER_MINUTE": "1000000",
                "RATE_LIMIT_CONVERSATION_PER_MINUTE": "1000000",
                "ESCALATIONS_PER_CONVERSATION_PER_DAY": "1000000",
                "ESCALATIONS_PER_ADDRESS_PER_HOUR": "1000000",
                "WEBSOCKETS_PER_CONVERSATION": "1000",
                "WEBSOCKETS_PER_ADDRESS": "1000",
            }
        )
        self.runner = web.AppRunner(create_app(settings, self.sessions))
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.base_url = f"http://127.0.0.1:{port}"
        self.console_routes = sorted(
            (route.method, route.resource.canonical)
            for route in self.runner.app.router.routes()
            if route.resource is not None
            and route.method in ("GET", "POST", "PUT", "PATCH", "DELETE")
            and route.resource.canonical.startswith(("/agent/api/", "/seller/api/"))
            # Signing out would end the fuzzer's session; the event stream never ends.
            and not route.resource.canonical.endswith(("/logout", "/events"))
        )

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.engine.dispose()

    async def _signing_key(self, provider: str) -> str:
        async with self.sessions() as session:
            store = await session.get(Store, STORE)
            assert store is not None
            # The current key: the fuzzer may rotate or replace it through the seller API.
            return (await signing_keys(session, store, provider, utc_now()))[0]

    def signing_key(self, provider: str) -> str:
        """The key the provider's webhooks to the store are signed with now."""
        return self.run(self._signing_key(provider))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_gateway(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    var_dir = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    url = (
        f"sqlite+aiosqlite:///{var_dir / 'store.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_database")
    )
    gateway = LiveGateway(url, var_dir)
    gateway.start()
    yield gateway
    gateway.stop()


def _real_or_any(values: list[str]) -> dict[str, Any]:
    """Mostly one of the real values (to get past the lookups), sometimes any string."""
    return {"anyOf": [{"type": "string", "enum": values}, {"type": "string"}]} if values else {"type": "string"}


def _fuzzed_document() -> dict[str, Any]:
    """The public document, with path parameters and tracking numbers that are mostly the demo
    store's real ones (to get past the lookups) and sometimes anything."""
    document = copy.deepcopy(yaml.safe_load(OPENAPI.read_text(encoding="utf-8")))
    parameters = document["components"]["parameters"]
    parameters["StoreId"]["schema"] = _real_or_any([STORE, OTHER_STORE])
    parameters["ConversationId"]["schema"] = _real_or_any([CONVERSATION_ID])
    for item in document["paths"].values():
        for operation in [item, *item.values()]:
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("name") == "sku":
                    parameter["schema"] = _real_or_any(SKUS)
                elif parameter.get("name") == "email" and parameter.get("in") == "path":
                    parameter["schema"] = _real_or_any(MEMBERS)
    body = "requestBody", "content", "application/json", "schema", "properties"

    def properties(path: str) -> dict[str, Any]:
        node = document["paths"][path]["post"]
        for key in body:
            node = node[key]
        return node

    properties("/webhooks/tracking/aftership/{store_id}")["msg"]["properties"]["tracking_number"] = _real_or_any(
        TRACKING_NUMBERS
    )
    properties("/webhooks/tracking/{store_id}")["tracking_number"] = _real_or_any(TRACKING_NUMBERS)
    return document


schema = schemathesis.openapi.from_dict(_fuzzed_document(), config=CONFIG)


def _body_bytes(kwargs: dict[str, Any]) -> bytes:
    """The exact bytes the request will carry, so that the signature is over them."""
    if "json" in kwargs:
        return json.dumps(kwargs.pop("json")).encode()
    data = kwargs.pop("data", b"")
    return data if isinstance(data, bytes) else str(data).encode("utf-8", "surrogatepass")


@schema.parametrize()
def test_no_generated_request_makes_a_server_error(case: schemathesis.Case, live_gateway: LiveGateway) -> None:
    security = {name for requirement in case.operation.definition.raw.get("security", []) for name in requirement}
    headers = dict(case.headers or {})
    if "conversationToken" in security:
        headers["Authorization"] = f"Bearer {CONVERSATION_TOKEN}"
    elif "sellerToken" in security:
        headers["Authorization"] = f"Bearer {live_gateway.seller_token}"
    if case.path == "/api/v1/conversations/{conversation_id}/ws" and isinstance(case.query, dict):
        case.query["token"] = CONVERSATION_TOKEN
    case.headers = headers
    kwargs = case.as_transport_kwargs(base_url=live_gateway.base_url)
    signer = WEBHOOK_SIGNERS.get(case.path)
    if signer is not None:
        header, sign, provider = signer
        raw = _body_bytes(kwargs)
        kwargs["data"] = raw
        kwargs["headers"][header] = sign(live_gateway.signing_key(provider), raw)
        if provider == "shopify":
            kwargs["headers"]["X-Shopify-Shop-Domain"] = SHOP_DOMAIN
    response = requests.request(**kwargs, timeout=60, allow_redirects=False)
    case.validate_response(response, checks=CHECKS)


# --- the consoles' JSON APIs (not in the public document): generated bodies, queries and path values ---

_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
)
#: Names the console handlers read, so that generated bodies reach past "missing field".
_KEYS = st.sampled_from(
    [
        "text",
        "template",
        "version",
        "escalation_ids",
        "templates",
        "review",
        "escalation",
        "greeting",
        "delay_days",
        "email",
        "name",
        "role",
        "grace_hours",
        "install_steps",
        "manual_url",
        "video_url",
        "token",
        "password",
    ]
) | st.text(max_size=10)
_JSON = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4), max_leaves=12
)
_QUERY = st.dictionaries(
    st.sampled_from(["limit", "cursor", "order", "run", "status", "after"]), st.text(max_size=20), max_size=3
)


def _path_value(name: str, draw: Any) -> str:
    if name == "store_id":
        return draw(st.sampled_from([STORE, STORE, OTHER_STORE, "no-such-store"]))
    if name == "conversation_id":
        return draw(st.sampled_from([CONVERSATION_ID, "no-such-conversation"]))
    if name == "sku":
        return draw(st.sampled_from([*SKUS, "NO-SUCH-SKU"]))
    if name == "invitation_id":
        return draw(st.from_regex(r"[0-9]{1,12}", fullmatch=True))
    return quote(draw(st.text(min_size=1, max_size=20)), safe="")


@st.composite
def _console_requests(draw: Any, routes: list[tuple[str, str]]) -> tuple[str, str, dict[str, str], Any]:
    method, template = draw(st.sampled_from(routes))
    path = re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: _path_value(m.group(1), draw), template)
    body = draw(_JSON) if method != "GET" else None
    return method, path, draw(_QUERY), body


def _console_session(live: LiveGateway, console: str) -> tuple[requests.Session, str]:
    http = requests.Session()
    page = http.get(f"{live.base_url}/{console}", timeout=30)
    assert page.status_code == 200
    login = http.post(
        f"{live.base_url}/{console}/api/login",
        json={"email": CONSOLE_EMAIL, "password": CONSOLE_PASSWORD},
        headers={"X-CSRF-Token": http.cookies[f"{console}_login_csrf"]},
        timeout=60,
    )
    assert login.status_code == 200, login.text
    return http, login.json()["csrf_token"]


def test_no_generated_console_request_makes_a_server_error(live_gateway: LiveGateway) -> None:
    """Signed in to both consoles (cookie and CSRF token), every console API route gets generated JSON
    bodies, queries and path values. 502 is the agent console's answer when Rasa does not take a
    pause or resume (it is not running here); any other 5xx fails."""
    sessions = {console: _console_session(live_gateway, console) for console in ("agent", "seller")}

    @settings(
        max_examples=300,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_console_requests(live_gateway.console_routes))
    def check(generated: tuple[str, str, dict[str, str], Any]) -> None:
        method, path, query, body = generated
        http, csrf = sessions[path.split("/")[1]]
        response = http.request(
            method,
            live_gateway.base_url + path,
            params=query,
            timeout=60,
            allow_redirects=False,
            headers={"X-CSRF-Token": csrf, **({"Content-Type": "application/json"} if body is not None else {})},
            data=None if body is None else json.dumps(body).encode(),
        )
        assert response.status_code < 500 or response.status_code == 502, (method, path, query, body, response.text)

    check()
