"""The store database: typed SQLAlchemy 2.0 models.

Every table carries ``store_id`` so that each query can be scoped by store,
and child rows repeat it (rather than relying on a join) so that a missing
scope is visible in the query itself.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from bot.core.clock import utc_now


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; store times in UTC with tzinfo")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class OrderStatus(str, enum.Enum):
    processing = "processing"
    shipped = "shipped"
    delivered = "delivered"
    cancelled = "cancelled"
    returned = "returned"


class TrackingTag(str, enum.Enum):
    """AfterShip's delivery status tags."""

    Pending = "Pending"
    InfoReceived = "InfoReceived"
    InTransit = "InTransit"
    OutForDelivery = "OutForDelivery"
    AttemptFail = "AttemptFail"
    Delivered = "Delivered"
    AvailableForPickup = "AvailableForPickup"
    Exception = "Exception"
    Expired = "Expired"


def iso_utc(value: dt.datetime | dt.date | None) -> str | None:
    """A stored time (or date) as JSON shows it: ISO 8601, UTC written as "Z"; None stays None."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


#: Review invitations go out this many days after delivery, never sooner or
#: later (Amazon's solicitation window); the store picks a delay inside it.
MIN_REVIEW_DELAY_DAYS, DEFAULT_REVIEW_DELAY_DAYS, MAX_REVIEW_DELAY_DAYS = 5, 7, 30


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


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("store_id", "sku"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    manual_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    video_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    install_steps: Mapped[list[str]] = mapped_column(default=list)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("store_id", "order_number"),
        # One order per key: a shopper types "1047" for "#1047" and for "0001047" alike, so a store
        # holding both could be shown the wrong one (migration 0020).
        Index("ix_orders_store_lookup_key", "store_id", "lookup_key", unique=True),
        Index("ix_orders_store_email", "store_id", "shopper_email"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    #: The number as the shopper sees it: "FZ-20931", "#1047", "113-4928371-0029384".
    order_number: Mapped[str] = mapped_column(String(64))
    #: The number as typed numbers are compared (bot/orders/order_numbers.py ``lookup_key``): upper
    #: case, letters and digits only, an all-digit number without its leading zeros.
    lookup_key: Mapped[str] = mapped_column(String(64))
    shopper_name: Mapped[str] = mapped_column(String(200))
    #: Stored lower-cased; emails are compared case-insensitively.
    shopper_email: Mapped[str] = mapped_column(String(320))
    shopper_timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    shipping_postcode: Mapped[str] = mapped_column(String(32))
    shipping_country: Mapped[str] = mapped_column(String(2))
    placed_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Shipment.id"
    )


class OrderNumberShape(Base):
    """A shape of the store's own order numbers ("SO-9999-99999": prefix letters, separators,
    digit counts; bot/orders/order_numbers.py), learned as its orders are imported, so that a
    shopper's message is searched for numbers shaped like the store's."""

    __tablename__ = "order_number_shapes"
    __table_args__ = (UniqueConstraint("store_id", "shape"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    #: Digits as "9", other letters as "a", the prefix (and a short suffix) as they are.
    shape: Mapped[str] = mapped_column(String(64))
    #: How many of the store's orders have this shape: the most common are tried first.
    order_count: Mapped[int] = mapped_column(Integer, default=0)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class IdentityCheckFailure(Base):
    """Failed shopper identity checks ("order number + email or postcode"), counted in the
    store database per order (its lookup key, whether or not such an order exists) and per
    client address, so that neither ``/restart`` nor a new conversation nor a restart of any
    process forgets them (bot/orders/identity_checks.py)."""

    __tablename__ = "identity_check_failures"
    __table_args__ = (UniqueConstraint("store_id", "scope", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    #: "order" (``key`` is an order lookup key) or "address" (``key`` is a client key: IPv4, IPv6 /64).
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(100))
    #: Checks counted in the window that started at ``window_started_at``, including any in progress.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    #: How many times this order or address has been locked lately: each lock lasts twice the last.
    locks: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, default=1)

    order: Mapped[Order] = relationship(back_populates="items")


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_store_tracking", "store_id", "tracking_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(String(100))
    tracking_number: Mapped[str] = mapped_column(String(100))
    tracking_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    status: Mapped[str] = mapped_column(String(32))
    estimated_delivery: Mapped[dt.date | None] = mapped_column(Date, default=None)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: Time of the carrier scan behind ``status``: an older update never
    #: moves the shipment back.
    status_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    order: Mapped[Order] = relationship(back_populates="shipments")
    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment",
        cascade="all, delete-orphan",
        order_by="TrackingEvent.occurred_at",
    )


class TrackingEvent(Base):
    __tablename__ = "tracking_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[dt.datetime]
    location: Mapped[str | None] = mapped_column(String(300), default=None)
    tag: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")

    shipment: Mapped[Shipment] = relationship(back_populates="events")


class MessageSender(str, enum.Enum):
    shopper = "shopper"
    bot = "bot"
    agent = "agent"
    store = "store"


class Conversation(Base):
    """A shopper's chat with one store, as the shopper sees it."""

    __tablename__ = "conversations"
    __table_args__ = (
        # One conversation per identified shopper and store: the store's
        # messages and the shopper's widget must land in the same one.
        Index(
            "uq_conversations_store_shopper",
            "store_id",
            "shopper_email",
            unique=True,
            sqlite_where=text("shopper_email IS NOT NULL"),
            postgresql_where=text("shopper_email IS NOT NULL"),
        ),
    )

    #: Random and unguessable; also Rasa's sender id.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    #: Set only when the store signed the shopper's identity.
    shopper_email: Mapped[str | None] = mapped_column(String(320), default=None)
    #: The last message sequence number handed out; bumped in the same
    #: transaction that stores the message, so numbers never repeat.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    #: Indexed for the agent console's live feed ("what changed since?").
    last_message_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    #: The agent handling the conversation now; while set, Rasa is paused and the bot is silent.
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), default=None)
    handled_since: Mapped[dt.datetime | None] = mapped_column(default=None)


