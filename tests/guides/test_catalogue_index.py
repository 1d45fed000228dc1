"""Which of a store's products a message names, read against the store's word index
(bot/guides/catalogue_index.py, with the words of bot/guides/product_words.py)."""

from __future__ import annotations

import itertools
import time

import pytest

from bench.product_resolution import hostile_messages, realistic_catalogue
from bot.guides.catalogue_index import MAX_CANDIDATES, MAX_TYPO_LOOKUPS, Catalogue, CatalogueItem
from bot.guides.product_words import _typo_of, name_words, singular

CAMPING = Catalogue(
    [
        CatalogueItem("TN-400", "4-person dome tent"),
        CatalogueItem("TN-FP1", "Tent footprint"),
        CatalogueItem("GR-220", "Kettle charcoal grill"),
        CatalogueItem("HL-090", "LED headlight"),
        CatalogueItem("ST-010", "Camping stove with piezo igniter"),
    ]
)


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
    auto = Catalogue(
        [
            CatalogueItem("DP-1", "Magnetic oil drain plug M14x1.5"),
            CatalogueItem("OP-1", "Aluminium oil pan"),
        ]
    )
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
    texts = [
        "tnet " * 50_000,
        "/request_installation_guide{" * 10_000,
        "\ud800\x00" * 1000,
        "a" * 200_000,
        " ".join(f"w{n}" for n in range(100_000)),
    ]
    for text in texts:
        started = time.perf_counter()
        match = big.resolve(text)
        assert time.perf_counter() - started < 2.0
        assert len(match.candidates) <= MAX_CANDIDATES


#: A large store with varied names (bench/product_resolution.py), built once for the tests below.
LARGE_ITEMS = realistic_catalogue(5000)
LARGE = Catalogue(LARGE_ITEMS)


def index_words(items: list[CatalogueItem]) -> set[str]:
    """The words a catalogue's index holds that a typo can be of: its names' words and adjacent pairs."""
    words: set[str] = set()
    for item in items:
        named, _ = name_words(item.name)
        words.update(named)
        words.update(first + second for first, second in itertools.pairwise(named))
    return {word for word in words if word.isalpha() and len(word) >= 3}


@pytest.fixture
def typo_pools(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """Every typo search a resolve makes: the typed word and the catalogue words compared with it."""
    searched: list[tuple[str, list[str]]] = []
    pool_of = Catalogue._typo_pool

    def recording(catalogue: Catalogue, typed: str) -> list[str]:
        pool = pool_of(catalogue, typed)
        searched.append((typed, pool))
        return pool

    monkeypatch.setattr(Catalogue, "_typo_pool", recording)
    return searched


def test_eighty_unknown_words_or_typos_cost_a_few_small_typo_searches(
    typo_pools: list[tuple[str, list[str]]],
) -> None:
    vocabulary = index_words(LARGE_ITEMS)
    # As large as a real store's (38,000 index words with codes): the case once measured at 0.5-0.8 s.
    assert len(vocabulary) > 25_000
    messages = hostile_messages(LARGE_ITEMS)
    for label in ("80 unknown words", "80 near-miss typos"):
        typo_pools.clear()
        assert len(set(messages[label].split())) == 80
        assert len(LARGE.resolve(messages[label]).candidates) <= MAX_CANDIDATES
        # A few words, the first ones, each compared only with words of its first letter and a
        # length it can be a typo of: all of them together with fewer than half the index's words
        # (each of the 80 used to be compared with all of them, twice: 160 times as many).
        unknown = [word for word in map(singular, messages[label].split()) if word not in vocabulary]
        assert [typed for typed, _ in typo_pools] == unknown[:MAX_TYPO_LOOKUPS], label
        for typed, pool in typo_pools:
            reach = max(2, len(typed) // 2)
            assert all(word[0] == typed[0] and abs(len(word) - len(typed)) <= reach for word in pool)
        compared = sum(len(pool) for _, pool in typo_pools)
        assert compared < len(vocabulary) / 2, (label, compared)


def test_the_typo_search_finds_what_a_search_of_every_word_finds() -> None:
    vocabulary = index_words(LARGE_ITEMS)
    for typed in hostile_messages(LARGE_ITEMS)["80 near-miss typos"].split()[:40]:
        everywhere = sorted(word for word in vocabulary if _typo_of(typed, word))
        assert [word for word, _ in LARGE._typos_of(typed)] == everywhere, typed


def test_a_typo_among_the_first_words_of_a_long_message_is_found(typo_pools: list[tuple[str, list[str]]]) -> None:
    unknown = hostile_messages(LARGE_ITEMS)["80 unknown words"].split()
    assert skus(CAMPING, "the headlite " + " ".join(unknown[:79])) == ["HL-090"]
    # Past the first few unknown words a slip is no longer looked for: that is the bound.
    typo_pools.clear()
    assert skus(CAMPING, " ".join(unknown[:MAX_TYPO_LOOKUPS]) + " the headlite") == []
    assert "headlite" not in [typed for typed, _ in typo_pools]
    # Exact words are not bounded: "headlight" after 40 unknown words (within the 500 characters
    # read) is still the headlight.
    assert skus(CAMPING, " ".join(unknown[:40]) + " the headlight") == ["HL-090"]
