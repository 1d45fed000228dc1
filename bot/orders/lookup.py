"""Order lookup behind the shopper identity check.

Every query here takes a ``store_id`` and filters on it: one store never
sees another store's orders.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.core.clock import utc_now
from bot.core.db import dialect_insert
from bot.core.models import Conversation, Order, OrderNumberShape, Product, Shipment, Store
from bot.orders import order_numbers
from bot.seller.templates import DEFAULT_TEMPLATES, store_templates


def order_lookup_key(order_number: str) -> str:
    """How order numbers are compared, stored and typed alike (bot/orders/order_numbers.py):
    "#SO-2026-00123" and "so 2026 00123" are one order, "000004321" and "4321" are one."""
    return order_numbers.lookup_key(order_number)


def find_order_number(text: str, shapes: Sequence[str] = ()) -> str | None:
    """The order number in ``text``: shaped like one of the store's (``shapes``, from
    :meth:`OrderService.order_number_shapes`), or else like an order number in general."""
    return order_numbers.find_order_number(text, tuple(shapes))


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def find_email(text: str) -> str | None:
    match = _EMAIL.search(text)
    return match.group(0) if match else None


# UK "SW1A 1AA", Canada "K1A 0B1", then any 3–10 character token with a digit
# (US "10027" or "94110-1234", Germany "10115", Australia "2000").
_POSTCODE_PATTERNS = (
    re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b", re.IGNORECASE),
    re.compile(r"\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b", re.IGNORECASE),
    re.compile(r"\b(?=[A-Z\d-]*\d)[A-Z\d]{3,10}(?:-\d{4})?\b", re.IGNORECASE),
)
MAX_PROOF_TEXT = 200


def find_proof(text: str) -> str | None:
    """The email or postcode a shopper typed to prove an order is theirs.

    Takes one candidate only, so a message listing many postcodes cannot try
    them all in one go.
    """
    text = text.strip()
    if not text or len(text) > MAX_PROOF_TEXT:
        return None
    email = find_email(text)
    if email:
        return email
    for pattern in _POSTCODE_PATTERNS:
        for match in pattern.finditer(text):
            if not order_numbers.is_amount(text, match.start(), match.end()):
                return match.group(0)
    return None


@dataclass(frozen=True)
class OrderAnswer:
    """What one message of the order form gives: an order number, a proof, both or neither."""

    number: str | None
    proof: str | None


def read_order_answer(text: str, shapes: Sequence[str], asking_for_proof: bool) -> OrderAnswer:
    """Read a shopper's message in the order form: the order number (by the store's
    ``shapes``, else in general) and the email or postcode, never one thing as both.

    The order number's own digits are never its proof ("h 77001" holds no postcode).
    When the form asked for the proof and the one thing typed could be either
    ("10027", "94110-1234"), it is the proof, and the order number given before stays;
    a number with letters ("H-77002") is a corrected order number. Full-width characters
    are read as their plain forms ("ＦＺ-２０９３１", "order １０４７"): the text is normalised
    once, here, so that the match's positions cut the very text they were found in.
    """
    text = order_numbers.plain_text(text)
    found = order_numbers.find_order_number_match(text, tuple(shapes))
    if found is None:
        return OrderAnswer(None, find_proof(text))
    proof = find_proof(text[: found.start] + " " + text[found.end :])
    if proof is not None or not asking_for_proof or found.has_letters:
        return OrderAnswer(found.number, proof)
    whole = find_proof(text)
    return OrderAnswer(None, whole) if whole is not None else OrderAnswer(found.number, None)


def postcode_key(postcode: str) -> str:
    """Postcodes compare without spaces, dashes or case ("sw1a1aa" == "SW1A 1AA")."""
    return re.sub(r"[\s-]", "", postcode).upper()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def proof_matches(order: Order, proof: str) -> bool:
    """Does ``proof`` (an email or a postcode) match what the order says?"""
    return _proof_matches(proof, order.shopper_email, order.shipping_postcode, order.shipping_country)


def _proof_matches(proof: str, email: str, postcode: str, country: str) -> bool:
    """The comparison behind :func:`proof_matches`. It does the same work whatever the
    values (both comparisons, in constant time), so that how long it takes says nothing
    about the order on file: the identity check runs it against a stand-in for an
    unknown order number too."""
    proof = proof.strip()
    typed, stored = postcode_key(proof), postcode_key(postcode)
    # A US ZIP+4 matches the five-digit ZIP on file, and the other way round.
    if country == "US" and typed[:5].isdigit() and stored[:5].isdigit():
        typed, stored = typed[:5], stored[:5]
    same_email = _same(proof.casefold(), email.casefold())
    same_postcode = _same(typed, stored)
    is_email = "@" in proof
    return bool(proof) and ((is_email and same_email) or (not is_email and same_postcode))


#: What an unknown order number is compared against, so that it costs what a known one costs.
_NO_ORDER_ON_FILE = ("\x00no-order@invalid", "\x00NO-POSTCODE", "US")


@dataclass(frozen=True)
class ShopperShipment:
    store_name: str
    order: Order
    shipment: Shipment
    #: The ordered products, by SKU, with their guides.
    products: dict[str, Product]
    #: The store's flow: minutes between the confirmation and the install video (0: together).
    install_video_delay_minutes: int = 0
    #: The store's message templates now (the seller's latest version over the defaults).
    templates: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TEMPLATES))


@dataclass(frozen=True)
class OrderSummary:
    order_number: str
    placed_at_iso: str
    status: str
    item_names: list[str]


async def products_by_sku(session: AsyncSession, store_id: str, skus: Iterable[str]) -> dict[str, Product]:
    """The store's products with these SKUs (with their guides), by SKU."""
    found = await session.scalars(select(Product).where(Product.store_id == store_id, Product.sku.in_(list(skus))))
    return {product.sku: product for product in found}


