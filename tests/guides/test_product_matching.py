"""A store's catalogue read as it is at each message, its index kept and checked, and the work off
the event loop (bot/guides/product_matching.py)."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.guides import product_matching
from bot.guides.catalogue_index import Catalogue, CatalogueItem, ProductMatch
from bot.guides.product_matching import CATALOGUE_RELOAD_SECONDS, ProductMatcher
from bot.orders.importer import import_lines


async def test_another_stores_product_is_never_matched(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    matcher = ProductMatcher(demo_sessions)
    # Summit Outdoor sells the rain jacket; the auto parts store does not.
    assert [i.sku for i in (await matcher.resolve("summit-outdoor", "my rain jacket leaks")).candidates] == ["ST-RJ110"]
    elsewhere = await matcher.resolve("yangteng-auto", "my rain jacket leaks, ST-RJ110")
    assert elsewhere.candidates == ()
    assert (await matcher.resolve("no-such-store", "my rain jacket leaks")).candidates == ()


async def test_order_items_come_first_then_the_catalogue(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    matcher = ProductMatcher(demo_sessions)
    # "the stroller" asks between the stroller and its rain cover, unless the order holds one of them.
    assert len((await matcher.resolve("bloomkids-baby", "the stroller wheel is loose")).candidates) == 2
    in_order = await matcher.resolve(
        "bloomkids-baby", "the stroller wheel is loose", [CatalogueItem("BK-ST300", "Compact travel stroller")]
    )
    assert in_order.product == CatalogueItem("BK-ST300", "Compact travel stroller")
    # Nothing in the order fits: the whole catalogue is searched.
    stroller = [CatalogueItem("BK-ST300", "Compact travel stroller")]
    other = await matcher.resolve("bloomkids-baby", "the bottle warmer", stroller)
    assert other.product is not None and other.product.sku == "BK-BW200"


async def test_a_product_the_seller_adds_is_matched_on_the_next_message(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    matcher = ProductMatcher(demo_sessions)
    text = "how do I mount the cargo carrier?"
    before = await matcher.resolve("summit-outdoor", text)
    assert before.candidates == () and before.unknown_name == "cargo carrier"
    line = json.dumps(
        {"type": "product", "store": "summit-outdoor", "sku": "ST-RB900", "name": "Alpine cargo carrier 420 L"}
    )
    report = await import_lines(demo_sessions, [line])
    assert report.ok, report.errors
    after = await matcher.resolve("summit-outdoor", text)
    assert after.product == CatalogueItem("ST-RB900", "Alpine cargo carrier 420 L")
    # Only that store learned of it.
    assert (await matcher.resolve("yangteng-auto", text)).candidates == ()


async def test_a_renamed_product_is_matched_by_its_new_name(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    matcher = ProductMatcher(demo_sessions)
    gaiters = await matcher.resolve("summit-outdoor", "the gaiters")
    assert gaiters.product == CatalogueItem("ST-GT450", "Trailguard gaiters")
    line = json.dumps({"type": "product", "store": "summit-outdoor", "sku": "ST-GT450", "name": "Trailguard leg warmers"})
    assert (await import_lines(demo_sessions, [line])).ok
    assert (await matcher.resolve("summit-outdoor", "the gaiters")).candidates == ()
    renamed = await matcher.resolve("summit-outdoor", "the leg warmers")
    assert renamed.product == CatalogueItem("ST-GT450", "Trailguard leg warmers")


@pytest.fixture
def rows_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stores whose products a matcher read in full, in order."""
    stores: list[str] = []
    read = ProductMatcher._rows

    async def counting(matcher: ProductMatcher, store_id: str) -> list[tuple[str, str]]:
        stores.append(store_id)
        return await read(matcher, store_id)

    monkeypatch.setattr(ProductMatcher, "_rows", counting)
    return stores


