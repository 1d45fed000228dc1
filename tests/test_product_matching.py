"""Finding the product a shopper names in the store's own catalogue (bot/product_matching.py)."""

from __future__ import annotations

import json
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.importer import import_lines
from bot.product_matching import MAX_CANDIDATES, Catalogue, CatalogueItem, ProductMatcher, singular

CAMPING = Catalogue([
    CatalogueItem("TN-400", "4-person dome tent"),
    CatalogueItem("TN-FP1", "Tent footprint"),
    CatalogueItem("GR-220", "Kettle charcoal grill"),
    CatalogueItem("HL-090", "LED headlight"),
    CatalogueItem("ST-010", "Camping stove with piezo igniter"),
])


def skus(catalogue: Catalogue, text: str) -> list[str]:
    return [item.sku for item in catalogue.resolve(text).candidates]


def test_a_generic_head_shared_by_two_products_asks_which() -> None:
    match = CAMPING.resolve("how do I install the tent?")
    assert match.ambiguous and match.product is None
    # The tent itself first: its head was named, the footprint only mentions tents.
    assert [item.sku for item in match.candidates] == ["TN-400", "TN-FP1"]


def test_a_qualified_kind_decides() -> None:
    assert skus(CAMPING, "stuck at step 3 of the dome tent") == ["TN-400"]
    assert skus(CAMPING, "the tent footprint has a hole") == ["TN-FP1"]


def test_generic_heads_and_possessives() -> None:
    assert skus(CAMPING, "my grill wobbles") == ["GR-220"]
    assert skus(CAMPING, "THE HEADLIGHT won't switch on") == ["HL-090"]
    assert skus(CAMPING, "the stove won't light") == ["ST-010"]  # head before "with ..."


def test_misspellings() -> None:
    assert skus(CAMPING, "the headlite flickers") == ["HL-090"]
    assert skus(CAMPING, "how do i set up the gril") == ["GR-220"]
    assert skus(CAMPING, "the dmoe tnet poles") == ["TN-400"]


def test_plural_and_singular_are_one() -> None:
    assert skus(CAMPING, "both grills arrived dented") == ["GR-220"]
    auto = Catalogue([CatalogueItem("BP-1", "Ceramic front brake pads"), CatalogueItem("DS-2", "Brake disc")])
    assert skus(auto, "the brake pad squeaks") == ["BP-1"]
    assert singular("batteries") == "battery" and singular("boxes") == "box" and singular("glass") == "glass"


def test_the_sku_in_any_case_with_or_without_its_dash() -> None:
    for text in ("GR-220 arrived", "is gr220 in stock", "need the manual for gr 220"):
        assert skus(CAMPING, text) == ["GR-220"]


def test_a_word_of_another_kind_before_the_head_is_not_this_product() -> None:
    auto = Catalogue([
        CatalogueItem("DP-1", "Magnetic oil drain plug M14x1.5"), CatalogueItem("OP-1", "Aluminium oil pan"),
    ])
    assert skus(auto, "wrong spark plug type in the box") == []
    assert skus(auto, "the drainplug leaks") == ["DP-1"]
    assert skus(auto, "the oil pna is dented") == ["OP-1"]


def test_nothing_named_is_no_product_and_an_unknown_name_is_reported() -> None:
    assert CAMPING.resolve("how do I install it?").candidates == ()
    assert CAMPING.resolve("how do I install it?").unknown_name is None
    assert CAMPING.resolve("can you send me the manual").unknown_name is None
    missing = CAMPING.resolve("how do I assemble the hammock?")
    assert missing.candidates == () and missing.unknown_name == "hammock"


def test_restricted_to_an_order_keeps_the_stores_kinds() -> None:
    # The order holds only the footprint: "the tent" still reaches it, as a tent accessory.
    order = CAMPING.restricted_to([CatalogueItem("TN-FP1", "Tent footprint")])
    assert skus(order, "how do i lay out the tent") == ["TN-FP1"]


def test_hostile_text_is_bounded_and_never_fails() -> None:
    kinds = ["tent", "grill", "lamp"]
    big = Catalogue(CatalogueItem(f"SKU-{n:05d}", f"model {n} {kinds[n % 3]} kit") for n in range(5000))
    texts = ["tnet " * 50_000, "/request_installation_guide{" * 10_000, "\ud800\x00" * 1000, "a" * 200_000,
             " ".join(f"w{n}" for n in range(100_000))]
    for text in texts:
        started = time.perf_counter()
        match = big.resolve(text)
        assert time.perf_counter() - started < 2.0
        assert len(match.candidates) <= MAX_CANDIDATES


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
    line = json.dumps({"type": "product", "store": "summit-outdoor", "sku": "ST-RB900",
                       "name": "Alpine cargo carrier 420 L"})
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
    line = json.dumps({"type": "product", "store": "summit-outdoor", "sku": "ST-GT450",
                       "name": "Trailguard leg warmers"})
    assert (await import_lines(demo_sessions, [line])).ok
    assert (await matcher.resolve("summit-outdoor", "the gaiters")).candidates == ()
    renamed = await matcher.resolve("summit-outdoor", "the leg warmers")
    assert renamed.product == CatalogueItem("ST-GT450", "Trailguard leg warmers")
