"""Proactive delivery messages: when a parcel is delivered, the store writes first.

The worker runs a ``delivery_confirmation`` job: it finds (or opens) the
shopper's conversation with the store, asks Rasa to run the external intent
``EXTERNAL_package_delivered``, and stores the replies in the transcript as
the store's messages, in the same transaction that marks the job done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.chat import replies
from bot.chat.conversations import AGENT_HOLD_RETRY, ConversationService
from bot.chat.rasa_client import RasaClient, transcript_message, trigger_once
from bot.core.jobs import Job, JobQueue, NoReply, enqueue
from bot.core.models import Order, Product, Shipment, Store, TrackingTag
from bot.email.unread_messages import EmailFollowUps
from bot.orders.lookup import OrderService, ShopperShipment, products_by_sku
from bot.seller.templates import first_name, render
from bot.shipping.tracking import format_time
from bot.shipping.tracking_updates import HELD_UP

PACKAGE_DELIVERED = "EXTERNAL_package_delivered"
SHIPMENT_EXCEPTION = "EXTERNAL_shipment_exception"
INSTALL_VIDEO_DUE = "EXTERNAL_install_video"
#: Job kind: the install video the store sends some time after the confirmation.
INSTALL_VIDEO = "install_video"
#: While a person from the store holds the conversation, the store's automatic messages wait this long, then look again.


@dataclass(frozen=True)
class Outgoing:
    text: str
    attachment: dict[str, Any] | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)


#: Which of the seller's templates speaks for each held-up status.
EXCEPTION_TEMPLATES = {
    "Exception": "exception_customs",
    "AttemptFail": "exception_failed_attempt",
    "AvailableForPickup": "exception_pickup",
}


def _values(delivered: ShopperShipment) -> dict[str, str]:
    """What the placeholders of the store's templates become for this shipment."""
    order, shipment = delivered.order, delivered.shipment
    latest = shipment.events[-1] if shipment.events else None
    when = shipment.delivered_at
    return {
        "shopper_first_name": first_name(order.shopper_name),
        "store_name": delivered.store_name,
        "order_number": order.order_number,
        "item_names": ", ".join(f"{item.quantity} × {item.name}" for item in order.items),
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url or "",
        "delivered_at": format_time(when, order.shopper_timezone) if when else "just now",
        "latest_scan": (", ".join(part for part in (latest.message, latest.location) if part) if latest else "")
        or "no details from the carrier yet",
    }


def exception_notice(held: ShopperShipment) -> list[Outgoing]:
    """A specific notice for a held, failed or waiting parcel, with an offer of help."""
    key = EXCEPTION_TEMPLATES.get(held.shipment.status)
    if key is None:
        return []
    text = render(held.templates[key], _values(held))
    if held.shipment.tracking_url and "{tracking_url}" not in held.templates[key]:
        text += f" Track it: {held.shipment.tracking_url}"
    return [Outgoing(text), Outgoing(replies.EXCEPTION_HELP, buttons=list(replies.EXCEPTION_BUTTONS))]


def _guides(delivered: ShopperShipment) -> list[Product]:
    return [delivered.products[item.sku] for item in delivered.order.items if item.sku in delivered.products]


def _videos(delivered: ShopperShipment) -> list[Outgoing]:
    return [
        Outgoing(
            replies.DELIVERY_VIDEO.format(product_name=product.name),
            {"type": "video", "url": product.video_url, "title": f"Installing the {product.name}"},
        )
        for product in _guides(delivered)
        if product.video_url
    ]


def delivery_confirmation(delivered: ShopperShipment) -> list[Outgoing]:
    """The confirmation naming the items, each item's manual as a PDF, then its
    video, unless the store's flow sends the video later."""
    messages = [Outgoing(render(delivered.templates["delivery_confirmation"], _values(delivered)))]
    for product in _guides(delivered):
        if product.manual_url:
            messages.append(
                Outgoing(
                    replies.DELIVERY_MANUAL.format(product_name=product.name),
                    {"type": "pdf", "url": product.manual_url, "title": f"{product.name} — installation manual (PDF)"},
                )
            )
    if delivered.install_video_delay_minutes <= 0:
        messages.extend(_videos(delivered))
    messages.append(Outgoing(replies.DELIVERY_CLOSING))
    return messages


def install_video_follow_up(delivered: ShopperShipment) -> list[Outgoing]:
    """The store's later message with the install videos."""
    videos = _videos(delivered)
    if not videos:
        return []
    return [Outgoing(render(delivered.templates["install_video"], _values(delivered))), *videos]


