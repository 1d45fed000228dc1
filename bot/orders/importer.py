"""Import stores, products and orders from JSON Lines (the public import format).

Each line is one object with a ``type`` (store, product, order) and is
upserted in its own transaction: a bad line is reported with its number and
reason and the good lines are still imported.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.core.links import BadLink, web_link
from bot.core.models import (
    MAX_REVIEW_DELAY_DAYS,
    MIN_REVIEW_DELAY_DAYS,
    Agent,
    AgentMembership,
    AgentRole,
    CannedReply,
    Order,
    OrderItem,
    OrderStatus,
    Product,
    Shipment,
    Store,
    TrackingEvent,
    TrackingTag,
)
from bot.core.text_input import BadInput, loads
from bot.orders.lookup import learn_order_number_shape, order_lookup_key
from bot.support.business_hours import BadBusinessHours, parse_business_hours

MAX_LINE_BYTES = 1_000_000


class ImportErrorInLine(ValueError):
    """A line that cannot be imported; the message says why."""


@dataclass
class ImportReport:
    #: Stores, products and orders are always counted; canned replies and agents once a file has some.
    imported: dict[str, int] = field(default_factory=lambda: {"store": 0, "product": 0, "order": 0})
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- field readers: each raises ImportErrorInLine with a precise reason ---


def _field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...] = str, *, where: str = "") -> Any:
    if name not in obj or obj[name] is None:
        raise ImportErrorInLine(f"missing field {where}{name!r}")
    value = obj[name]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ImportErrorInLine(f"field {where}{name!r} must be {expected}")
    if isinstance(value, str) and not value.strip():
        raise ImportErrorInLine(f"field {where}{name!r} is empty")
    return value


def _optional(obj: dict[str, Any], name: str, kind: type = str, *, where: str = "") -> Any:
    if obj.get(name) is None:
        return None
    return _field(obj, name, kind, where=where)


def _optional_link(obj: dict[str, Any], name: str, *, where: str = "") -> str | None:
    """A link shoppers are shown: absolute http(s) only, checked as the guide API checks it."""
    value = _optional(obj, name, where=where)
    if value is None:
        return None
    try:
        return web_link(value)
    except BadLink as exc:
        raise ImportErrorInLine(f"field {where}{name!r}: {exc}") from None


def _datetime(obj: dict[str, Any], name: str, *, where: str = "", required: bool = True) -> dt.datetime | None:
    raw = _field(obj, name, where=where) if required else _optional(obj, name, where=where)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ImportErrorInLine(f"field {where}{name!r} is not an ISO-8601 date-time: {raw!r}") from None
    if value.tzinfo is None:
        raise ImportErrorInLine(f"field {where}{name!r} has no timezone (use Z for UTC): {raw!r}")
    return value.astimezone(dt.UTC)


def _date(obj: dict[str, Any], name: str, *, where: str = "") -> dt.date | None:
    raw = _optional(obj, name, where=where)
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ImportErrorInLine(f"field {where}{name!r} is not a YYYY-MM-DD date: {raw!r}") from None


def _timezone(obj: dict[str, Any], name: str, *, where: str = "", required: bool) -> str | None:
    value = _field(obj, name, where=where) if required else _optional(obj, name, where=where)
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportErrorInLine(f"field {where}{name!r} is not a known timezone: {value!r}") from None
    return value


def _tag(obj: dict[str, Any], name: str, *, where: str) -> str:
    value = _field(obj, name, where=where)
    if value not in TrackingTag.__members__:
        raise ImportErrorInLine(
            f"field {where}{name!r} is not a tracking status tag: {value!r} (one of {', '.join(TrackingTag.__members__)})"
        )
    return value


# --- upserts ---


async def _require_store(session: AsyncSession, store_id: str) -> None:
    if await session.get(Store, store_id) is None:
        raise ImportErrorInLine(f"unknown store {store_id!r} (import its store line first)")


async def _import_store(session: AsyncSession, obj: dict[str, Any]) -> None:
    store_id = _field(obj, "id")
    name = _field(obj, "name")
    timezone = _timezone(obj, "timezone", required=False) or "UTC"
    secrets = {key: _optional(obj, key) for key in ("shopper_secret", "webhook_secret")}
    # true: shopper signatures without a signed time are still accepted (they never expire).
    plain = _optional(obj, "plain_shopper_signatures", bool)
    if plain is not None:
        secrets["plain_shopper_signatures"] = plain
    flow = _store_flow(obj)
    store = await session.get(Store, store_id)
    if store is None:
        session.add(Store(id=store_id, name=name, timezone=timezone, **secrets, **flow))
        return
    store.name, store.timezone = name, timezone
    for key, value in {**secrets, **flow}.items():
        if value is not None:  # an omitted secret or setting keeps the one already set
            setattr(store, key, value)


def _store_flow(obj: dict[str, Any]) -> dict[str, Any]:
    """The store's after-delivery settings, each optional."""
    review_url = _optional_link(obj, "review_url")
    delay = _optional(obj, "review_delay_days", int)
    if delay is not None and not MIN_REVIEW_DELAY_DAYS <= delay <= MAX_REVIEW_DELAY_DAYS:
        raise ImportErrorInLine(
            f"field 'review_delay_days' must be from {MIN_REVIEW_DELAY_DAYS} to {MAX_REVIEW_DELAY_DAYS} days after delivery"
        )
    video = _optional(obj, "install_video_delay_minutes", int)
    if video is not None and not 0 <= video <= 60 * 24 * 14:
        raise ImportErrorInLine("field 'install_video_delay_minutes' must be from 0 to 20160 (14 days)")
    hours = obj.get("business_hours")
    if hours is not None:
        try:
            parse_business_hours(hours)
        except BadBusinessHours as exc:
            raise ImportErrorInLine(f"field 'business_hours': {exc}") from None
    reply = _optional(obj, "reply_time_minutes", int)
    if reply is not None and not 1 <= reply <= 60 * 24 * 7:
        raise ImportErrorInLine("field 'reply_time_minutes' must be from 1 to 10080 (a week)")
    return {
        "review_url": review_url,
        "review_delay_days": delay,
        "install_video_delay_minutes": video,
        "business_hours": hours,
        "reply_time_minutes": reply,
    }


