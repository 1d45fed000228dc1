"""email continuity: reply addresses, the shopper's timezone, undeliverable addresses, a store's own SMTP server (issue 16)

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 20:10:00.000000

``conversations.email_reply_token`` is the opaque part of the conversation's reply address
(``reply+<token>@`` the store's reply domain); it is given out on the first email.
``conversations.shopper_timezone`` is the IANA zone the shopper's browser reported, for quiet
hours. ``email_suppressions`` lists the addresses a store must not email again (a bounce or a
complaint). The ``stores.smtp_*`` columns are a store's own SMTP server, used instead of the
deployment's when set; the password is a store secret, never shown back.
"""

import sqlalchemy as sa
from alembic import op

import bot.core.models

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("email_reply_token", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("shopper_timezone", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_conversations_email_reply_token", ["email_reply_token"])
    with op.batch_alter_table("stores") as batch:
        batch.add_column(sa.Column("smtp_host", sa.String(length=253), nullable=True))
        batch.add_column(sa.Column("smtp_port", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("smtp_tls", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("smtp_username", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("smtp_password", sa.String(length=500), nullable=True))
    op.create_table(
        "email_suppressions",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False, server_default=""),
        sa.Column("created_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("store_id", "address"),
    )


def downgrade() -> None:
    op.drop_table("email_suppressions")
    with op.batch_alter_table("stores") as batch:
        for column in ("smtp_password", "smtp_username", "smtp_tls", "smtp_port", "smtp_host"):
            batch.drop_column(column)
    with op.batch_alter_table("conversations") as batch:
        batch.drop_constraint("uq_conversations_email_reply_token", type_="unique")
        batch.drop_column("shopper_timezone")
        batch.drop_column("email_reply_token")
