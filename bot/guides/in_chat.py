"""Installation guides in the chat: which product, and its manual, video and steps."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.chat import replies
from bot.core.models import Order, Product
from bot.orders.lookup import order_lookup_key, products_by_sku
from bot.shipping.deliveries import Outgoing

_NUMBER_WORDS = {
    word: n
    for n, words in enumerate(
        [
            (),
            ("one", "first"),
            ("two", "second"),
            ("three", "third"),
            ("four", "fourth"),
            ("five", "fifth"),
            ("six", "sixth"),
            ("seven", "seventh"),
            ("eight", "eighth"),
            ("nine", "ninth"),
            ("ten", "tenth"),
            ("eleven", "eleventh"),
            ("twelve", "twelfth"),
        ]
    )
    for word in words
}
_NUMBER = r"(\d{1,2}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_STEP_AFTER = re.compile(r"\bstep\s*(?:#|no\.?\s*|number\s*)?" + _NUMBER + r"\b", re.IGNORECASE)
_STEP_BEFORE = re.compile(r"\b" + _NUMBER + r"(?:st|nd|rd|th)?\s+step\b", re.IGNORECASE)


def find_step_number(text: str) -> int | None:
    """The step a shopper is stuck at: "stuck at step 3", "step #4", "the third step"."""
    for pattern in (_STEP_AFTER, _STEP_BEFORE):
        found = pattern.search(text or "")
        if found:
            token = found.group(1).lower()
            return int(token) if token.isdigit() else _NUMBER_WORDS[token]
    return None


def has_guide(product: Product) -> bool:
    return bool(product.manual_url or product.video_url or product.install_steps)


@dataclass(frozen=True)
class GuideItem:
    """An ordered item, with its product's guide if the store has the product."""

    sku: str
    name: str
    product: Product | None


def _video(product: Product) -> Outgoing | None:
    if not product.video_url:
        return None
    return Outgoing(
        replies.GUIDE_VIDEO.format(product_name=product.name),
        {"type": "video", "url": product.video_url, "title": f"Installing the {product.name}"},
    )


def guide_messages(product: Product) -> list[Outgoing]:
    """The whole guide: the manual as a PDF, the video, then the steps as numbered text."""
    if not has_guide(product):
        return no_guide_messages(product.name)
    messages = [Outgoing(replies.GUIDE_INTRO.format(product_name=product.name))]
    if product.manual_url:
        messages.append(
            Outgoing(
                replies.GUIDE_MANUAL.format(product_name=product.name),
                {"type": "pdf", "url": product.manual_url, "title": f"{product.name} — installation manual (PDF)"},
            )
        )
    video = _video(product)
    if video:
        messages.append(video)
    if product.install_steps:
        # Single newlines: Rasa's REST channel splits a text on blank lines.
        steps = "\n".join(f"{n}. {step}" for n, step in enumerate(product.install_steps, start=1))
        messages.append(Outgoing(f"{replies.GUIDE_STEPS_TITLE}\n{steps}"))
        messages.append(Outgoing(replies.GUIDE_STUCK_HINT))
    return messages


def step_messages(product: Product, step: int) -> list[Outgoing]:
    """One step again, with the video, for a shopper stuck at it."""
    steps = product.install_steps
    if not steps:
        return guide_messages(product)
    if not 1 <= step <= len(steps):
        return [Outgoing(replies.GUIDE_NO_SUCH_STEP.format(product_name=product.name, count=len(steps), step=step))]
    messages = [
        Outgoing(replies.GUIDE_STEP.format(step=step, count=len(steps), product_name=product.name, text=steps[step - 1]))
    ]
    video = _video(product)
    if video:
        messages.append(video)
    messages.append(Outgoing(replies.GUIDE_STILL_STUCK, buttons=list(replies.ASK_PERSON_BUTTONS)))
    return messages


def no_guide_messages(name: str) -> list[Outgoing]:
    return [Outgoing(replies.GUIDE_MISSING.format(product_name=name), buttons=list(replies.ASK_PERSON_BUTTONS))]


#: The intent a guide button sends; its ``product`` entity is the SKU.
GUIDE_INTENT = "request_installation_guide"


def choose_product_message(items: list[tuple[str, str]], *, question: str) -> Outgoing:
    """Ask which product, with a button per (sku, name).

    The payload is built as JSON (``replies.button_payload``), so no SKU can close the quotes and add
    entities of its own; the action looks the SKU up in the conversation's store only, so a payload
    the shopper types with another store's SKU finds nothing.
    """
    return Outgoing(
        question,
        buttons=[
            {"title": name[:80], "payload": replies.button_payload(GUIDE_INTENT, {"product": sku})} for sku, name in items
        ],
    )


class GuideService:
    """Finds guides for a store's products and a shopper's orders; every query is scoped by store."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def order_items(self, store_id: str, order_number: str) -> list[GuideItem]:
        """The items of an order the conversation has already verified."""
        async with self._sessions() as session:
            order = await session.scalar(
                select(Order)
                .where(Order.store_id == store_id, Order.lookup_key == order_lookup_key(order_number))
                .options(selectinload(Order.items))
            )
            return await self._items(session, order)

    async def latest_order_items(self, store_id: str, shopper_email: str) -> list[GuideItem]:
        """The items of an identified shopper's latest order: delivered ones first, as those get installed."""
        async with self._sessions() as session:
            order = await session.scalar(
                select(Order)
                .where(Order.store_id == store_id, Order.shopper_email == shopper_email.strip().lower())
                .options(selectinload(Order.items))
                .order_by((Order.status == "delivered").desc(), Order.placed_at.desc())
                .limit(1)
            )
            return await self._items(session, order)

    @staticmethod
    async def _items(session: AsyncSession, order: Order | None) -> list[GuideItem]:
        if order is None:
            return []
        products = await products_by_sku(session, order.store_id, (item.sku for item in order.items))
        seen: set[str] = set()
        items = []
        for item in order.items:
            if item.sku not in seen:
                seen.add(item.sku)
                items.append(GuideItem(item.sku, item.name, products.get(item.sku)))
        return items

    async def products(self, store_id: str) -> list[Product]:
        async with self._sessions() as session:
            return list(
                (await session.scalars(select(Product).where(Product.store_id == store_id).order_by(Product.id))).all()
            )