async def _import_canned_reply(session: AsyncSession, obj: dict[str, Any]) -> None:
    """A store's ready-made answer for its agents, keyed by title."""
    store_id = _field(obj, "store")
    await _require_store(session, store_id)
    title, text = _field(obj, "title").strip()[:200], _field(obj, "text")
    if len(text) > 2000:
        raise ImportErrorInLine("field 'text' can have at most 2000 characters")
    reply = await session.scalar(select(CannedReply).where(CannedReply.store_id == store_id, CannedReply.title == title))
    if reply is None:
        session.add(CannedReply(store_id=store_id, title=title, text=text))
    else:
        reply.text = text


async def _import_agent(session: AsyncSession, obj: dict[str, Any]) -> None:
    """A console account and its stores. Passwords never travel in the import:
    a new account cannot sign in until one is set (``python -m bot agents passwd``,
    or ``demo-secrets`` for the demo)."""
    email = _field(obj, "email").strip().lower()
    if "@" not in email:
        raise ImportErrorInLine(f"field 'email' is not an email address: {email!r}")
    stores = _field(obj, "stores", list)
    if not stores or not all(isinstance(s, str) and s for s in stores):
        raise ImportErrorInLine("field 'stores' must be a non-empty list of store ids")
    for store_id in stores:
        await _require_store(session, store_id)
    role = _optional(obj, "role") or AgentRole.agent.value
    if role not in AgentRole.__members__:
        raise ImportErrorInLine(f"field 'role' must be one of {', '.join(AgentRole.__members__)}")
    agent = await session.scalar(select(Agent).where(Agent.email == email))
    if agent is None:
        agent = Agent(email=email, name=_field(obj, "name"), password_hash="")
        session.add(agent)
        await session.flush()
    else:
        agent.name = _field(obj, "name")
    for store_id in stores:
        membership = await session.get(AgentMembership, (agent.id, store_id))
        if membership is None:
            session.add(AgentMembership(agent_id=agent.id, store_id=store_id, role=role))
        else:
            membership.role = role


