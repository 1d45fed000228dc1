"""failed identity checks counted per order and per client address (issue 13, item 2)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 05:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import bot.models


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