class ConversationToken(Base):
    """A bearer token for a conversation; only its SHA-256 is kept."""

    __tablename__ = "conversation_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Message(Base):
    """One message of the transcript: the shopper's, the bot's, an agent's or the store's."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(16))
    #: For an agent's message, the agent's display name, as the shopper sees it.
    author: Mapped[str | None] = mapped_column(String(200), default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    attachment: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class TrackingWebhookEvent(Base):
    """A tracking update already received: webhooks arrive at least once."""

    __tablename__ = "tracking_webhook_events"
    __table_args__ = (UniqueConstraint("store_id", "source", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    #: "aftership", "json" or "cli".
    source: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(200))
    tracking_number: Mapped[str] = mapped_column(String(100))
    #: What the update did: applied, stale or unknown_shipment.
    outcome: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class JobStatus(str, enum.Enum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"


class ScheduledJob(Base):
    """Durable work for ``python -m bot worker`` (Rasa's reminders die with Rasa).

    ``key`` is unique, so the same work (one delivery confirmation per
    shipment, one review invitation per order) can never be queued twice.
    """

    __tablename__ = "scheduled_jobs"
    __table_args__ = (
        Index("ix_scheduled_jobs_due", "status", "due_at"),
        # The seller's list of a store's failed jobs.
        Index("ix_scheduled_jobs_store_status", "store_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100), default=None)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    #: Why the last attempt failed, as the seller is told (``bot.core.jobs.FAILURE_REASONS``);
    #: ``last_error`` keeps the details for the operator's logs only.
    failure_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class EscalationStatus(str, enum.Enum):
    """The handoff lifecycle: escalated (open), claimed by an agent, then
    handed back to the bot or resolved."""

    open = "open"
    claimed = "claimed"
    handed_back = "handed_back"
    resolved = "resolved"
    #: Closed by an agent as spam (in bulk, from the queue): never answered, never counted as work.
    spam = "spam"


class Escalation(Base):
    """A conversation that needs a person from the store."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_store_status", "store_id", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), default=None)
    #: not_received, damaged, missing_parts, wrong_item, shopper_request, ...
    reason: Mapped[str] = mapped_column(String(32))
    #: urgent, high or normal.
    priority: Mapped[str] = mapped_column(String(16))
    #: One line for the agent's queue.
    summary: Mapped[str] = mapped_column(String(500))
    #: The shopper's own words (description, photo links), as typed.
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=EscalationStatus.open.value)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), default=None)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: Bumped on every change, so the console's live feed can find what changed.
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now, onupdate=utc_now, index=True)


