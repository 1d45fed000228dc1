"""seller api tokens: one store per token, only the hash kept (issue 6)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 17:14:42.006608
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_api_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", bot.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", bot.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("store_api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_store_api_tokens_store_id"), ["store_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("store_api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_store_api_tokens_store_id"))

    op.drop_table("store_api_tokens")
