"""photos shoppers and agents send in a conversation (issue 18)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01 00:40:00.000000

- ``photos``: one row per photo (its unguessable id, store, conversation, the message and the case it
  joined, its size), deleted with its conversation.
- ``photo_blobs``: the images' bytes by storage key, when the database keeps them (the default).
- ``stores.data_retention_days``: how long the store keeps photos (365 days unless changed).
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("thumbnail_size", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_photos_conversation_created", "photos", ["conversation_id", "created_at"], unique=False)
    op.create_index("ix_photos_store_created", "photos", ["store_id", "created_at"], unique=False)
    op.create_index(op.f("ix_photos_escalation_id"), "photos", ["escalation_id"], unique=False)
    op.create_table(
        "photo_blobs",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("stores") as batch:
        batch.add_column(sa.Column("data_retention_days", sa.Integer(), server_default="365", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("data_retention_days")
    op.drop_table("photo_blobs")
    op.drop_index(op.f("ix_photos_escalation_id"), table_name="photos")
    op.drop_index("ix_photos_store_created", table_name="photos")
    op.drop_index("ix_photos_conversation_created", table_name="photos")
    op.drop_table("photos")
