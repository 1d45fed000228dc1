"""email notifications: the shopper's read marker and the audit of emails sent (issue 16)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 17:30:00.000000

``conversations.shopper_read_seq`` is the last message the shopper's widget was given; an
email about unread messages covers only messages after it. Existing conversations start at
0: their messages count as unread, but no email is ever queued for messages stored before
this revision, so none goes out for them. ``email_notifications`` is the audit of every
email sent, and the guard against sending one twice.
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0022"
# 0021 is being added at the same time elsewhere; the merge re-points this one after it.
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("shopper_read_seq", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "email_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("first_seq", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("sent_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "first_seq"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index("ix_email_notifications_store_conversation", "email_notifications", ["store_id", "conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_email_notifications_store_conversation", table_name="email_notifications")
    op.drop_table("email_notifications")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("shopper_read_seq")
