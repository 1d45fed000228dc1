"""A store's own record (its name, timezone, signing keys, review and reply settings), the
saved versions of its reply flows, and the seller API tokens that open them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.clock import utc_now
from bot.core.models.schema import Base

#: Review invitations go out this many days after delivery, never sooner or
#: later (Amazon's solicitation window); the store picks a delay inside it.
MIN_REVIEW_DELAY_DAYS, DEFAULT_REVIEW_DELAY_DAYS, MAX_REVIEW_DELAY_DAYS = 5, 7, 30
#: Days the store keeps a conversation's photos (bot/photos/conversation_photos.py); a year by
#: default, long enough for a warranty claim, and at most ten.
MIN_DATA_RETENTION_DAYS, DEFAULT_DATA_RETENTION_DAYS, MAX_DATA_RETENTION_DAYS = 1, 365, 3650


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    #: Key for the HMAC that signs shopper identities; null until set.
    shopper_secret: Mapped[str | None] = mapped_column(String(200), default=None)
    #: Key for the HMAC that signs tracking webhooks; null refuses them all.
    webhook_secret: Mapped[str | None] = mapped_column(String(200), default=None)
    #: After a rotation, the old keys keep working until these times, so that the
    #: store's systems can switch over without a single refused request.
    shopper_secret_previous: Mapped[str | None] = mapped_column(String(200), default=None)
    shopper_secret_previous_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    webhook_secret_previous: Mapped[str | None] = mapped_column(String(200), default=None)
    webhook_secret_previous_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: Where shoppers review the order; may hold ``{order_number}`` and ``{sku}``.
    review_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    #: Days after delivery that the review invitation is due (5 to 30).
    review_delay_days: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_REVIEW_DELAY_DAYS, server_default=str(DEFAULT_REVIEW_DELAY_DAYS)
    )
    #: Minutes after the delivery confirmation that the install video follows; 0 sends it with the confirmation.
    install_video_delay_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: When the store's people work, in the store's timezone: weekday ("mon"…"sun")
    #: to a list of ["HH:MM", "HH:MM"] spans; null means Monday to Friday, 09:00 to 18:00.
    business_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: How soon, during business hours, a person usually answers an escalation.
    reply_time_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    #: Whether a shopper signature without a signed time (over the email alone, which never
    #: expires) is still accepted: an opt-in for stores whose servers cannot sign a time yet.
    plain_shopper_signatures: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    #: The store's own SMTP server for its emails, used instead of the deployment's (``SMTP_*``)
    #: when ``smtp_host`` is set. ``smtp_tls`` is ``none``, ``starttls`` or ``tls``; the password
    #: is a secret like the signing keys: written, never shown back.
    smtp_host: Mapped[str | None] = mapped_column(String(253), default=None)
    smtp_port: Mapped[int | None] = mapped_column(Integer, default=None)
    smtp_tls: Mapped[str | None] = mapped_column(String(16), default=None)
    smtp_username: Mapped[str | None] = mapped_column(String(320), default=None)
    smtp_password: Mapped[str | None] = mapped_column(String(500), default=None)
    #: Days photos are kept before they are deleted (retention).
    data_retention_days: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_DATA_RETENTION_DAYS, server_default=str(DEFAULT_DATA_RETENTION_DAYS)
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)

    def shopper_secrets(self, now: dt.datetime) -> list[str]:
        """The keys a shopper signature may be made with now: the current one, and the
        previous one during its grace period."""
        return _live_keys(self.shopper_secret, self.shopper_secret_previous, self.shopper_secret_previous_until, now)

    def webhook_secrets(self, now: dt.datetime) -> list[str]:
        return _live_keys(self.webhook_secret, self.webhook_secret_previous, self.webhook_secret_previous_until, now)


def _live_keys(current: str | None, previous: str | None, until: dt.datetime | None, now: dt.datetime) -> list[str]:
    keys = [current] if current else []
    if previous and until is not None and until > now:
        keys.append(previous)
    return keys


class StoreSettingsVersion(Base):
    """One saved version of a store's reply flows (templates, review and escalation settings).

    Versions are only ever added: a rollback saves an old version's content again.
    """

    __tablename__ = "store_settings_versions"
    __table_args__ = (UniqueConstraint("store_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Who saved it: an agent's name and email, or "seller API".
    changed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    summary: Mapped[str] = mapped_column(String(500), default="")
    #: The summary as a code and params the consoles word in their language (bot/core/version_summaries.py);
    #: None only for a row saved before the codes whose English had no known shape.
    summary_code: Mapped[str | None] = mapped_column(String(40), default=None)
    summary_params: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class StoreApiToken(Base):
    """A seller API token: it opens one store's settings and order push, nothing else.
    Only the SHA-256 is kept; the token itself is shown once, when it is made."""

    __tablename__ = "store_api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    #: What the seller calls it ("ERP sync"), to tell tokens apart when revoking.
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
