"""What a seller's template says to a real shopper of the store, before it is saved.

The console's preview fills every placeholder from the store's latest order with items (or with
made-up but plausible values when the store has none yet), so a seller sees their words as a
shopper would, in the shopper's time zone, with the store's own review link and reply time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.chat.conversations import StoredMessage
from bot.core.clock import utc_now
from bot.core.models import Order, OrderItem, Shipment, Store
from bot.email.composition import Notification, compose, plain_text_of
from bot.reviews.shopper_reviews import fill_review_url
from bot.seller.store_settings import SettingsError, StoreSettingsService
from bot.seller.templates import TEMPLATES, TemplateError, first_name, render, validate
from bot.shipping.tracking import format_time
from bot.support.business_hours import (
    BadBusinessHours,
    describe_duration,
    describe_return,
    opening,
    parse_business_hours,
)

#: Where a preview's "continue in chat" link points (a real email's is signed for its conversation).
PREVIEW_CONTINUE_LINK = "https://shop.example/continue/…"
#: The templates an email preview is made of: the words around the message, and the message itself.
EMAIL_PREVIEW_TEMPLATES = ("email_subject", "email_intro", "delivery_confirmation", "email_footer")


@dataclass(frozen=True)
class EmailPreview:
    """What a delivery-confirmation email of the store says, as plain text (never HTML)."""

    subject: str
    text: str

    def as_json(self) -> dict[str, str]:
        return {"subject": self.subject, "text": self.text}


class TemplatePreviews:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], store_settings: StoreSettingsService) -> None:
        self._sessions = sessions
        self._store_settings = store_settings

    async def preview(self, store_id: str, key: str, text: object) -> tuple[str, dict[str, str]]:
        """The template ``key`` with ``text`` filled for this store, and the sample values of its
        placeholders; raises :class:`~bot.seller.templates.TemplateError` for text it would refuse
        to save. ``key`` must be one of ``TEMPLATES``."""
        allowed, _ = TEMPLATES[key]
        checked = validate(text, allowed)
        values = await self.sample_values(store_id)
        return render(checked, values), {name: values[name] for name in sorted(allowed)}

    async def email_preview(self, store_id: str, unsaved: dict[str, Any]) -> EmailPreview:
        """A delivery-confirmation email for this store: the subject, then the intro, the message and
        the footer, each from ``unsaved`` (the console's edits, not saved yet) or else the saved
        template. Raises :class:`~bot.seller.store_settings.SettingsError` naming a template that
        could not be saved, or a key that is not one of :data:`EMAIL_PREVIEW_TEMPLATES`."""
        saved = (await self._store_settings.current(store_id)).settings["templates"]
        texts: dict[str, str] = {}
        for key in unsaved:
            if key not in EMAIL_PREVIEW_TEMPLATES:
                raise SettingsError(f"templates.{key}", "setting_unknown")
        for key in EMAIL_PREVIEW_TEMPLATES:
            allowed, _ = TEMPLATES[key]
            try:
                texts[key] = validate(unsaved[key] if key in unsaved else saved[key], allowed)
            except TemplateError as exc:
                raise SettingsError.at(f"templates.{key}", exc) from None
        values = await self.sample_values(store_id)
        filled = {key: render(text, values) for key, text in texts.items()}
        # What the worker would send (bot/email/composition.py), with a sample continue link.
        now = utc_now()
        mail = compose(
            Notification(
                store_id,
                values["store_name"],
                "preview",
                "assistant@example.com",
                "shopper@example.com",
                [StoredMessage(1, "store", filled["delivery_confirmation"], [], None, now)],
                [],
                now,
                subject_text=filled["email_subject"],
                intro=filled["email_intro"],
                footer=filled["email_footer"],
                continue_link=PREVIEW_CONTINUE_LINK,
            )
        )
        return EmailPreview(str(mail["Subject"]), plain_text_of(mail))

    async def sample_values(self, store_id: str) -> dict[str, str]:
        """What every placeholder becomes for the store's latest order with items (or made-up values without one)."""
        current = await self._store_settings.current(store_id)
        now = utc_now()
        async with self._sessions() as session:
            store = await session.get(Store, store_id)
            order = await session.scalar(
                select(Order)
                .where(
                    Order.store_id == store_id,
                    Order.id.in_(select(OrderItem.order_id).where(OrderItem.store_id == store_id)),
                )
                .options(selectinload(Order.items), selectinload(Order.shipments).selectinload(Shipment.events))
                .order_by(Order.placed_at.desc(), Order.id.desc())
                .limit(1)
            )
        store_name = store.name if store else store_id
        values = {
            "shopper_first_name": "Alex",
            "store_name": store_name,
            "order_number": "1001",
            "item_names": "1 × Sample item",
            "carrier": "USPS",
            "tracking_number": "9400111899223100000000",
            "tracking_url": "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223100000000",
            "delivered_at": format_time(now, store.timezone if store else None),
            "latest_scan": "Held by customs, JFK",
            "reference": "E-12",
        }
        sku = None
        if order is not None:
            values["shopper_first_name"] = first_name(order.shopper_name)
            values["order_number"] = order.order_number
            values["item_names"] = ", ".join(f"{item.quantity} × {item.name}" for item in order.items)
            sku = order.items[0].sku if order.items else None
            if order.shipments:
                shipment = order.shipments[-1]
                latest = shipment.events[-1] if shipment.events else None
                values["carrier"] = shipment.carrier
                values["tracking_number"] = shipment.tracking_number
                values["tracking_url"] = shipment.tracking_url or ""
                delivered = shipment.delivered_at or now
                if delivered.tzinfo is None:
                    delivered = delivered.replace(tzinfo=dt.UTC)
                values["delivered_at"] = format_time(delivered, order.shopper_timezone)
                if latest is not None:
                    values["latest_scan"] = (
                        ", ".join(p for p in (latest.message, latest.location) if p) or values["latest_scan"]
                    )
        review_url = current.settings["review"]["url"] or ""
        values["review_url"] = fill_review_url(review_url, values["order_number"], sku)
        escalation = current.settings["escalation"]
        values["reply_time"] = describe_duration(int(escalation["reply_time_minutes"]))
        # Open now (or never): a made-up but plausible wait, in the store's own time.
        back_in = f"in about 9 hours (Monday 09:00, {store.timezone if store else 'UTC'} time)"
        if store is not None:
            try:
                hours = opening(parse_business_hours(escalation["business_hours"]), store.timezone, now)
            except (BadBusinessHours, ValueError, KeyError):
                hours = None
            if hours is not None and hours.next_open_at is not None:
                back_in = describe_return(now, hours.next_open_at, store.timezone)
        values["back_in"] = back_in
        return values
