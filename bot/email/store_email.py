"""What a store's seller chose for its emails: which kinds go out, the sender's name, the
reply domain, the shoppers' quiet hours. Saved as the ``email`` section of the store's
versioned settings (``bot/seller/store_settings.py``), read when an email is sent.

The deployment's ``EMAIL_SENDER`` stays the address every email is sent from (the one its
SMTP server may send as); the seller names the display name and the domain of the reply
address (``reply+<token>@`` it), whose mail the deployment's inbound webhook receives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.links import BadLink, web_link
from bot.core.refusals import FieldRefusal
from bot.seller.templates import saved_settings

#: Every kind of email a seller can turn on or off: what started the burst of messages.
#: ``later_messages`` (the rest of a burst) follows the kind of the messages it carries.
EMAIL_KINDS = ("delivery_confirmation", "install_video", "exception_notice", "agent_reply", "review_invitation")
#: Kinds a shopper can unsubscribe from with one click (RFC 8058): they ask for something
#: (a review) rather than tell the shopper about their order.
MARKETING_KINDS = frozenset({"review_invitation", "review_reminder"})
MAX_SENDER_NAME_CHARS = 100
_HOSTNAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def default_email_settings() -> dict[str, Any]:
    return {
        "kinds": dict.fromkeys(EMAIL_KINDS, True),
        # None: the store's name, and the reply domain of the deployment (EMAIL_REPLY_DOMAIN).
        "sender_name": None,
        "reply_domain": None,
        # The store's page where the widget runs: a "continue in chat" link opens it on the
        # conversation. None: the page the gateway hosts for the store (``/chat/<store>``).
        "page_url": None,
        # In the shopper's own timezone, when their browser told it; an email due inside waits until the end.
        "quiet_hours": {"start": "21:00", "end": "08:00"},
    }


def check_email_settings(email: dict[str, Any], refusal: type[FieldRefusal]) -> None:
    """Every rule the ``email`` section must meet; ``refusal`` (the settings' error) names the first broken one."""
    kinds = email["kinds"]
    for kind, on in kinds.items():
        if kind not in EMAIL_KINDS:
            raise refusal(f"email.kinds.{kind}", "setting_unknown")
        if not isinstance(on, bool):
            raise refusal(f"email.kinds.{kind}", "email_kind_not_boolean")
    name = email["sender_name"]
    if name is not None and (
        not isinstance(name, str) or not name.strip() or len(name) > MAX_SENDER_NAME_CHARS or not name.isprintable()
    ):
        raise refusal("email.sender_name", "email_sender_name_invalid", limit=MAX_SENDER_NAME_CHARS)
    domain = email["reply_domain"]
    if domain is not None and (not isinstance(domain, str) or not _HOSTNAME.fullmatch(domain)):
        raise refusal("email.reply_domain", "email_reply_domain_invalid")
    page = email["page_url"]
    if page is not None and (not isinstance(page, str) or _web_link_or_none(page) is None):
        raise refusal("email.page_url", "email_page_url_invalid")
    quiet = email["quiet_hours"]
    if quiet is not None:
        if not isinstance(quiet, dict) or set(quiet) != {"start", "end"}:
            raise refusal("email.quiet_hours", "email_quiet_hours_invalid")
        for edge in ("start", "end"):
            if not isinstance(quiet[edge], str) or not _CLOCK.fullmatch(quiet[edge]):
                raise refusal(f"email.quiet_hours.{edge}", "email_quiet_hours_invalid")


def _web_link_or_none(url: str) -> str | None:
    try:
        return web_link(url)
    except BadLink:
        return None


@dataclass(frozen=True)
class StoreEmailSettings:
    kinds: dict[str, bool]
    sender_name: str | None
    reply_domain: str | None
    page_url: str | None
    #: ("21:00", "08:00"), or None for none.
    quiet_hours: tuple[str, str] | None

    def sends(self, kind: str) -> bool:
        """Whether the seller lets this kind of email go out (a review reminder is a review invitation)."""
        if kind == "review_reminder":
            kind = "review_invitation"
        return self.kinds.get(kind, True)


async def store_email_settings(session: AsyncSession, store_id: str) -> StoreEmailSettings:
    """The store's email settings now: its latest saved version over the defaults."""
    saved = (await saved_settings(session, store_id)).get("email")
    email = default_email_settings()
    if isinstance(saved, dict):
        for key in ("sender_name", "reply_domain", "page_url", "quiet_hours"):
            if key in saved:
                email[key] = saved[key]
        if isinstance(saved.get("kinds"), dict):
            email["kinds"].update({k: v for k, v in saved["kinds"].items() if k in EMAIL_KINDS and isinstance(v, bool)})
    quiet = email["quiet_hours"]
    return StoreEmailSettings(
        kinds=email["kinds"],
        sender_name=email["sender_name"],
        reply_domain=email["reply_domain"],
        page_url=email["page_url"],
        quiet_hours=(quiet["start"], quiet["end"]) if isinstance(quiet, dict) else None,
    )