async def _import_product(session: AsyncSession, obj: dict[str, Any]) -> None:
    store_id = _field(obj, "store")
    await _require_store(session, store_id)
    sku = _field(obj, "sku")
    steps = obj.get("install_steps") or []
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        raise ImportErrorInLine("field 'install_steps' must be a list of strings")
    values = dict(
        name=_field(obj, "name"),
        manual_url=_optional_link(obj, "manual_url"),
        video_url=_optional_link(obj, "video_url"),
        install_steps=steps,
    )
    product = await session.scalar(select(Product).where(Product.store_id == store_id, Product.sku == sku))
    if product is None:
        session.add(Product(store_id=store_id, sku=sku, **values))
    else:
        for key, value in values.items():
            setattr(product, key, value)


def _parse_shipment(store_id: str, raw: Any, index: int) -> Shipment:
    where = f"shipments[{index}]."
    if not isinstance(raw, dict):
        raise ImportErrorInLine(f"shipments[{index}] must be an object")
    status = _tag(raw, "status", where=where)
    delivered_at = _datetime(raw, "delivered_at", where=where, required=False)
    events_raw = raw.get("events") or []
    if not isinstance(events_raw, list):
        raise ImportErrorInLine(f"field {where}'events' must be a list")
    events = []
    for e_index, event in enumerate(events_raw):
        e_where = f"{where}events[{e_index}]."
        if not isinstance(event, dict):
            raise ImportErrorInLine(f"{e_where[:-1]} must be an object")
        events.append(
            TrackingEvent(
                store_id=store_id,
                occurred_at=_datetime(event, "time", where=e_where),
                location=_optional(event, "location", where=e_where),
                tag=_tag(event, "tag", where=e_where),
                message=_optional(event, "message", where=e_where) or "",
            )
        )
    events.sort(key=lambda e: e.occurred_at)
    return Shipment(
        store_id=store_id,
        carrier=_field(raw, "carrier", where=where),
        tracking_number=_field(raw, "tracking_number", where=where),
        tracking_url=_optional_link(raw, "tracking_url", where=where),
        status=status,
        estimated_delivery=_date(raw, "estimated_delivery", where=where),
        delivered_at=delivered_at,
        status_at=events[-1].occurred_at if events else None,
        events=events,
    )


