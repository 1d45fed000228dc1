"""Issue 13, item 12: the importer stores only http(s) links, as the guide API does (one check for both)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import Product, Shipment, Store
from bot.guides.product_guides import GuideError, check_guide
from tests.orders.test_importer import order_line, product_line, run, shipment, store_line

Sessions = async_sessionmaker[AsyncSession]

NOT_WEB_LINKS = [
    "javascript:alert(document.cookie)",
    " JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "vbscript:msgbox(1)",
    "/relative/manual.pdf",
    "//evil.example/x.pdf",
    "ftp://files.example/manual.pdf",
    "https://",
    'https://shop.example/"onmouseover="alert(1)',
]


@pytest.mark.parametrize("link", NOT_WEB_LINKS)
@pytest.mark.parametrize("field", ["manual_url", "video_url"])
async def test_a_product_link_that_is_not_http_is_refused_and_nothing_is_stored(
    sessions: Sessions, field: str, link: str
) -> None:
    report = await run(sessions, store_line(), product_line(**{field: link}))

    assert report.imported["product"] == 0
    [(number, reason)] = report.errors
    assert number == 2 and field in reason and ("http(s)" in reason or "spaces, quotes" in reason)
    async with sessions() as session:
        assert await session.scalar(select(Product)) is None
    # The guide API gives the same verdict: one check for both.
    with pytest.raises(GuideError):
        check_guide({field: link})


@pytest.mark.parametrize("link", NOT_WEB_LINKS)
async def test_a_tracking_link_that_is_not_http_is_refused(sessions: Sessions, link: str) -> None:
    report = await run(sessions, store_line(), product_line(), order_line(shipments=[shipment("TRK-1", tracking_url=link)]))

    assert report.imported["order"] == 0
    [(number, reason)] = report.errors
    assert number == 3 and "shipments[0].'tracking_url'" in reason
    async with sessions() as session:
        assert await session.scalar(select(Shipment)) is None


async def test_a_review_link_that_is_not_http_is_refused(sessions: Sessions) -> None:
    report = await run(sessions, store_line(review_url="javascript:alert(1)"))

    assert report.imported["store"] == 0 and "review_url" in report.errors[0][1]
    async with sessions() as session:
        assert await session.scalar(select(Store)) is None


@pytest.mark.parametrize(
    "links",
    [
        {"manual_url": "https://acme.example/manuals/SKU-1.pdf", "video_url": "HTTP://videos.example/watch?v=1"},
        {"manual_url": None, "video_url": None},
    ],
)
async def test_http_links_and_no_link_still_import(sessions: Sessions, links: dict[str, Any]) -> None:
    report = await run(sessions, store_line(), product_line(**links), order_line())

    assert report.errors == []
    async with sessions() as session:
        product = await session.scalar(select(Product))
        assert product is not None
        assert (product.manual_url, product.video_url) == (links["manual_url"], links["video_url"])
        assert (await session.scalar(select(Shipment.tracking_url))) == "https://track.example/TRK-1"
