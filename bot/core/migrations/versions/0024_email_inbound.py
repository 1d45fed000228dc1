"""inbound email: replies, bounces and complaints taken, once per Message-ID (issue 16)

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 21:00:00.000000

``email_inbound`` records each mail that came back to a conversation's reply or bounce
address; its ``(store_id, message_id)`` is unique, so a mail delivered twice is taken once.
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("received_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("store_id", "message_id"),
    )
    op.create_index("ix_email_inbound_conversation_id", "email_inbound", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_email_inbound_conversation_id", table_name="email_inbound")
    op.drop_table("email_inbound")
