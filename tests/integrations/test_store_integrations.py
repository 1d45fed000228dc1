"""A store's connectors: shop names normalised as the providers send them, and the refused
deliveries the seller sees, bounded whatever a prober sends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import StoreIntegration
from bot.integrations.store_integrations import (
    RECENT_PROBLEMS,
    IntegrationRefused,
    StoreIntegrations,
    integration_of,
    normalise_shop_domain,
    normalise_site_url,
)

STORE = "yangteng-auto"
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("pasted", "domain"),
    [
        ("Yangteng.myshopify.com", "yangteng.myshopify.com"),
        (" https://yangteng.myshopify.com/admin ", "yangteng.myshopify.com"),
    ],
)
def test_a_shop_domain_is_read_as_shopify_sends_it(pasted: str, domain: str) -> None:
    assert normalise_shop_domain(pasted) == domain


@pytest.mark.parametrize("pasted", ["yangteng.com", "evil.myshopify.com.example", "", "https://"])
def test_what_is_not_a_shop_domain_is_refused(pasted: str) -> None:
    with pytest.raises(IntegrationRefused):
        normalise_shop_domain(pasted)


def test_a_site_url_is_read_as_woocommerce_sends_it() -> None:
    assert normalise_site_url("https://Shop.Example/store") == "https://shop.example/store/"


async def _problems(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, object]]:
    async with sessions() as session:
        row = await integration_of(session, STORE, "shopify")
    assert isinstance(row, StoreIntegration)
    return row.recent_problems


async def test_refusals_are_kept_newest_first_once_a_minute_each_and_only_the_last_few(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    integrations = StoreIntegrations(demo_sessions)
    for second in range(5):  # a burst of the same refusal is one entry
        await integrations.record_problem(
            STORE, "shopify", 401, "webhook_signature_wrong", "wrong", now=T0 + dt.timedelta(seconds=second)
        )
    await integrations.record_problem(STORE, "shopify", 400, "body_not_json", "not JSON", now=T0 + dt.timedelta(seconds=6))
    assert [p["code"] for p in await _problems(demo_sessions)] == ["body_not_json", "webhook_signature_wrong"]

    for minute in range(1, 2 * RECENT_PROBLEMS):  # a minute later the same refusal counts again
        await integrations.record_problem(
            STORE, "shopify", 401, "webhook_signature_wrong", "wrong", now=T0 + dt.timedelta(minutes=minute)
        )
    problems = await _problems(demo_sessions)
    assert len(problems) == RECENT_PROBLEMS
    assert problems[0]["at"] == "2026-12-01T09:19:00Z"

    # A store that does not exist gets no connector row from a prober.
    await integrations.record_problem("no-such-store", "shopify", 401, "webhook_signature_wrong", "wrong", now=T0)
    async with demo_sessions() as session:
        assert await integration_of(session, "no-such-store", "shopify") is None
