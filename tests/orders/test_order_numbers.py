"""Order numbers of any shape (bot/orders/order_numbers.py): learned shapes, the general
fallback, one normalisation for stored and typed numbers, bounded work on hostile text.
Migration 0018, which learns the shapes of the orders on file and re-keys them, is tested in
tests/core/test_migrations.py.

Shapes beyond the issue's list come from the platforms' own documentation: Shopify's
order names ("#1001", a store's own prefix and suffix), WooCommerce's plain ids and the
Sequential Order Numbers plugins' prefixes, suffixes, dates and zero-padding
("WC-2026-0001", "#SAM-123-2026", "X/123/Y", "FREE-1", "00001"), Magento's nine-digit
zero-padded increment ids ("000000123", with a store prefix "M00000101"), VTEX's
13-digit order ids with a "-01" split suffix and affiliate "XYZ-" prefixes, Craft
Commerce "WEB00001", Reverb's channel prefix "R-1000049494", Amazon 3-7-7, eBay
2-5-5, AliExpress 16 digits, Etsy 10 digits, Shopee/Lazada "2411230ABCDEF1".
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.orders import order_numbers
from bot.orders.order_numbers import (
    MAX_FALLBACK_CANDIDATES,
    MAX_MATCHES_PER_SHAPE,
    MAX_SCANNED_CHARS,
    MAX_SHAPES,
    find_order_number,
    find_order_number_match,
    lookup_key,
    plain_text,
    shape_of,
)

# --- shapes ---


@pytest.mark.parametrize(
    ("number", "shape"),
    [
        ("H-77001", "H-99999"),  # one-letter prefix
        ("SO-2026-00123", "SO-9999-99999"),  # a year inside
        ("PO#88812", "PO#99999"),
        ("12-34567-89012", "99-99999-99999"),  # eBay
        ("113-4928371-0029384", "999-9999999-9999999"),  # Amazon
        ("000004321", "999999999"),  # Magento, zero-padded
        ("1234567890123456", "9999999999999999"),  # AliExpress, 16 digits
        ("3561234567", "9999999999"),  # Etsy, 10 digits
        ("#1001", "9999"),  # Shopify's name: the "#" is decoration
        ("ORD-1001-X", "ORD-9999-X"),  # Shopify custom prefix and suffix
        ("WC-2026-0001", "WC-9999-9999"),  # WooCommerce sequential-numbers plugin
        ("X/123/Y", "X/999/Y"),  # WooCommerce prefix and suffix by filter
        ("2411230ABCDEF1", "9999999aaaaaa9"),  # Shopee: random letters inside count, not spell
        ("1234567890123-01", "9999999999999-99"),  # VTEX order id with its split suffix
        ("WEB00001", "WEB99999"),  # Craft Commerce
        ("so 2026 00123", "SO 9999 99999"),
    ],
)
def test_shape_of(number: str, shape: str) -> None:
    assert shape_of(number) == shape


@pytest.mark.parametrize("number", ["ORDER", "", "#", "订单1234", "x" * 30 + "1" * 20, "A1(2)3"])
def test_no_shape_for_what_no_typed_number_could_match(number: str) -> None:
    assert shape_of(number) is None


# --- one key for stored and typed numbers ---


@pytest.mark.parametrize(
    "variants",
    [
        ("SO-2026-00123", "so 2026 00123", "so2026-00123", "#SO-2026-00123", " SO 2026-00123 ", "So_2026.00123"),
        ("PO#88812", "PO-88812", "po 88812", "PO # 88812", "po88812"),
        ("H-77001", "h 77001", "h-77001", "H77001", "#h77001"),
        ("12-34567-89012", "12 34567 89012", "123456789012"),
        ("000004321", "4321", "#4321", "0004321", "00-00-04321"),
        ("#1047", "1047", " # 1047"),
    ],
)
def test_lookup_key_is_one_for_every_way_of_typing_a_number(variants: tuple[str, ...]) -> None:
    assert len({lookup_key(v) for v in variants}) == 1, {v: lookup_key(v) for v in variants}


def test_lookup_key_keeps_what_tells_orders_apart() -> None:
    assert lookup_key("SO-2026-00123") == "SO202600123"
    assert lookup_key("SO-2026-00123") != lookup_key("SO-2026-00124")
    # Leading zeros count when the number has letters: "H-077001" is not "H-77001".
    assert lookup_key("H-077001") != lookup_key("H-77001")
    assert lookup_key("0") == lookup_key("000") == "0"
    assert len(lookup_key("9" * 500)) == 64


# --- finding a number in a message ---

#: A store that numbers its orders "H-77001" and "SO-2026-00123" (both kinds at once).
HS = ["H-99999", "SO-9999-99999"]


@pytest.mark.parametrize(
    ("text", "shapes", "key"),
    [
        ("where is H-77001?", HS, "H77001"),
        ("h 77001", HS, "H77001"),
        ("my order is h77001 thanks", HS, "H77001"),
        ("so 2026 00123", HS, "SO202600123"),
        ("order SO-2026-00123 please", HS, "SO202600123"),
        ("so2026-00123", HS, "SO202600123"),
        ("#SO-2026-00123", HS, "SO202600123"),
        ("it's PO#88812", ["PO#99999"], "PO88812"),
        ("po 88812", ["PO#99999"], "PO88812"),
        ("PO # 88812 hasn't come", ["PO#99999"], "PO88812"),
        ("ebay 12 34567 89012", ["99-99999-99999"], "123456789012"),
        ("X/123/Y", ["X/999/Y"], "X123Y"),  # three digits: found only by the learned shape
        ("free-7", ["FREE-9"], "FREE7"),
        ("zip 10027 and order H-77001", HS, "H77001"),  # the postcode isn't the store's shape
    ],
)
def test_the_stores_own_shapes_find_its_numbers(text: str, shapes: list[str], key: str) -> None:
    found = find_order_number_match(text, shapes)
    assert found is not None and found.learned
    assert lookup_key(found.number) == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("H-77001", "H77001"),
        ("SO-2026-00123", "SO202600123"),
        ("PO#88812", "PO88812"),
        ("12-34567-89012", "123456789012"),
        ("000004321", "4321"),
        ("my number is 1234567890123456", "1234567890123456"),  # AliExpress: no phone, no postcode
        ("etsy 3561234567", "3561234567"),
        ("113-4928371-0029384", "11349283710029384"),
        ("#1001", "1001"),
        ("ORD-1001-X", "ORD1001X"),
        ("WC-2026-0001", "WC20260001"),
        ("#SAM-123-2026", "SAM1232026"),
        ("2411230ABCDEF1", "2411230ABCDEF1"),
        ("1234567890123-01", "123456789012301"),
        ("M00000101", "M00000101"),
        ("R-1000049494", "R1000049494"),
        ("XYZ-1234567890123-01", "XYZ123456789012301"),
        ("Order # 1047 please", "1047"),
        ("zip 10027, order #1047", "1047"),  # "#" says order number more than a bare number does
        ('/inform{"order_id":"H-77001"}', "H77001"),
    ],
)
def test_a_new_store_without_learned_shapes_still_finds_numbers(text: str, key: str) -> None:
    found = find_order_number_match(text, [])
    assert found is not None and not found.learned
    assert lookup_key(found.number) == key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Hi, where is my parcel?",
        "I bought 2 pads on 12 Nov",
        "hello #12",
        "delivered on 2026-11-30",
        "on 30/11/2026 at 10:30",
        "call me on 415-555-0132",
        "call +4915112345678",
        "it cost 1299.00",
        "my email is alex1988@example.com",
        "the 1500mAh battery",
        "zip+4 is 94110-1234",
        "server 10.0.0.1",
    ],
)
def test_what_is_not_an_order_number(text: str) -> None:
    assert find_order_number(text) is None


def test_a_postcode_is_no_order_number_by_a_shape_with_letters() -> None:
    assert find_order_number("SW1A 1AA", HS) is None
    assert find_order_number("K1A 0B1", HS) is None


def test_zero_padded_numbers_are_found_without_their_zeros() -> None:
    # Magento pads to nine digits; the shopper typing "4321" means the same order (the key
    # drops leading zeros of all-digit numbers), at four digits or more like any bare number.
    magento = ["999999999"]
    assert lookup_key(find_order_number("order 4321", magento) or "") == lookup_key("000004321")
    assert lookup_key(find_order_number("000004321", magento) or "") == lookup_key("000004321")
    assert find_order_number("order 321", magento) is None  # three digits: too little to be sure


def test_the_leftmost_longest_learned_match_wins() -> None:
    # "2026" would match a four-digit shape too; the whole "SO-2026-00123" starts first.
    assert find_order_number("SO-2026-00123", ["9999", "SO-9999-99999"]) == "SO-2026-00123"
    assert find_order_number("not H-77001 but H-77002", HS) == "H-77001"


def test_the_number_keeps_the_shape_the_shopper_typed() -> None:
    assert find_order_number("so  2026 00123 pls", HS) == "so 2026 00123"
    assert find_order_number("Order # 1047 please") == "#1047"


# --- one ranking for learned and general candidates: other numbers in the message ---

#: Shopify-style stores: the demo baby store's "#1024".."#1061" teach "9999"; five digits "99999".
FOUR_DIGITS, FIVE_DIGITS = ["9999"], ["99999"]


@pytest.mark.parametrize("shapes", [FOUR_DIGITS, []])
@pytest.mark.parametrize(
    "text",
    [
        "I ordered in 2026, order #1047",  # a year of the store's shape, before the number
        "I paid $1299.00 for order #1047",  # a price of the store's shape
        "the 1500 W heater, order 1047",  # a wattage of the store's shape
        "delivered on 2026-11-30, order 1047",  # part of a date
        "call me on 415-555-0132 about order 1047",  # the end of a phone number
        "it was 1299,50 € and the order 1047",
        "€ 1299 for order 1047",
        "1299円 注文番号は1047",
        "my phone number is 4155550132 and my order 1047",  # "number" of a phone says nothing
    ],
)
def test_other_numbers_in_the_message_are_not_the_order_number(text: str, shapes: list[str]) -> None:
    assert lookup_key(find_order_number(text, shapes) or "") == "1047"


@pytest.mark.parametrize(
    ("text", "shapes", "number", "learned"),
    [
        # A postcode of the store's shape: the words before each number decide.
        ("zip 10027, order 48213", FIVE_DIGITS, "48213", True),
        ("zip 10027, order #1047", FIVE_DIGITS, "#1047", False),
        ("zip 10027, order #1047", FOUR_DIGITS, "1047", True),
        ("zip 10027, order #1047", [], "#1047", False),
        ("postal code: 10027 / order number is 48213", FIVE_DIGITS, "48213", True),
        ("PLZ 10115, Bestellnummer 48213", FIVE_DIGITS, "48213", True),
        ("邮编10027，订单号48213", FIVE_DIGITS, "48213", True),
        ("commande n° 48213, code postal 75001", FIVE_DIGITS, "48213", True),
        # The words before beat what found it: "zip" says 10027 is not the order.
        ("zip 10027, order FZ-20931", FIVE_DIGITS, "FZ-20931", False),
        # Without words: a learned shape with letters, then a learned digits-only one, then the fallback.
        ("1047 or H-77001", ["9999", "H-99999"], "H-77001", True),
        ("10027 and 1047", FOUR_DIGITS, "1047", True),
        # ...then the marks ("#"), then the leftmost.
        ("1048 or #1047", FOUR_DIGITS, "1047", True),
        ("1048 or 1047", FOUR_DIGITS, "1048", True),
        # "ordered" and "record" are not "order".
        ("ordered 2026 record 1047 thanks", FOUR_DIGITS, "2026", True),
    ],
)
def test_learned_and_general_candidates_are_ranked_together(
    text: str, shapes: list[str], number: str, learned: bool
) -> None:
    found = find_order_number_match(text, shapes)
    assert found is not None and (found.number, found.learned) == (number, learned)


@pytest.mark.parametrize(
    "text", ["$1299.00", "it cost 1299,50", "1299 €", "on 30/11/2026", "2026-11-30", "10.0.1047.1", "415-555-0132"]
)
def test_a_price_or_part_of_a_longer_number_is_no_number_of_a_digits_only_shape(text: str) -> None:
    assert find_order_number(text, FOUR_DIGITS) is None


def test_a_digits_only_shape_matches_after_letters_or_a_hash() -> None:
    # Joined to letters, not to digits: still the store's number as the shopper typed it.
    assert find_order_number("order#1047", FOUR_DIGITS) == "1047"
    assert find_order_number("No.1047", FOUR_DIGITS) == "1047"


# --- full-width forms ---


@pytest.mark.parametrize(
    ("text", "shapes", "number"),
    [
        ("order １０４７", FOUR_DIGITS, "1047"),
        ("order １０４７", [], "1047"),
        ("ＦＺ-20931", [], "FZ-20931"),
        ("ＦＺ－２０９３１ please", ["FZ-99999"], "FZ-20931"),
        ("订单号：＃１０４７", FOUR_DIGITS, "1047"),
        ("注文番号は１０４７です", FOUR_DIGITS, "1047"),
    ],
)
def test_full_width_numbers_are_found_as_their_plain_forms(text: str, shapes: list[str], number: str) -> None:
    found = find_order_number_match(text, shapes)
    assert found is not None and found.number == number
    assert found.learned == bool(shapes)
    # The positions are in the plain text.
    assert plain_text(text)[found.start : found.end].lstrip("#") == number


def test_positions_are_in_the_plain_text_even_when_it_is_longer() -> None:
    # "㍿" is four characters in its plain form: a position in the typed text would be off by three.
    text = "㍿ order H-77001"
    found = find_order_number_match(text, HS)
    assert found is not None and plain_text(text)[found.start : found.end] == "H-77001"


# --- hostile input: bounded work ---


def _fast(call: Any, *args: Any) -> Any:
    started = time.perf_counter()
    result = call(*args)
    assert time.perf_counter() - started < 0.25, "took too long"
    return result


@pytest.mark.parametrize(
    "text",
    [
        "9" * 100_000,
        "H-" * 50_000,
        "1-" * 50_000,
        "# " * 50_000,
        "so " * 30_000 + "2026",
        "a1" * 50_000,
        "x" * 100_000 + " H-77001",
        "SO-2026-" * 10_000,
    ],
)
def test_hostile_text_is_read_in_bounded_time(text: str) -> None:
    for shapes in ([], HS, ["9" * 20, "a" * 10 + "-9", "SO 9999 99999"]):
        found = _fast(find_order_number, text, shapes)
        assert found is None or len(found) <= order_numbers.MAX_ORDER_NUMBER_CHARS


def test_thousands_of_digits_are_no_order_number() -> None:
    assert find_order_number("my order is " + "1" * 5000) is None
    assert find_order_number("my order is " + "1" * 5000, ["9999"]) is None


def test_only_the_start_of_a_long_message_is_read() -> None:
    assert find_order_number("x " * MAX_SCANNED_CHARS + "H-77001", HS) is None
    assert find_order_number("H-77001 " + "x " * MAX_SCANNED_CHARS, HS) == "H-77001"


def test_a_few_matches_of_each_shape_are_weighed_and_prices_do_not_use_them_up() -> None:
    first = [str(1001 + n) for n in range(MAX_MATCHES_PER_SHAPE)]
    # Past the limit, even "order #1099" is not weighed: the limit is what is weighed.
    assert find_order_number(" ".join(first) + " order #1099", FOUR_DIGITS) == "1001"
    # Prices are left out before they are counted.
    prices = " ".join(f"${n}" for n in first * 3)
    assert find_order_number(f"{prices} order 1099", FOUR_DIGITS) == "1099"


@pytest.mark.parametrize(
    "text",
    [
        "order #1234 " * 300,
        "$1234.00 " * 300,
        "1-2-3-4-" * 500,
        "zip " * 400 + "1234",
        "订单号" * 500 + "1234",
        "order number is " * 100 + "1234",
        "１２３４ " * 500,
    ],
)
def test_many_numbers_and_words_are_read_in_bounded_time(text: str) -> None:
    for shapes in ([], FOUR_DIGITS, ["9999"] * MAX_SHAPES):
        found = _fast(find_order_number, text, shapes)
        assert found is None or len(found) <= order_numbers.MAX_ORDER_NUMBER_CHARS


def test_many_candidates_in_one_message_weigh_only_a_few() -> None:
    # Bare numbers first, then a marked one past the limit: the limit is what is weighed.
    bare = " ".join(str(10000 + n) for n in range(MAX_FALLBACK_CANDIDATES))
    assert find_order_number(f"{bare} #7777") == "10000"
    assert find_order_number("#7777 " + bare) == "#7777"
    many = " ".join(f"H-{70000 + n}" for n in range(5000))
    assert _fast(find_order_number, many, HS) == "H-70000"


def test_only_the_most_common_shapes_are_tried() -> None:
    shapes = [f"Q{chr(65 + n // 26)}{chr(65 + n % 26)}-9999" for n in range(MAX_SHAPES)] + ["ZZZ-99999"]
    past_the_limit = find_order_number_match("ZZZ-12345", shapes)
    assert past_the_limit is not None and not past_the_limit.learned  # found, but by the fallback
    within = find_order_number_match("QAA-1234", shapes)
    assert within is not None and within.learned
