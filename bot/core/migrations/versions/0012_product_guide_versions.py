"""product guide versions: who changed a product's manual, video or steps, and rollback (issue 6)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 00:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_guide_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("guide", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("created_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("store_id", "sku", "version"),
    )


def downgrade() -> None:
    op.drop_table("product_guide_versions")
