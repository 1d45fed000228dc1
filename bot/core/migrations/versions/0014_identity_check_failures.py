"""failed identity checks counted per order and per client address (issue 13, item 2)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 05:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_check_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locks", sa.Integer(), nullable=False),
        sa.Column("locked_until", bot.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", bot.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("store_id", "scope", "key"),
    )


def downgrade() -> None:
    op.drop_table("identity_check_failures")
