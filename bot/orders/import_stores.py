"""Writes the import lines that set up a store: the store itself (name, timezone, signing keys,
after-delivery and reply settings), its products and their installation guides, its canned
replies, and its agents' accounts. A line for a store's things needs the store's line first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.models import (
    MAX_REVIEW_DELAY_DAYS,
    MIN_REVIEW_DELAY_DAYS,
    Agent,
    AgentMembership,
    AgentRole,
    CannedReply,
    Product,
    Store,
)
from bot.orders.import_fields import ImportErrorInLine, _field, _optional, _optional_link, _timezone
from bot.support.business_hours import BadBusinessHours, parse_business_hours


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
