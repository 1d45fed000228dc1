"""accounts belong to the store that made them; invitations to join another store's team (issue 13, item 1)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 05:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("invited_by", sa.String(length=400), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", bot.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("staff_invitations", schema=None) as batch_op:
        batch_op.create_index("ix_staff_invitations_email_status", ["email", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_invitations_store_id"), ["store_id"], unique=False)

    # Existing accounts were made by the operator (CLI, import) or by stores that could no longer
    # tell; none is counted as one store's, so no store can later claim one.
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_store_id", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            "fk_agents_owner_store_id_stores", "stores", ["owner_store_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_constraint("fk_agents_owner_store_id_stores", type_="foreignkey")
        batch_op.drop_column("owner_store_id")

    with op.batch_alter_table("staff_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_invitations_store_id"))
        batch_op.drop_index("ix_staff_invitations_email_status")

    op.drop_table("staff_invitations")
