"""shopper signatures carry a signed time; plain ones only for stores that opt in (issue 13, item 13)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 05:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every existing store starts refusing plain (never-expiring) signatures: a store whose
    # server cannot sign a time yet opts back in with "plain_shopper_signatures": true.
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("plain_shopper_signatures", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_column("plain_shopper_signatures")
