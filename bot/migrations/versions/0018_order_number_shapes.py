"""each store's order-number shapes, learned from its orders (issue 14)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Placeholder: filled in by the work this revision is named after (no schema change yet).
    pass


def downgrade() -> None:
    pass
