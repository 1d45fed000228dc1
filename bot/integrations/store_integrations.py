"""A store's connectors: which providers it has, the key each signs with (rotated or replaced with a
grace period), the shop it is bound to, and what the seller sees of their deliveries.

Two kinds of keys:
- **generated** (WooCommerce, EasyPost): we make it, the seller pastes it into the provider's
  webhook form; shown once.
- **pasted** (Shopify, 17TRACK): the provider makes it (Shopify's webhook signing key, the 17TRACK
  API key), the seller pastes it into our console.
AfterShip and the simple JSON webhook sign with the store's own webhook secret
(:mod:`bot.seller.store_secrets`), as they did before there were connectors.

Replacing a key keeps the previous one working for a grace period (24 hours by default): deliveries
the provider already signed, or queued for a retry, still pass while the seller switches over.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import utc_now
from bot.core.models import IntegrationDelivery, Store, StoreIntegration, TrackingWebhookEvent, iso_utc
from bot.core.refusals import ParamValue, Refusal
from bot.seller.store_secrets import DEFAULT_GRACE, MAX_GRACE

log = logging.getLogger(__name__)

ORDERS, TRACKING = "orders", "tracking"
GENERATED, PASTED, STORE_WEBHOOK = "generated", "pasted", "store_webhook"
#: How many refused or ignored deliveries the seller sees per connector: enough to spot a pattern,
#: bounded so that a prober cannot grow the row.
RECENT_PROBLEMS = 10


@dataclass(frozen=True)
class Provider:
    name: str
    title: str
    #: ``orders`` (a shop: orders, items, fulfillments) or ``tracking`` (a tracking provider).
    kind: str
    #: The webhook address, under the gateway's public URL; ``{store_id}`` is the store's id.
    path: str
    #: Who makes the signing key: GENERATED, PASTED or STORE_WEBHOOK (the store's webhook secret).
    secret: str
    #: What ``external_id`` holds for this provider (``shop_domain``, ``site_url``), if anything.
    external_id: str | None = None


PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        Provider("shopify", "Shopify", ORDERS, "/webhooks/orders/shopify/{store_id}", PASTED, "shop_domain"),
        Provider("woocommerce", "WooCommerce", ORDERS, "/webhooks/orders/woocommerce/{store_id}", GENERATED, "site_url"),
        Provider("aftership", "AfterShip", TRACKING, "/webhooks/tracking/aftership/{store_id}", STORE_WEBHOOK),
        Provider("easypost", "EasyPost", TRACKING, "/webhooks/tracking/easypost/{store_id}", GENERATED),
        Provider("17track", "17TRACK", TRACKING, "/webhooks/tracking/17track/{store_id}", PASTED),
        Provider("json", "Simple JSON", TRACKING, "/webhooks/tracking/{store_id}", STORE_WEBHOOK),
    )
}

#: Generated keys: letters and digits only, so that the key the seller pastes is the key that signs
#: (WooCommerce decodes HTML entities in its secret; EasyPost normalises it to NFKD).
_KEY_ALPHABET = string.ascii_letters + string.digits
_GENERATED_LENGTH = 48
#: A pasted key: printable, no spaces at either end (a copy that caught a newline is cut, not refused).
_PASTED_KEY = re.compile(r"[\x21-\x7e]{8,200}")
_SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}\.myshopify\.com")


class IntegrationRefused(Refusal, ValueError):
    """A connector setting that cannot be saved; the code says why."""


def provider(name: str) -> Provider:
    if name not in PROVIDERS:
        raise IntegrationRefused("integration_provider_unknown", provider=name[:40])
    return PROVIDERS[name]


def normalise_shop_domain(value: str) -> str:
    """A Shopify shop domain as ``X-Shopify-Shop-Domain`` sends it: ``name.myshopify.com``, lower case.
    A seller may paste it with ``https://`` or a path: both are cut."""
    text = value.strip().lower()
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    if not _SHOP_DOMAIN.fullmatch(host):
        raise IntegrationRefused("shop_domain_invalid", value=value[:100])
    return host


