"""escalation limits and queue paging (issue 13, item 5)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 05:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalation_allowances",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("window_start", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", "window_start"),
    )
    with op.batch_alter_table("escalation_allowances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_allowances_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("escalation_allowances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_allowances_expires_at"))
    op.drop_table("escalation_allowances")
    # Cases closed as spam become resolved ones: the older code knows no "spam" status.
    op.execute("UPDATE escalations SET status = 'resolved' WHERE status = 'spam'")
