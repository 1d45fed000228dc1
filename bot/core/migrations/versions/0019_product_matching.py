"""product matching for the chat (issue 14): no schema change

Product matching (bot/guides/product_matching.py) reads the products table as it is, so this revision
changes nothing; it stays because databases already carry it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 09:00:00.000000
"""

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
