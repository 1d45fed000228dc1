"""Sellers' message templates: data, rendered by a small safe formatter.

A template is plain text with placeholders such as ``{order_number}``. It is
never evaluated: no ``str.format`` on objects (which would allow
``{order.__class__}``), no template engine. The only syntax is

- ``{name}`` for a known placeholder of that template,
- ``{{`` and ``}}`` for literal braces.

Anything else (an unknown name, attribute or index access, a format spec or
conversion, a positional ``{}``, an unmatched brace) is refused on save with a
message that says what and where, so a broken template never reaches a shopper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.models import StoreSettingsVersion
from bot.core.refusals import Refusal
from bot.core.text_input import without_surrogates

MAX_TEMPLATE_CHARS = 2000

#: Each message a seller can rewrite: the placeholders it may use, and the
#: English default a new store starts with (the bot's own words before any change).
TEMPLATES: dict[str, tuple[frozenset[str], str]] = {
    "greeting": (
        frozenset({"store_name", "shopper_first_name"}),
        "Hi! I'm the store's after-sales assistant. I can tell you where your order is, send installation "
        'guides, and pass problems with a delivery to the store\'s team. Just ask, like "where is my order?"',
    ),
    "delivery_confirmation": (
        frozenset(
            {"shopper_first_name", "store_name", "order_number", "delivered_at", "item_names", "carrier", "tracking_url"}
        ),
        "Hi {shopper_first_name}, good news from {store_name}: your order {order_number} was delivered "
        "({delivered_at}). It contained {item_names}. We hope everything arrived in perfect condition!",
    ),
    "install_video": (
        frozenset({"shopper_first_name", "store_name", "order_number", "item_names"}),
        "Hi {shopper_first_name}, ready to install? This video shows every step.",
    ),
    "exception_customs": (
        frozenset(
            {"shopper_first_name", "store_name", "order_number", "carrier", "tracking_number", "latest_scan", "tracking_url"}
        ),
        "Hi {shopper_first_name}, an update on your order {order_number}: the {carrier} parcel {tracking_number} is "
        "held up ({latest_scan}). Most holds are customs checks that clear in 2–5 business days. If import duty or "
        "paperwork is needed, {carrier} will contact you, and paying promptly is the fastest way to release it.",
    ),
    "exception_failed_attempt": (
        frozenset(
            {"shopper_first_name", "store_name", "order_number", "carrier", "tracking_number", "latest_scan", "tracking_url"}
        ),
        "Hi {shopper_first_name}, {carrier} tried to deliver your order {order_number} but couldn't "
        "({latest_scan}). They usually try again on the next business day, or leave a notice saying how to rebook "
        "the delivery or collect it.",
    ),
    "exception_pickup": (
        frozenset(
            {"shopper_first_name", "store_name", "order_number", "carrier", "tracking_number", "latest_scan", "tracking_url"}
        ),
        "Hi {shopper_first_name}, your order {order_number} is waiting for you at a pickup point ({latest_scan}). "
        "Bring an ID and the tracking number {tracking_number}; pickup points usually hold parcels for 7–14 days.",
    ),
    "review_invitation": (
        frozenset({"shopper_first_name", "store_name", "order_number", "item_names"}),
        "Hi! How are you getting on with your {item_names}? If you have a minute, we'd be grateful for your honest "
        "review of order {order_number}, good or bad: it helps other shoppers and helps us improve. "
        "How many stars would you give it?",
    ),
    "review_thanks": (
        frozenset({"shopper_first_name", "store_name", "order_number"}),
        "Thank you for your review, it's saved.",
    ),
    "handoff_connecting": (
        frozenset({"store_name", "reference"}),
        "I'm connecting you with a person from {store_name} now; they'll answer right here.",
    ),
    "handoff_waiting": (
        frozenset({"store_name", "reply_time", "reference"}),
        "Everyone at {store_name} is busy right now. A person usually answers within {reply_time}. "
        "The chat stays open: the answer will appear here, even if you close the page and come back later.",
    ),
    "out_of_hours": (
        frozenset({"store_name", "back_in", "reply_time", "reference"}),
        "The team at {store_name} is offline right now. They're back {back_in} and usually answer within "
        "{reply_time} of opening. The chat stays open: the answer will appear here, even if you close the page "
        "and come back later.",
    ),
    # The words around the messages of a notification email (bot/email/composition.py); the
    # messages themselves are the templates above, as the widget shows them.
    "email_subject": (
        frozenset({"store_name"}),
        "Your messages from {store_name}",
    ),
    "email_intro": (
        frozenset({"store_name", "shopper_first_name"}),
        "Hi {shopper_first_name}, you have new messages from {store_name}:",
    ),
    "email_footer": (
        frozenset({"store_name"}),
        "You can answer by replying to this email, or continue in the chat on our page.",
    ),
}
DEFAULT_TEMPLATES: dict[str, str] = {key: text for key, (_, text) in TEMPLATES.items()}


async def saved_settings(session: AsyncSession, store_id: str) -> dict[str, Any]:
    """The store's latest saved settings version ({} before the first change)."""
    saved = await session.scalar(
        select(StoreSettingsVersion.settings)
        .where(StoreSettingsVersion.store_id == store_id)
        .order_by(StoreSettingsVersion.version.desc())
        .limit(1)
    )
    return saved if isinstance(saved, dict) else {}


