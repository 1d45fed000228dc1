"""jobs that produced no messages are retried and visibly failed (issue 13, item 6)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 05:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import bot.models


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