def normalise_site_url(value: str) -> str:
    """A WooCommerce site as ``X-WC-Webhook-Source`` sends it: scheme and host (and path), with one
    trailing slash, lower-case host."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise IntegrationRefused("site_url_invalid", value=value[:100])
    port = f":{parts.port}" if parts.port else ""
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.hostname}{port}{path}/"


_NORMALISERS = {"shop_domain": normalise_shop_domain, "site_url": normalise_site_url}


def normalise_external_id(provider_name: str, value: str) -> str:
    kind = provider(provider_name).external_id
    if kind is None:
        raise IntegrationRefused("integration_has_no_shop", provider=provider_name)
    return _NORMALISERS[kind](value)


def live_keys(integration: StoreIntegration | None, now: dt.datetime) -> list[str]:
    """The keys a delivery may be signed with now: the current one, and the previous one in its grace period."""
    if integration is None:
        return []
    keys = [integration.secret] if integration.secret else []
    until = integration.secret_previous_until
    if integration.secret_previous and until is not None and until > now:
        keys.append(integration.secret_previous)
    return keys


async def integration_of(session: AsyncSession, store_id: str, provider_name: str) -> StoreIntegration | None:
    return await session.scalar(
        select(StoreIntegration).where(StoreIntegration.store_id == store_id, StoreIntegration.provider == provider_name)
    )


async def signing_keys(session: AsyncSession, store: Store, provider_name: str, now: dt.datetime) -> list[str]:
    """Every key a webhook from ``provider_name`` to ``store`` may be signed with now."""
    if PROVIDERS[provider_name].secret == STORE_WEBHOOK:
        return store.webhook_secrets(now)
    return live_keys(await integration_of(session, store.id, provider_name), now)


@dataclass(frozen=True)
class NewKey:
    #: The key itself, for a generated key (shown once); ``None`` when the seller pasted it.
    secret: str | None
    previous_valid_until: dt.datetime | None


class StoreIntegrations:
    """The connectors of the stores, as the seller console and the seller API set and show them."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def _row(self, session: AsyncSession, store_id: str, provider_name: str) -> StoreIntegration:
        if await session.get(Store, store_id) is None:
            raise LookupError(store_id)
        row = await integration_of(session, store_id, provider_name)
        if row is None:
            row = StoreIntegration(store_id=store_id, provider=provider_name, recent_problems=[])
            session.add(row)
        return row

    async def replace_key(
        self,
        store_id: str,
        provider_name: str,
        pasted: str | None = None,
        grace: dt.timedelta = DEFAULT_GRACE,
        now: dt.datetime | None = None,
    ) -> NewKey:
        """A new key for the connector: generated (``pasted`` is None; only for providers whose key
        we make) or the one the seller pasted. The previous key works for ``grace`` more."""
        spec = provider(provider_name)
        if spec.secret == STORE_WEBHOOK:
            raise IntegrationRefused("integration_uses_webhook_secret", provider=provider_name)
        if pasted is None:
            if spec.secret != GENERATED:
                raise IntegrationRefused("integration_key_is_pasted", provider=spec.title)
            key = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(_GENERATED_LENGTH))
        else:
            key = pasted.strip()
            if not _PASTED_KEY.fullmatch(key):
                raise IntegrationRefused("integration_key_invalid", min=8, max=200)
        if not dt.timedelta(0) <= grace <= MAX_GRACE:
            raise IntegrationRefused("grace_hours_invalid")
        now = now or utc_now()
        async with self._sessions() as session, session.begin():
            row = await self._row(session, store_id, provider_name)
            old = row.secret
            until = now + grace if old and grace and old != key else None
            row.secret = key
            row.secret_previous = old if until else None
            row.secret_previous_until = until
        return NewKey(key if pasted is None else None, until)

    async def bind_shop(self, store_id: str, provider_name: str, value: str | None) -> str | None:
        """Bind the connector to the provider's shop (``None`` unbinds); one shop, one store."""
        external_id = normalise_external_id(provider_name, value) if value else None
        try:
            async with self._sessions() as session, session.begin():
                row = await self._row(session, store_id, provider_name)
                row.external_id = external_id
        except IntegrityError:
            # Another store has it: which one is not said.
            raise IntegrationRefused("shop_bound_elsewhere", value=external_id or "") from None
        return external_id

    async def record_problem(
        self,
        store_id: str,
        provider_name: str,
        status: int,
        code: str,
        reason: str,
        params: Mapping[str, ParamValue] | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        """Keep a refused or ignored delivery for the seller (newest first, the last few); nothing of
        its body. Nothing for a store that does not exist."""
        now = now or utc_now()
        # The code and its params let the console word it in the seller's language; the English stays
        # for the API and for a code the console does not know.
        entry = {"at": iso_utc(now), "status": status, "code": code, "params": dict(params or {}), "reason": reason[:300]}
        try:
            async with self._sessions() as session, session.begin():
                if await session.get(Store, store_id) is None:
                    return
                row = await self._row(session, store_id, provider_name)
                problems = list(row.recent_problems or [])
                if problems and _same_problem_lately(problems[0], entry, now):
                    # A burst of one refusal (a prober, a provider retrying a bad key) is one entry a
                    # minute: what the seller needs to see, without a write per request.
                    return
                row.recent_problems = [entry, *problems][:RECENT_PROBLEMS]
        except IntegrityError:
            # Two first problems at once both made the row: the other one is kept, this one is logged.
            log.info("integration problem not kept: store=%s provider=%s code=%s", store_id, provider_name, code)

    async def overview(self, store_id: str, public_url: str, now: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Every connector of the store, for the console and the seller API: where to point the
        provider, whether a key is set (never the key), the shop it is bound to, the last delivery
        and the last problems."""
        now = now or utc_now()
        async with self._sessions() as session:
            store = await session.get(Store, store_id)
            if store is None:
                raise LookupError(store_id)
            rows = {
                row.provider: row
                for row in await session.scalars(select(StoreIntegration).where(StoreIntegration.store_id == store_id))
            }
            result = []
            for spec in PROVIDERS.values():
                row = rows.get(spec.name)
                result.append(
                    {
                        "provider": spec.name,
                        "title": spec.title,
                        "kind": spec.kind,
                        "webhook_url": public_url.rstrip("/") + spec.path.format(store_id=store_id),
                        "key": _key_status(spec, store, row, now),
                        "shop": {"kind": spec.external_id, "value": row.external_id if row else None}
                        if spec.external_id
                        else None,
                        "last_delivery": await _last_delivery(session, store_id, spec),
                        "recent_problems": list(row.recent_problems or []) if row else [],
                    }
                )
        return result


#: How long a repeated problem (same status, code and reason) is not written again.
PROBLEM_REPEAT_QUIET = dt.timedelta(minutes=1)


def _same_problem_lately(last: dict[str, Any], entry: dict[str, Any], now: dt.datetime) -> bool:
    same = all(last.get(key) == entry[key] for key in ("status", "code", "reason"))
    try:
        at = dt.datetime.fromisoformat(str(last.get("at")).replace("Z", "+00:00"))
    except ValueError:
        return False
    return same and now - at < PROBLEM_REPEAT_QUIET


def _key_status(spec: Provider, store: Store, row: StoreIntegration | None, now: dt.datetime) -> dict[str, Any]:
    if spec.secret == STORE_WEBHOOK:
        current, previous, until = store.webhook_secret, store.webhook_secret_previous, store.webhook_secret_previous_until
    else:
        current = row.secret if row else None
        previous = row.secret_previous if row else None
        until = row.secret_previous_until if row else None
    live = bool(previous) and until is not None and until > now
    return {"made_by": spec.secret, "set": bool(current), "previous_valid_until": iso_utc(until) if live else None}


async def _last_delivery(session: AsyncSession, store_id: str, spec: Provider) -> dict[str, Any] | None:
    if spec.kind == ORDERS:
        row = await session.scalar(
            select(IntegrationDelivery)
            .where(IntegrationDelivery.store_id == store_id, IntegrationDelivery.provider == spec.name)
            .order_by(IntegrationDelivery.id.desc())
            .limit(1)
        )
        if row is None:
            return None
        return {
            "at": iso_utc(row.received_at),
            "topic": row.topic,
            "result": row.outcome,
            "reason": row.reason,
            "order_number": row.order_number,
        }
    event = await session.scalar(
        select(TrackingWebhookEvent)
        .where(TrackingWebhookEvent.store_id == store_id, TrackingWebhookEvent.source == spec.name)
        .order_by(TrackingWebhookEvent.id.desc())
        .limit(1)
    )
    if event is None:
        return None
    return {
        "at": iso_utc(event.received_at),
        "topic": "tracking update",
        "result": event.outcome,
        "reason": None,
        "tracking_number": event.tracking_number,
    }
