"""accounts belong to the store that made them; invitations to join another store's team (issue 13, item 1)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 05:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import bot.models


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
