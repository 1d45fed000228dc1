"""version summaries carry a code and params beside the English

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 17:30:00.000000

The seller console worded a version's summary in Chinese by taking the English sentence apart
with patterns, so rewording a sentence in Python silently broke the Chinese console. Versions
now carry a stable code and its params (bot/core/version_summaries.py), saved with the
English; this revision gives the versions already saved theirs, from the English shapes the
code wrote until now (copied here as they were, so a later rewording can't change history).
A summary of no known shape keeps no code: the console shows its English as it is.
"""

import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TABLES = ("store_settings_versions", "product_guide_versions")

#: The sentences bot/seller/store_settings.py, bot/guides/product_guides.py and bot/guides/manuals.py wrote.
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"as imported"), "as_imported"),
    (re.compile(r"no change"), "no_change"),
    (re.compile(r"rolled back to version (?P<version>\d+)"), "rolled_back"),
    (re.compile(r"restored version (?P<version>\d+)"), "restored"),
    (re.compile(r"uploaded the manual (?P<name>.+)", re.DOTALL), "manual_uploaded"),
    (re.compile(r"changed (?P<fields>.+)", re.DOTALL), "changed"),
)


def _summary_code(summary: str) -> tuple[str, dict[str, Any]] | None:
    for shape, code in _SHAPES:
        match = shape.fullmatch(summary)
        if match is None:
            continue
        params: dict[str, Any] = dict(match.groupdict())
        if "version" in params:
            params["version"] = int(params["version"])
        if "fields" in params:
            params["fields"] = params["fields"].split(", ")
        return code, params
    return None


def _derive_codes(table_name: str) -> None:
    table = sa.table(
        table_name,
        sa.column("id", sa.Integer),
        sa.column("summary", sa.String),
        sa.column("summary_code", sa.String),
        sa.column("summary_params", sa.JSON),
    )
    bind = op.get_bind()
    coded = []
    for row in bind.execute(sa.select(table.c.id, table.c.summary)).all():
        derived = _summary_code(row.summary or "")
        if derived is not None:
            coded.append({"row_id": row.id, "code": derived[0], "params": derived[1]})
    if coded:
        bind.execute(
            table.update()
            .where(table.c.id == sa.bindparam("row_id"))
            .values(summary_code=sa.bindparam("code"), summary_params=sa.bindparam("params", type_=sa.JSON)),
            coded,
        )


def upgrade() -> None:
    for table_name in TABLES:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("summary_code", sa.String(length=40), nullable=True))
            batch_op.add_column(sa.Column("summary_params", sa.JSON(), nullable=True))
        _derive_codes(table_name)


def downgrade() -> None:
    for table_name in TABLES:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_column("summary_params")
            batch_op.drop_column("summary_code")
