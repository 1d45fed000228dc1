"""escalation limits and queue paging (issue 13, item 5)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 05:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import bot.models


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