def has_install_video(products: list[Product]) -> bool:
    return any(product.video_url for product in products)


@dataclass(frozen=True)
class Notice:
    """What the action behind one external intent says, about a shipment in one of ``statuses``."""

    statuses: tuple[str, ...]
    compose: Callable[[ShopperShipment], list[Outgoing]]


#: The actions in ``actions/deliveries.py`` say exactly this; the worker asks the same
#: question to know whether an empty answer was a failure or nothing to say.
NOTICES = {
    PACKAGE_DELIVERED: Notice((TrackingTag.Delivered.value,), delivery_confirmation),
    SHIPMENT_EXCEPTION: Notice(tuple(sorted(HELD_UP)), exception_notice),
    INSTALL_VIDEO_DUE: Notice((TrackingTag.Delivered.value,), install_video_follow_up),
}


class DeliveryNotices:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], rasa: RasaClient, emails: EmailFollowUps | None = None
    ) -> None:
        self._sessions = sessions
        self._rasa = rasa
        self._conversations = ConversationService(sessions)
        self._orders = OrderService(sessions)
        #: Emails the messages to a shopper who does not read them in time (None: no email).
        self._emails = emails

    async def send_confirmation(self, job: Job, queue: JobQueue) -> int:
        """The delivery confirmation; returns how many messages reached the transcript."""
        return await self._send(job, queue, PACKAGE_DELIVERED)

    async def send_exception_notice(self, job: Job, queue: JobQueue) -> int:
        return await self._send(job, queue, SHIPMENT_EXCEPTION)

    async def send_install_video(self, job: Job, queue: JobQueue) -> int:
        return await self._send(job, queue, INSTALL_VIDEO_DUE)

    async def _video_later(self, session: AsyncSession, shipment: Shipment, queue: JobQueue) -> None:
        """Queue the install video if the store's flow sends it some time after the confirmation."""
        delay = await session.scalar(select(Store.install_video_delay_minutes).where(Store.id == shipment.store_id))
        if not delay:
            return
        products = await products_by_sku(session, shipment.store_id, (item.sku for item in shipment.order.items))
        if has_install_video(list(products.values())):
            await enqueue(
                session,
                shipment.store_id,
                INSTALL_VIDEO,
                f"{INSTALL_VIDEO}:{shipment.id}",
                {"shipment_id": shipment.id},
                queue.clock() + dt.timedelta(minutes=delay),
            )

    async def _must_say(self, conversation_id: str, tracking_number: str, intent: str) -> bool:
        """Whether the intent's action has something to say, as the action itself decides."""
        notice = NOTICES[intent]
        shipment = await self._orders.shipment_for_conversation(conversation_id, tracking_number, notice.statuses)
        return shipment is not None and bool(notice.compose(shipment))

    async def _send(self, job: Job, queue: JobQueue, intent: str) -> int:
        async with self._sessions() as session, session.begin():
            shipment = await session.scalar(
                select(Shipment)
                .where(Shipment.id == job.payload["shipment_id"], Shipment.store_id == job.store_id)
                .options(selectinload(Shipment.order).selectinload(Order.items))
            )
            if shipment is None:  # deleted since: nothing to say
                await queue.finish(job, session)
                return 0
            chat, held = await self._conversations.for_shopper_in(session, job.store_id, shipment.order.shopper_email)
            if held:
                await queue.defer(job, queue.clock() + AGENT_HOLD_RETRY, session)
                return 0
        replies = await trigger_once(
            self._rasa,
            chat.conversation_id,
            intent,
            {"order_id": shipment.order.order_number, "tracking_number": shipment.tracking_number},
            job.key,
            retried=job.attempts > 1,
        )
        messages = [transcript_message(reply, sender="store") for reply in replies if isinstance(reply, dict)]
        if not messages and await self._must_say(chat.conversation_id, shipment.tracking_number, intent):
            # Rasa answers 200 with no messages when the action failed: retried, never marked done.
            raise NoReply(f"{intent} produced no messages for shipment {shipment.id}")
        async with self._sessions() as session, session.begin():
            stored = await self._conversations.append_in(session, chat, messages)
            if intent == PACKAGE_DELIVERED and stored:
                await self._video_later(session, shipment, queue)
            if self._emails is not None:
                await self._emails.after_stored(session, chat, stored, job.kind)
            await queue.finish(job, session)
        return len(stored)
