"""jobs that produced no messages are retried and visibly failed (issue 13, item 6)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 05:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scheduled_jobs") as batch:
        batch.add_column(sa.Column("failure_reason", sa.String(length=32), nullable=True))
    op.create_index("ix_scheduled_jobs_store_status", "scheduled_jobs", ["store_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_scheduled_jobs_store_status", table_name="scheduled_jobs")
    with op.batch_alter_table("scheduled_jobs") as batch:
        batch.drop_column("failure_reason")