async def learned_shapes(session: AsyncSession, store_id: str) -> list[str]:
    """The store's order-number shapes, most common first (bot/orders/order_numbers.py)."""
    found = await session.scalars(
        select(OrderNumberShape.shape)
        .where(OrderNumberShape.store_id == store_id)
        .order_by(OrderNumberShape.order_count.desc(), OrderNumberShape.id)
        .limit(order_numbers.MAX_SHAPES)
    )
    return list(found)


async def learn_order_number_shape(session: AsyncSession, store_id: str, order_number: str) -> None:
    """Count a new order's number shape for its store, so that shoppers' messages are
    searched for numbers shaped like it from now on. One statement (an upsert), so two
    imports for one store at once never trip over each other's new shape."""
    shape = order_numbers.shape_of(order_number)
    if shape is None:
        return
    now = utc_now()
    insert = dialect_insert(session, OrderNumberShape).values(
        store_id=store_id, shape=shape, order_count=1, last_seen_at=now
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["store_id", "shape"],
            set_={"order_count": OrderNumberShape.order_count + 1, "last_seen_at": now},
        )
    )


class OrderService:
    """Looks up a store's orders for the chat. Opens one short session per call."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def store_name(self, store_id: str) -> str | None:
        async with self._sessions() as session:
            return await session.scalar(select(Store.name).where(Store.id == store_id))

    async def shipment_for_conversation(
        self, conversation_id: str, tracking_number: str, statuses: Iterable[str]
    ) -> ShopperShipment | None:
        """A shipment in one of ``statuses``, of the shopper this conversation
        belongs to and nobody else's."""
        async with self._sessions() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None or conversation.shopper_email is None:
                return None
            shipment = await session.scalar(
                select(Shipment)
                .join(Order, Order.id == Shipment.order_id)
                .where(
                    Shipment.store_id == conversation.store_id,
                    Shipment.tracking_number == tracking_number,
                    Shipment.status.in_(list(statuses)),
                    Order.shopper_email == conversation.shopper_email,
                )
                .options(selectinload(Shipment.order).selectinload(Order.items), selectinload(Shipment.events))
            )
            if shipment is None:
                return None
            products = await products_by_sku(session, conversation.store_id, (item.sku for item in shipment.order.items))
            store = await session.get(Store, conversation.store_id)
            templates = await store_templates(session, conversation.store_id)
        return ShopperShipment(
            store.name if store else "",
            shipment.order,
            shipment,
            products,
            store.install_video_delay_minutes if store else 0,
            templates,
        )

    async def order_number_shapes(self, store_id: str) -> list[str]:
        """The shapes of the store's own order numbers, most common first (as many as
        a message is searched with)."""
        async with self._sessions() as session:
            return await learned_shapes(session, store_id)

    async def product(self, store_id: str, sku: str) -> Product | None:
        async with self._sessions() as session:
            return await session.scalar(select(Product).where(Product.store_id == store_id, Product.sku == sku))

    @staticmethod
    def _orders_of(store_id: str) -> Select[tuple[Order]]:
        return (
            select(Order)
            .where(Order.store_id == store_id)
            .options(
                selectinload(Order.items),
                selectinload(Order.shipments).selectinload(Shipment.events),
            )
        )

    async def find_verified_order(self, store_id: str, order_number: str, proof: str) -> Order | None:
        """The order only if both its number and the email or postcode match.

        Returns ``None`` for an unknown number and for a wrong proof alike, so
        callers cannot tell which orders exist. Nor can they tell by the time it
        takes: a failed check does the same work for a known number as for an
        unknown one (one query for what the proof is compared with, and the
        same comparisons, against a stand-in when there is no such order); the
        order itself, with its items and shipments, is loaded only once the
        proof matched.
        """
        async with self._sessions() as session:
            on_file = (
                await session.execute(
                    select(Order.id, Order.shopper_email, Order.shipping_postcode, Order.shipping_country).where(
                        Order.store_id == store_id, Order.lookup_key == order_lookup_key(order_number)
                    )
                )
            ).first()
            email, postcode, country = (on_file[1], on_file[2], on_file[3]) if on_file is not None else _NO_ORDER_ON_FILE
            if not _proof_matches(proof, email, postcode, country) or on_file is None:
                return None
            return await session.scalar(self._orders_of(store_id).where(Order.id == on_file[0]))

    async def find_order(self, store_id: str, order_number: str) -> Order | None:
        """An order by number, for a conversation that has already verified it."""
        async with self._sessions() as session:
            return await session.scalar(self._orders_of(store_id).where(Order.lookup_key == order_lookup_key(order_number)))

    async def find_shopper_order(self, store_id: str, order_number: str, shopper_email: str) -> Order | None:
        """An order of a shopper the store has already identified."""
        async with self._sessions() as session:
            return await session.scalar(
                self._orders_of(store_id).where(
                    Order.lookup_key == order_lookup_key(order_number),
                    Order.shopper_email == shopper_email.strip().lower(),
                )
            )

    async def recent_orders(self, store_id: str, shopper_email: str, limit: int = 5) -> list[OrderSummary]:
        async with self._sessions() as session:
            orders = (
                await session.scalars(
                    select(Order)
                    .where(Order.store_id == store_id, Order.shopper_email == shopper_email.strip().lower())
                    .options(selectinload(Order.items))
                    .order_by(Order.placed_at.desc())
                    .limit(limit)
                )
            ).all()
        return [OrderSummary(o.order_number, o.placed_at.isoformat(), o.status, [i.name for i in o.items]) for o in orders]
