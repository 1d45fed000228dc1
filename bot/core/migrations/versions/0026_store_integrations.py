"""connectors to the shops and tracking providers sellers already run (issue 17)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 00:20:00.000000

- ``store_integrations``: one row per store and provider, holding the provider's name for the shop
  (a Shopify shop domain, unique per provider across stores), the signing key with the previous one
  for a grace period, and the latest refused or ignored deliveries for the seller.
- ``integration_deliveries``: the order webhooks already received, unique by the provider's
  delivery id, so that a retried delivery is applied once.
- ``orders.external_id`` (unique per store) and ``orders.source_updated_at``: the shop's id for the
  order, which its fulfillment webhooks name, and the shop's time of the version we hold.
- ``shipments.external_id``: the shop's fulfillment behind a shipment.
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_integrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("secret_previous", sa.String(length=200), nullable=True),
        sa.Column("secret_previous_until", bot.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recent_problems", sa.JSON(), nullable=False),
        sa.Column("created_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("store_id", "provider"),
    )
    op.create_index(
        "ix_store_integrations_provider_external_id", "store_integrations", ["provider", "external_id"], unique=True
    )
    op.create_table(
        "integration_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("received_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("store_id", "provider", "delivery_id"),
    )
    op.create_index(
        "ix_integration_deliveries_latest", "integration_deliveries", ["store_id", "provider", "id"], unique=False
    )
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("external_id", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("source_updated_at", bot.core.models.UTCDateTime(timezone=True), nullable=True))
        batch.create_index("ix_orders_store_external_id", ["store_id", "external_id"], unique=True)
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("external_id", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("external_id")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_store_external_id")
        batch.drop_column("source_updated_at")
        batch.drop_column("external_id")
    op.drop_index("ix_integration_deliveries_latest", table_name="integration_deliveries")
    op.drop_table("integration_deliveries")
    op.drop_index("ix_store_integrations_provider_external_id", table_name="store_integrations")
    op.drop_table("store_integrations")