async def test_an_unchanged_catalogue_is_read_once_and_a_change_reads_it_again(
    demo_sessions: async_sessionmaker[AsyncSession],
    rows_read: list[str],
) -> None:
    matcher = ProductMatcher(demo_sessions)
    for _ in range(3):
        assert (await matcher.resolve("summit-outdoor", "my rain jacket leaks")).product is not None
    assert rows_read == ["summit-outdoor"]
    line = json.dumps({"type": "product", "store": "summit-outdoor", "sku": "ST-GT450", "name": "Trailguard spats"})
    assert (await import_lines(demo_sessions, [line])).ok
    assert (await matcher.resolve("summit-outdoor", "the spats")).product == CatalogueItem("ST-GT450", "Trailguard spats")
    assert rows_read == ["summit-outdoor", "summit-outdoor"]


async def test_a_rename_the_aggregate_misses_is_read_after_the_reload_interval(
    demo_sessions: async_sessionmaker[AsyncSession],
    rows_read: list[str],
) -> None:
    now = [1000.0]
    matcher = ProductMatcher(demo_sessions, clock=lambda: now[0])
    assert (await matcher.resolve("summit-outdoor", "the gaiters")).product is not None
    # The same length as "gaiters": the aggregate is unchanged.
    line = json.dumps({"type": "product", "store": "summit-outdoor", "sku": "ST-GT450", "name": "Trailguard raiders"})
    assert (await import_lines(demo_sessions, [line])).ok
    now[0] += CATALOGUE_RELOAD_SECONDS - 1
    assert (await matcher.resolve("summit-outdoor", "the raiders")).candidates == ()
    now[0] += 1
    renamed = await matcher.resolve("summit-outdoor", "the raiders")
    assert renamed.product == CatalogueItem("ST-GT450", "Trailguard raiders")
    assert rows_read == ["summit-outdoor", "summit-outdoor"]


async def test_kept_indexes_are_bounded_least_recently_asked_dropped_first(
    demo_sessions: async_sessionmaker[AsyncSession],
    rows_read: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(product_matching, "MAX_INDEXED_STORES", 2)
    matcher = ProductMatcher(demo_sessions)
    for store in ("summit-outdoor", "yangteng-auto", "summit-outdoor", "bloomkids-baby", "summit-outdoor"):
        await matcher.catalogue(store)
    # Three stores, two kept: the auto store, asked about least recently, was dropped.
    assert rows_read == ["summit-outdoor", "yangteng-auto", "bloomkids-baby"]
    await matcher.catalogue("yangteng-auto")
    assert rows_read[-1] == "yangteng-auto"
    # And by products: the demo stores hold 5 or more each, so at most 8 in all keeps one store.
    monkeypatch.setattr(product_matching, "MAX_INDEXED_PRODUCTS", 8)
    matcher = ProductMatcher(demo_sessions)
    rows_read.clear()
    for store in ("summit-outdoor", "yangteng-auto", "summit-outdoor"):
        await matcher.catalogue(store)
    assert rows_read == ["summit-outdoor", "yangteng-auto", "summit-outdoor"]


async def test_indexing_and_matching_the_catalogue_run_off_the_event_loop(
    demo_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: dict[str, int] = {}
    index_of, resolve = product_matching._index_of, Catalogue.resolve

    def indexing(*args: object) -> Catalogue:
        threads["index"] = threading.get_ident()
        return index_of(*args)  # type: ignore[arg-type]

    def resolving(catalogue: Catalogue, text: str) -> ProductMatch:
        threads.setdefault("resolve", threading.get_ident())
        return resolve(catalogue, text)

    monkeypatch.setattr(product_matching, "_index_of", indexing)
    monkeypatch.setattr(Catalogue, "resolve", resolving)
    match = await ProductMatcher(demo_sessions).resolve("summit-outdoor", "my rain jacket leaks")
    assert match.product is not None
    assert set(threads) == {"index", "resolve"}
    assert threading.get_ident() not in threads.values()
