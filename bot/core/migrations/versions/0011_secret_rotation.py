"""secret rotation: the previous shopper and webhook secrets stay valid for a grace period (issue 6)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 17:28:00.311249
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shopper_secret_previous", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("shopper_secret_previous_until", bot.core.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("webhook_secret_previous", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("webhook_secret_previous_until", bot.core.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_column("webhook_secret_previous_until")
        batch_op.drop_column("webhook_secret_previous")
        batch_op.drop_column("shopper_secret_previous_until")
        batch_op.drop_column("shopper_secret_previous")