async def _import_order(session: AsyncSession, obj: dict[str, Any]) -> None:
    store_id = _field(obj, "store")
    await _require_store(session, store_id)
    order_number = _field(obj, "order_number")
    status = _field(obj, "status")
    if status not in OrderStatus.__members__:
        raise ImportErrorInLine(f"field 'status' must be one of {', '.join(OrderStatus.__members__)}, not {status!r}")
    shopper = _field(obj, "shopper", dict)
    shipping = _field(obj, "shipping", dict)
    email = _field(shopper, "email", where="shopper.").strip().lower()
    if "@" not in email:
        raise ImportErrorInLine(f"field 'shopper.email' is not an email address: {email!r}")
    country = _field(shipping, "country", where="shipping.").upper()
    if len(country) != 2:
        raise ImportErrorInLine("field 'shipping.country' must be a two-letter country code")
    items_raw = _field(obj, "items", list)
    items = []
    for index, raw in enumerate(items_raw):
        where = f"items[{index}]."
        if not isinstance(raw, dict):
            raise ImportErrorInLine(f"items[{index}] must be an object")
        quantity = raw.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise ImportErrorInLine(f"field {where}'quantity' must be a positive integer")
        items.append(
            OrderItem(
                store_id=store_id,
                sku=_field(raw, "sku", where=where),
                name=_field(raw, "name", where=where),
                quantity=quantity,
            )
        )
    shipments_raw = obj.get("shipments") or []
    if not isinstance(shipments_raw, list):
        raise ImportErrorInLine("field 'shipments' must be a list")
    shipments = [_parse_shipment(store_id, raw, index) for index, raw in enumerate(shipments_raw)]

    values = dict(
        lookup_key=order_lookup_key(order_number),
        shopper_name=_field(shopper, "name", where="shopper."),
        shopper_email=email,
        shopper_timezone=_timezone(shopper, "timezone", where="shopper.", required=False),
        shipping_postcode=_field(shipping, "postcode", where="shipping.").strip(),
        shipping_country=country,
        placed_at=_datetime(obj, "placed_at"),
        status=status,
    )
    order = await session.scalar(
        select(Order)
        .where(Order.store_id == store_id, Order.order_number == order_number)
        .options(selectinload(Order.items), selectinload(Order.shipments).selectinload(Shipment.events))
    )
    if order is None:
        same_key = await session.scalar(
            select(Order.order_number).where(Order.store_id == store_id, Order.lookup_key == values["lookup_key"])
        )
        if same_key is not None:
            raise ImportErrorInLine(
                f"order number {order_number!r} reads the same as order {same_key!r} of this store: shoppers "
                "type numbers without case, spaces, dashes, '#' or leading zeros, so they could not tell "
                "the two apart. Give one of them another number."
            )
        session.add(Order(store_id=store_id, order_number=order_number, items=items, shipments=shipments, **values))
        # A new order teaches the store's number shape (an update keeps its number).
        await learn_order_number_shape(session, store_id, order_number)
        return
    for key, value in values.items():
        setattr(order, key, value)
    order.items = items
    # Keep shipment rows (and their ids) when the tracking number is the same.
    existing = {s.tracking_number: s for s in order.shipments}
    merged = []
    for new in shipments:
        old = existing.get(new.tracking_number)
        if old is None:
            merged.append(new)
            continue
        for key in ("carrier", "tracking_url", "status", "estimated_delivery", "delivered_at", "status_at"):
            setattr(old, key, getattr(new, key))
        # Detach the events from the throwaway shipment before moving them:
        # assigning ``new.events`` directly cascades ``new`` itself into the
        # session (an orphan shipment insert with no order_id) and leaves the
        # events out of it.
        events = list(new.events)
        new.events.clear()
        old.events = events
        merged.append(old)
    order.shipments = merged


_IMPORTERS: dict[str, Callable[[AsyncSession, dict[str, Any]], Any]] = {
    "store": _import_store,
    "product": _import_product,
    "order": _import_order,
    "canned_reply": _import_canned_reply,
    "agent": _import_agent,
}


async def import_lines(
    sessions: async_sessionmaker[AsyncSession],
    lines: Iterable[str],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    for number, line in enumerate(lines, start=1):
        if progress is not None:
            progress(number)
        if not line.strip():
            continue
        try:
            if len(line) > MAX_LINE_BYTES:
                raise ImportErrorInLine(f"line is longer than {MAX_LINE_BYTES} characters")
            try:
                obj = loads(line)
            except json.JSONDecodeError as exc:
                raise ImportErrorInLine(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
            except BadInput as exc:  # a lone surrogate, too deep, a number too large: the field is named
                raise ImportErrorInLine(str(exc)) from None
            if not isinstance(obj, dict):
                raise ImportErrorInLine("a line must be a JSON object")
            kind = obj.get("type")
            if kind not in _IMPORTERS:
                raise ImportErrorInLine(
                    f"unknown or missing 'type': {kind!r} (store, product, order, canned_reply or agent)"
                )
            async with sessions() as session, session.begin():
                await _IMPORTERS[kind](session, obj)
            report.imported[kind] = report.imported.get(kind, 0) + 1
        except ImportErrorInLine as exc:
            report.errors.append((number, str(exc)))
        except SQLAlchemyError as exc:
            report.errors.append(
                (number, f"database refused the line: {exc.__class__.__name__}: {exc.args[0] if exc.args else exc}")
            )
    return report
