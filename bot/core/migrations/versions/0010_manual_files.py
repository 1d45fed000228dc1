"""manual files: PDF manuals sellers upload, served by the gateway (issue 6)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 17:26:38.809214
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "manual_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("manual_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_manual_files_store_id"), ["store_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("manual_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manual_files_store_id"))

    op.drop_table("manual_files")