async def store_templates(session: AsyncSession, store_id: str) -> dict[str, str]:
    """The store's templates now: its latest saved version over the defaults.
    Read on every message, so a change applies to the next one."""
    saved = (await saved_settings(session, store_id)).get("templates")
    templates = dict(DEFAULT_TEMPLATES)
    if isinstance(saved, dict):
        # A version saved before lone surrogates were refused still renders, with U+FFFD in their place.
        templates.update({k: without_surrogates(v) for k, v in saved.items() if k in templates and isinstance(v, str)})
    return templates


def first_name(full_name: str | None) -> str:
    return full_name.split()[0] if full_name and full_name.strip() else "there"


#: Every placeholder a seller may use, with what it becomes (shown in the console).
PLACEHOLDERS: dict[str, str] = {
    "shopper_first_name": 'the shopper\'s first name (or "there" when unknown)',
    "store_name": "the store's name",
    "order_number": "the order number, like FZ-20931",
    "item_names": 'the items, like "Aluminium oil pan and Oil pan gasket"',
    "tracking_url": "the carrier's tracking page for the parcel",
    "carrier": "the carrier, like USPS",
    "tracking_number": "the parcel's tracking number",
    "delivered_at": 'when the parcel was delivered, in the shopper\'s time, like "Fri 27 Nov, 4:40 PM"',
    "latest_scan": 'the carrier\'s latest scan, like "Held by customs, JFK"',
    "review_url": "the store's review link for the order",
    "reply_time": 'how soon a person usually answers, like "2 hours"',
    "back_in": 'when the team is back, like "in about 9 hours (Monday 09:00, Asia/Shanghai time)"',
    "reference": "the case reference, like E-12",
}


class TemplateError(Refusal, ValueError):
    """A template that cannot be saved; ``str(error)`` says why, for the seller (its code and
    params, for a console that shows it in the seller's language)."""


@dataclass(frozen=True)
class _Piece:
    literal: str
    name: str | None


# One token at a time: an escaped brace, a placeholder-shaped thing, a lone brace, or text.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|\{|\}|[^{}]+")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _parse(text: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        position = match.start() + 1
        if token == "{{":
            pieces.append(_Piece("{", None))
        elif token == "}}":
            pieces.append(_Piece("}", None))
        elif token == "{":
            raise TemplateError("template_brace_unmatched_open", position=position)
        elif token == "}":
            raise TemplateError("template_brace_unmatched_close", position=position)
        elif match.group(1) is not None:
            inner = match.group(1).strip()
            if not inner:
                raise TemplateError("template_placeholder_empty", position=position)
            if not _NAME.fullmatch(inner):
                raise TemplateError("template_placeholder_malformed", text=match.group(1), position=position)
            pieces.append(_Piece("", inner))
        else:
            pieces.append(_Piece(token, None))
    return pieces


def validate(text: object, allowed: frozenset[str] | set[str] | None = None) -> str:
    """The template, checked; :class:`TemplateError` if it cannot be saved."""
    if not isinstance(text, str):
        raise TemplateError("template_not_text")
    if not text.strip():
        raise TemplateError("template_empty")
    if len(text) > MAX_TEMPLATE_CHARS:
        raise TemplateError("template_too_long", limit=MAX_TEMPLATE_CHARS)
    names = set(PLACEHOLDERS) if allowed is None else set(allowed)
    for piece in _parse(text):
        if piece.name is not None and piece.name not in names:
            raise TemplateError(
                "template_unknown_placeholder", name=piece.name, allowed=", ".join(f"{{{n}}}" for n in sorted(names))
            )
    return text


def placeholders_in(text: str) -> list[str]:
    return [piece.name for piece in _parse(text) if piece.name is not None]


def render(text: str, values: dict[str, str]) -> str:
    """Fill the placeholders with plain strings; a missing value renders as nothing.

    Values are inserted as they are: the result is text, and every surface
    that shows it (widget, console) renders text, never HTML.
    """
    return "".join(piece.literal if piece.name is None else str(values.get(piece.name, "")) for piece in _parse(text))