class EscalationAllowance(Base):
    """How many new escalations one conversation or one client address opened in a time window.

    Counted in the store database, so the limit holds across gateways, action servers and
    restarts; rows whose window has ended are deleted as new ones are counted.
    """

    __tablename__ = "escalation_allowances"

    #: "conversation" (the key is the conversation id) or "address" (the client key: IPv4, or IPv6 /64).
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class ReviewLogAction(str, enum.Enum):
    scheduled = "scheduled"
    deferred = "deferred"
    sent = "sent"
    #: The one reminder (stores that turned it on).
    reminded = "reminded"
    skipped = "skipped"


class ReviewLogEntry(Base):
    """Every decision about a review invitation, with its reason: the seller's compliance record."""

    __tablename__ = "review_log"
    __table_args__ = (
        Index("ix_review_log_store_at", "store_id", "at"),
        # One invitation per order, whatever runs twice.
        Index(
            "uq_review_log_one_sent_per_order",
            "order_id",
            unique=True,
            sqlite_where=text("action = 'sent'"),
            postgresql_where=text("action = 'sent'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    order_number: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class ReviewOptOut(Base):
    """A shopper who asked this store never to ask for reviews."""

    __tablename__ = "review_opt_outs"

    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    shopper_email: Mapped[str] = mapped_column(String(320), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Review(Base):
    """A rating (1 to 5) and optional words a shopper left in the chat."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("store_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"), default=None)
    rating: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class AgentRole(str, enum.Enum):
    agent = "agent"
    seller_admin = "seller_admin"


class Agent(Base):
    """A person from a store: support staff, or a seller admin. One account may serve several stores."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Stored lower-cased.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: argon2id, never the password.
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    #: The store whose admin created the account through an invitation link; ``None`` for an
    #: account the operator made (CLI, import) or one that has since accepted another store's
    #: invitation, i.e. that its person, not one store, now holds.
    owner_store_id: Mapped[str | None] = mapped_column(ForeignKey("stores.id", ondelete="SET NULL"), default=None)


class AgentMembership(Base):
    """Which stores an agent works for, and as what."""

    __tablename__ = "agent_memberships"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), default=AgentRole.agent.value)


class AgentSession(Base):
    """A signed-in console: only the cookie token's SHA-256 is kept."""

    __tablename__ = "agent_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    #: The synchronizer token every state-changing request must echo.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[dt.datetime]
    #: Refreshed by the console's live feed: an agent seen lately is "online".
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class LoginFailure(Base):
    """A console login attempt that has not succeeded: reserved before the password is checked
    (so parallel attempts count at once), removed again when it turns out right; kept a while to
    slow down password guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_at", "email", "at"), Index("ix_login_failures_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class InvitationStatus(str, enum.Enum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    #: Taken back by the store (or replaced by a newer invitation for the same email).
    withdrawn = "withdrawn"


class StaffInvitation(Base):
    """A store's invitation for an email to join its team with a role.

    Every team addition is one, whether or not the email has an account anywhere: the link
    (its token, of which only the SHA-256 is kept) lets the person set a password for a new
    account, or prove with an existing account's password that they are its holder. Only the
    link's holder can accept, so a store never joins an account someone else set up.
    """

    __tablename__ = "staff_invitations"
    __table_args__ = (Index("ix_staff_invitations_email_status", "email", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    #: Stored lower-cased.
    email: Mapped[str] = mapped_column(String(320))
    #: The name the store gave; used only for a new account (an existing one keeps its own).
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    #: Who invited, as the versions record it ("Wang Fang <wang.fang@…>", "seller API").
    invited_by: Mapped[str] = mapped_column(String(400))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=InvitationStatus.pending.value)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class CannedReply(Base):
    """A store's ready-made answer that agents insert and adjust."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("store_id", "title"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)


class ConversationNote(Base):
    """An agent's internal note on a conversation; never shown to the shopper."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), default=None)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


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


class ManualFile(Base):
    """An installation manual a seller uploaded (a PDF), kept in the store database so that
    every gateway process can serve it."""

    __tablename__ = "manual_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    #: Hex SHA-256 of the content; its start is in the public file name, so links are unguessable.
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class ProductGuideVersion(Base):
    """One saved version of a product's installation guide (manual link, video link, steps).

    Like :class:`StoreSettingsVersion`, versions are only added: a rollback saves an old one again.
    """

    __tablename__ = "product_guide_versions"
    __table_args__ = (UniqueConstraint("store_id", "sku", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    #: {"manual_url": str | None, "video_url": str | None, "install_steps": [str]}
    guide: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    summary: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
