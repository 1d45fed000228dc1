"""Order lookup (bot/orders/lookup.py) and the "where is my order?" text (bot/shipping/tracking.py)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import Order, OrderItem, Shipment, TrackingEvent, TrackingTag
from bot.orders.lookup import (
    MAX_PROOF_TEXT,
    OrderAnswer,
    OrderService,
    find_order_number,
    find_proof,
    order_lookup_key,
    proof_matches,
    read_order_answer,
)
from bot.shipping.tracking import STATUS_MEANING, describe_order

UTC = dt.UTC
Sessions = async_sessionmaker[AsyncSession]

YANGTENG, BLOOMKIDS, SUMMIT = "yangteng-auto", "bloomkids-baby", "summit-outdoor"


# --- order numbers ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi, where is my order 113-4928371-0029384? It's late.", "113-4928371-0029384"),
        ("amazon order number:113-4928371-0029384", "113-4928371-0029384"),
        ("Order #1047 hasn't arrived yet", "#1047"),
        ("It's order # 1047, placed last week", "#1047"),
        ("my order FZ-20931 is late, zip 10027", "FZ-20931"),
        ("where's fz-20931 please", "fz-20931"),
        ("order #1047, zip 10027", "#1047"),
        ("the number is 1047", "1047"),
    ],
)
def test_find_order_number_in_sentences(text: str, expected: str) -> None:
    found = find_order_number(text)
    assert found is not None
    assert order_lookup_key(found) == order_lookup_key(expected)


def test_find_order_number_keeps_the_shape_the_shopper_typed() -> None:
    assert find_order_number("Order # 1047 please") == "#1047"
    assert find_order_number("order 113-4928371-0029384 now") == "113-4928371-0029384"
    assert find_order_number("my order is fz-20931.") == "fz-20931"


@pytest.mark.parametrize(
    "text",
    ["", "Hi, where is my parcel?", "I bought 2 pads on 12 Nov", "hello #12"],
)
def test_find_order_number_none_without_one(text: str) -> None:
    assert find_order_number(text) is None


def test_order_lookup_key() -> None:
    assert order_lookup_key("#1047") == order_lookup_key("1047") == order_lookup_key(" # 1047") == "1047"
    assert order_lookup_key("fz-20931") == order_lookup_key("FZ-20931") == order_lookup_key("fz 20931") == "FZ20931"
    assert order_lookup_key("113-4928371-0029384") == "11349283710029384"
    assert order_lookup_key("#1047") != order_lookup_key("#1048")


def test_find_order_number_uses_the_stores_shapes() -> None:
    # Without the store's shape "h 77001" is only its digits; with it, the whole number.
    assert find_order_number("h 77001") == "77001"
    assert find_order_number("h 77001", ["H-99999"]) == "h 77001"


# --- one message, read for both the order number and the proof ---

HS = ("H-99999", "SO-9999-99999")


@pytest.mark.parametrize(
    ("text", "asking_for_proof", "number", "proof"),
    [
        # Asked for the number: its digits are never taken for a postcode.
        ("h 77001", False, "h 77001", None),
        ("so 2026 00123", False, "so 2026 00123", None),
        ("10027", False, "10027", None),
        ("H-77001, zip 10027", False, "H-77001", "10027"),
        ("order SO-2026-00123 email alex@example.com", False, "SO-2026-00123", "alex@example.com"),
        ("hmm", False, None, None),
        # Asked for the proof: a postcode is a postcode, even when it could be a number...
        ("10027", True, None, "10027"),
        ("my zip is 94110-1234", True, None, "94110-1234"),
        ("SW1A 1AA", True, None, "SW1A 1AA"),
        ("alex@example.com", True, None, "alex@example.com"),
        # ...but a number of the store's shape corrects the order number.
        ("sorry, it's H-77002", True, "H-77002", None),
        ("sorry it's H-77002, zip 10027", True, "H-77002", "10027"),
        ("not sure", True, None, None),
    ],
)
def test_read_order_answer(text: str, asking_for_proof: bool, number: str | None, proof: str | None) -> None:
    assert read_order_answer(text, HS, asking_for_proof) == OrderAnswer(number, proof)


@pytest.mark.parametrize(
    ("text", "shapes", "asking_for_proof", "number", "proof"),
    [
        # A postcode of the store's own shape: "zip" says which number is which.
        ("zip 10027, order 48213", ("99999",), False, "48213", "10027"),
        ("order 48213, zip 10027", ("99999",), False, "48213", "10027"),
        # Full-width forms are read as their plain ones, the number and the proof alike.
        ("ＦＺ-２０９３１, zip １００２７", (), False, "FZ-20931", "10027"),
        ("sorry, it's Ｈ－７７００２", HS, True, "H-77002", None),
        ("１００２７", HS, True, None, "10027"),
        # "㍿" is four characters in its plain form: the number is cut out of the plain text,
        # so none of its digits are left over to be taken for a postcode.
        ("㍿㍿㍿ H-77001", HS, False, "H-77001", None),
    ],
)
def test_read_order_answer_with_other_numbers_and_full_width_forms(
    text: str, shapes: tuple[str, ...], asking_for_proof: bool, number: str | None, proof: str | None
) -> None:
    assert read_order_answer(text, shapes, asking_for_proof) == OrderAnswer(number, proof)


def test_a_16_digit_marketplace_number_is_no_postcode_or_phone() -> None:
    answer = read_order_answer("my order 1234567890123456", [], asking_for_proof=False)
    assert answer == OrderAnswer("1234567890123456", None)


# --- proofs ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my email is Alex@Example.com, thanks", "Alex@Example.com"),
        ("alex.miller+shop@mail.example.co.uk", "alex.miller+shop@mail.example.co.uk"),
        ("zip is 10027", "10027"),
        ("It's 94110-1234 I think", "94110-1234"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("postcode sw1a1aa", "sw1a1aa"),
        ("my postal code is K1A 0B1.", "K1A 0B1"),
        ("  10027  ", "10027"),
    ],
)
def test_find_proof(text: str, expected: str) -> None:
    assert find_proof(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I paid $1299.00 for it, zip 10027", "10027"),
        ("it cost 1299,50 € and my postcode is 10115", "10115"),
        ("¥ 8990 paid, postcode 100000", "100000"),
    ],
)
def test_a_price_is_never_the_proof(text: str, expected: str) -> None:
    assert find_proof(text) == expected


@pytest.mark.parametrize(
    "text", ["", "   ", "I don't remember", "x" * 200 + " zip 10027", "I paid $1299.00", "it was 1299,50 €", "€ 4999"]
)
def test_find_proof_none(text: str) -> None:
    assert find_proof(text) is None


def test_find_proof_length_limit_is_exact() -> None:
    at_limit = "zip 10027 " + "x" * (MAX_PROOF_TEXT - 10)
    assert len(at_limit) == MAX_PROOF_TEXT
    assert find_proof(at_limit) == "10027"
    assert find_proof(at_limit + "x") is None


def _order(email: str = "alex@example.com", postcode: str = "10027", country: str = "US") -> Order:
    return Order(shopper_email=email, shipping_postcode=postcode, shipping_country=country)


@pytest.mark.parametrize(
    ("order", "proof", "matches"),
    [
        (_order(), "alex@example.com", True),
        (_order(), " ALEX@Example.COM ", True),
        (_order(), "alex@example.org", False),
        (_order(), "10027", True),
        (_order(), "10027-1234", True),
        (_order(postcode="10027-1234"), "10027", True),
        (_order(), "10028", False),
        (_order(), "1002", False),
        (_order(), "", False),
        (_order(), "   ", False),
        (_order(postcode="SW1A 1AA", country="GB"), "sw1a1aa", True),
        (_order(postcode="SW1A 1AA", country="GB"), " sw1a 1aa ", True),
        (_order(postcode="SW1A 1AA", country="GB"), "SW1A 1AB", False),
        (_order(postcode="K1A 0B1", country="CA"), "k1a0b1", True),
        # The ZIP+4 allowance is for US orders only.
        (_order(postcode="10115", country="DE"), "10115-1234", False),
    ],
)
def test_proof_matches(order: Order, proof: str, matches: bool) -> None:
    assert proof_matches(order, proof) is matches


# --- OrderService on the demo data ---


@pytest.mark.parametrize(
    ("store", "number", "proof"),
    [
        (YANGTENG, "FZ-20931", "alex@example.com"),
        (YANGTENG, "FZ-20931", "ALEX@Example.COM"),
        (YANGTENG, "fz-20931", " alex@example.com "),
        (YANGTENG, "FZ-20931", "10027"),
        (YANGTENG, "FZ-20931", " 10027 "),
        (YANGTENG, "FZ-20931", "10027-4321"),
        (BLOOMKIDS, "#1041", "sw1a1aa"),
        (BLOOMKIDS, "1041", "SW1A 1AA"),
        (BLOOMKIDS, "# 1041", "Sw1a 1aA"),
        (BLOOMKIDS, "#1024", "k1a0b1"),
        (SUMMIT, "114-2083917-5531842", "Alex@example.com"),
    ],
)
async def test_find_verified_order_right_proof(demo_sessions: Sessions, store: str, number: str, proof: str) -> None:
    order = await OrderService(demo_sessions).find_verified_order(store, number, proof)
    assert order is not None
    assert order.store_id == store
    assert order.lookup_key == order_lookup_key(number)


@pytest.mark.parametrize(
    ("store", "number", "proof"),
    [
        (YANGTENG, "FZ-20931", "jessica.carter@example.org"),  # another shopper's email
        (YANGTENG, "FZ-20931", "alex@example.co"),
        (YANGTENG, "FZ-20931", "10028"),
        (YANGTENG, "FZ-20931", ""),
        (YANGTENG, "FZ-99999", "alex@example.com"),  # unknown number
        (BLOOMKIDS, "#1041", "SW1A 1AB"),
        ("no-such-store", "FZ-20931", "alex@example.com"),
    ],
)
async def test_find_verified_order_wrong_proof_or_number(
    demo_sessions: Sessions, store: str, number: str, proof: str
) -> None:
    assert await OrderService(demo_sessions).find_verified_order(store, number, proof) is None


@pytest.mark.parametrize(
    ("owner", "number", "email", "other_store"),
    [
        (YANGTENG, "FZ-20931", "alex@example.com", BLOOMKIDS),
        (YANGTENG, "FZ-20931", "alex@example.com", SUMMIT),
        (SUMMIT, "114-2083917-5531842", "alex@example.com", YANGTENG),
        (BLOOMKIDS, "#1038", "jessica.carter@example.org", YANGTENG),
        (YANGTENG, "FZ-20588", "jessica.carter@example.org", BLOOMKIDS),
    ],
)
async def test_another_stores_order_is_never_returned(
    demo_sessions: Sessions, owner: str, number: str, email: str, other_store: str
) -> None:
    service = OrderService(demo_sessions)
    # The order really exists, with this email, in its own store...
    mine = await service.find_verified_order(owner, number, email)
    assert mine is not None and mine.store_id == owner
    # ...but another store can't reach it by any route.
    assert await service.find_verified_order(other_store, number, email) is None
    assert await service.find_verified_order(other_store, number, mine.shipping_postcode) is None
    assert await service.find_order(other_store, number) is None
    assert await service.find_shopper_order(other_store, number, email) is None


async def test_recent_orders_are_scoped_to_the_store(demo_sessions: Sessions) -> None:
    service = OrderService(demo_sessions)
    # alex@example.com shops at both yangteng-auto and summit-outdoor.
    yangteng = await service.recent_orders(YANGTENG, "alex@example.com")
    summit = await service.recent_orders(SUMMIT, "alex@example.com")
    assert [o.order_number for o in yangteng] == ["FZ-21055", "FZ-20931", "FZ-20412"]
    assert [o.order_number for o in summit] == ["114-2083917-5531842"]
    assert await service.recent_orders(BLOOMKIDS, "alex@example.com") == []


async def test_recent_orders_newest_first_and_limited(demo_sessions: Sessions) -> None:
    service = OrderService(demo_sessions)
    orders = await service.recent_orders(YANGTENG, "  Alex@Example.com ", limit=2)
    assert [o.order_number for o in orders] == ["FZ-21055", "FZ-20931"]
    newest = orders[0]
    assert newest.status == "processing"
    assert newest.item_names == ["Ceramic front brake pads"]
    assert dt.datetime.fromisoformat(newest.placed_at_iso) == dt.datetime(2026, 11, 25, 2, 15, tzinfo=UTC)
    placed = [dt.datetime.fromisoformat(o.placed_at_iso) for o in await service.recent_orders(YANGTENG, "alex@example.com")]
    assert placed == sorted(placed, reverse=True)
    assert len(await service.recent_orders(YANGTENG, "alex@example.com", limit=1)) == 1
    assert await service.recent_orders(YANGTENG, "nobody@example.com") == []


async def test_find_shopper_order_requires_the_shoppers_email(demo_sessions: Sessions) -> None:
    service = OrderService(demo_sessions)
    order = await service.find_shopper_order(YANGTENG, "fz-20931", " ALEX@example.com ")
    assert order is not None and order.order_number == "FZ-20931"
    assert await service.find_shopper_order(YANGTENG, "FZ-20931", "jessica.carter@example.org") is None
    assert await service.find_shopper_order(YANGTENG, "FZ-99999", "alex@example.com") is None
    other = await service.find_shopper_order(YANGTENG, "FZ-20588", "jessica.carter@example.org")
    assert other is not None and other.shopper_email == "jessica.carter@example.org"


async def test_find_order_loads_items_shipments_and_events(demo_sessions: Sessions) -> None:
    service = OrderService(demo_sessions)
    order = await service.find_order(YANGTENG, "fz-20588")
    assert order is not None
    # The session is closed: everything below must already be loaded.
    assert order.order_number == "FZ-20588"
    assert [i.name for i in order.items] == ["Aluminium oil pan", "Oil pan gasket", "Ceramic front brake pads"]
    assert [s.tracking_number for s in order.shipments] == ["784512369021", "784512369138"]
    first, second = order.shipments
    assert len(first.events) == 6 and len(second.events) == 5
    assert first.events[-1].message == "Delivered, left at front door"
    assert second.events[-1].location == "Memphis, TN, US"
    for ship in order.shipments:
        times = [e.occurred_at for e in ship.events]
        assert times == sorted(times)
        assert all(t.tzinfo is not None for t in times)
    assert await service.find_order(YANGTENG, "FZ-99999") is None


async def test_store_name(demo_sessions: Sessions) -> None:
    service = OrderService(demo_sessions)
    assert await service.store_name(YANGTENG) == "Yangteng Auto Parts"
    assert await service.store_name("no-such-store") is None


# --- describe_order ---


async def _demo_order(sessions: Sessions, store: str, number: str) -> Order:
    order = await OrderService(sessions).find_order(store, number)
    assert order is not None
    return order


async def test_describe_in_transit_order(demo_sessions: Sessions) -> None:
    text = describe_order(await _demo_order(demo_sessions, YANGTENG, "FZ-20931"))
    assert text.startswith("Order FZ-20931 (1 × Aluminium oil pan) has shipped.")
    assert "USPS" in text
    assert "9400111899223100000000" in text
    assert "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223100000000" in text
    assert "27 Nov 2026" in text
    assert STATUS_MEANING[TrackingTag.InTransit] in text
    assert "Shipment 1 of" not in text
    [latest] = [line for line in text.splitlines() if line.startswith("Latest update:")]
    assert "Arrived at USPS regional facility" in latest
    assert "Jersey City, NJ" in latest
    # An earlier event is not presented as the latest.
    assert "Processed through USPS international service center" not in text


async def test_event_times_are_in_the_shoppers_timezone(demo_sessions: Sessions) -> None:
    text = describe_order(await _demo_order(demo_sessions, YANGTENG, "FZ-20931"))
    local = dt.datetime(2026, 11, 24, 8, 12, tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    assert f"{local:%H:%M}" == "03:12"
    [latest] = [line for line in text.splitlines() if line.startswith("Latest update:")]
    assert latest.endswith("Tue 24 Nov, 03:12 (America/New_York)")
    assert "08:12" not in text


async def test_describe_order_with_two_shipments(demo_sessions: Sessions) -> None:
    text = describe_order(await _demo_order(demo_sessions, YANGTENG, "FZ-20588"))
    assert "Shipment 1 of 2" in text and "Shipment 2 of 2" in text
    one, two = text.index("Shipment 1 of 2"), text.index("Shipment 2 of 2")
    assert one < text.index("784512369021") < two < text.index("784512369138")
    first, second = text[one:two], text[two:]
    # The delivered parcel shows when it was delivered (shopper's local time), the other its estimate.
    assert "Delivered: Sat 07 Nov, 12:32 (America/Los_Angeles)" in first
    assert "Estimated delivery" not in first
    assert STATUS_MEANING[TrackingTag.Delivered] in first
    assert "Estimated delivery: Sat 28 Nov 2026" in second
    assert STATUS_MEANING[TrackingTag.InTransit] in second
    assert "Memphis, TN, US" in second


@pytest.mark.parametrize(("store", "number"), [(YANGTENG, "FZ-20755"), (BLOOMKIDS, "#1041")])
async def test_describe_customs_hold(demo_sessions: Sessions, store: str, number: str) -> None:
    order = await _demo_order(demo_sessions, store, number)
    assert [s.status for s in order.shipments] == ["Exception"]
    text = describe_order(order)
    assert STATUS_MEANING[TrackingTag.Exception] in text
    assert "customs" in STATUS_MEANING[TrackingTag.Exception]
    assert "Held by customs" in text  # the carrier's own latest event
    assert "Estimated delivery" not in text


async def test_describe_processing_order_without_shipments(demo_sessions: Sessions) -> None:
    order = await _demo_order(demo_sessions, YANGTENG, "FZ-21055")
    assert order.shipments == []
    text = describe_order(order)
    assert "FZ-21055" in text
    assert "hasn't shipped" in text
    assert "tracking number" not in text and "Shipment" not in text


async def test_describe_cancelled_order(demo_sessions: Sessions) -> None:
    text = describe_order(await _demo_order(demo_sessions, YANGTENG, "FZ-20966"))
    assert "was cancelled" in text
    assert "tracking number" not in text


def test_describe_shipped_order_without_tracking_yet() -> None:
    order = Order(
        order_number="AC-1",
        status="shipped",
        shopper_timezone=None,
        items=[OrderItem(sku="S", name="Gasket", quantity=2)],
        shipments=[],
    )
    text = describe_order(order)
    assert text.startswith("Order AC-1 (2 × Gasket) has shipped.")
    assert "hasn't shared tracking details yet" in text


def test_describe_without_shopper_timezone_uses_utc() -> None:
    order = Order(
        order_number="AC-2",
        status="shipped",
        shopper_timezone=None,
        items=[OrderItem(sku="S", name="Gasket", quantity=1)],
        shipments=[
            Shipment(
                carrier="DHL",
                tracking_number="123",
                status="OutForDelivery",
                events=[
                    TrackingEvent(
                        occurred_at=dt.datetime(2026, 11, 24, 8, 12, tzinfo=UTC),
                        location=None,
                        tag="OutForDelivery",
                        message="With courier",
                    )
                ],
            )
        ],
    )
    text = describe_order(order)
    assert "Latest update: With courier, Tue 24 Nov, 08:12 (UTC)" in text
    assert STATUS_MEANING[TrackingTag.OutForDelivery] in text
    assert "Track it:" not in text
