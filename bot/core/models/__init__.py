"""The store database: typed SQLAlchemy 2.0 models, one module per area, sharing one ``Base``
(``schema.py``).

Every table carries ``store_id`` so that each query can be scoped by store,
and child rows repeat it (rather than relying on a join) so that a missing
scope is visible in the query itself.

This package re-exports every model on purpose (the one such re-export in ``bot/``): a table
exists for ``Base.metadata``, and so for ``create_all``, Alembic's ``env.py`` and its
autogenerate comparison, only once its module has been imported, so importing
``bot.core.models`` must import them all. The existing migrations also name
``bot.core.models.UTCDateTime``, and code across the bot imports models from here.
"""

from bot.core.models.accounts import (
    Agent,
    AgentMembership,
    AgentRole,
    AgentSession,
    InvitationStatus,
    LoginFailure,
    StaffInvitation,
)
from bot.core.models.catalogue import ManualFile, Product, ProductGuideVersion
from bot.core.models.conversations import Conversation, ConversationToken, Message, MessageSender
from bot.core.models.email import EmailNotification, EmailSuppression
from bot.core.models.email_inbound import EmailInbound
from bot.core.models.integrations import IntegrationDelivery, StoreIntegration
from bot.core.models.jobs import JobStatus, ScheduledJob
from bot.core.models.orders import IdentityCheckFailure, Order, OrderItem, OrderNumberShape, OrderStatus
from bot.core.models.photos import Photo, PhotoBlob
from bot.core.models.reviews import Review, ReviewLogAction, ReviewLogEntry, ReviewOptOut
from bot.core.models.schema import Base, UTCDateTime, iso_utc
from bot.core.models.shipping import Shipment, TrackingEvent, TrackingTag, TrackingWebhookEvent
from bot.core.models.stores import (
    DEFAULT_DATA_RETENTION_DAYS,
    DEFAULT_REVIEW_DELAY_DAYS,
    MAX_DATA_RETENTION_DAYS,
    MAX_REVIEW_DELAY_DAYS,
    MIN_DATA_RETENTION_DAYS,
    MIN_REVIEW_DELAY_DAYS,
    Store,
    StoreApiToken,
    StoreSettingsVersion,
)
from bot.core.models.support import CannedReply, ConversationNote, Escalation, EscalationAllowance, EscalationStatus

__all__ = [
    "Agent",
    "AgentMembership",
    "AgentRole",
    "AgentSession",
    "Base",
    "CannedReply",
    "Conversation",
    "ConversationNote",
    "ConversationToken",
    "DEFAULT_DATA_RETENTION_DAYS",
    "DEFAULT_REVIEW_DELAY_DAYS",
    "EmailInbound",
    "EmailNotification",
    "EmailSuppression",
    "Escalation",
    "EscalationAllowance",
    "EscalationStatus",
    "IdentityCheckFailure",
    "IntegrationDelivery",
    "InvitationStatus",
    "JobStatus",
    "LoginFailure",
    "MAX_DATA_RETENTION_DAYS",
    "MAX_REVIEW_DELAY_DAYS",
    "MIN_DATA_RETENTION_DAYS",
    "MIN_REVIEW_DELAY_DAYS",
    "ManualFile",
    "Message",
    "MessageSender",
    "Order",
    "OrderItem",
    "OrderNumberShape",
    "OrderStatus",
    "Photo",
    "PhotoBlob",
    "Product",
    "ProductGuideVersion",
    "Review",
    "ReviewLogAction",
    "ReviewLogEntry",
    "ReviewOptOut",
    "ScheduledJob",
    "Shipment",
    "StaffInvitation",
    "Store",
    "StoreApiToken",
    "StoreIntegration",
    "StoreSettingsVersion",
    "TrackingEvent",
    "TrackingTag",
    "TrackingWebhookEvent",
    "UTCDateTime",
    "iso_utc",
]
