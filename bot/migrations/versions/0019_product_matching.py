"""product matching for the chat (issue 14)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 09:00:00.000000
"""


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Placeholder: filled in by the work this revision is named after (no schema change yet).
    pass


def downgrade() -> None:
    pass
