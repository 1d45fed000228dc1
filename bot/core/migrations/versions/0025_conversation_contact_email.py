"""the contact address of an anonymous chat that proved its order (issue 16)

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30 20:40:00.000000

A shopper who chats without a signed identity and proves an order (its number and its email
or postcode) gives the store leave to reach them at the address the store has for that order:
``conversations.contact_email``. Emails about unread messages go there when the conversation
has no signed shopper's address.
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("contact_email", sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("contact_email")
