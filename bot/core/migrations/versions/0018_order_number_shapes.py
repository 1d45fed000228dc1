"""each store's order-number shapes, learned from its orders (issue 14)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 09:00:00.000000

Creates ``order_number_shapes``, learns the shapes of every order already on file, and
recomputes every order's ``lookup_key`` (and the identity-check counters kept by it) with the
new comparison rule (case, spaces and
punctuation dropped; an all-digit number without its leading zeros). The rules are copied
here as they were when this revision was written, so that a later change to
bot/orders/order_numbers.py can never change what this migration did. Plain SQLAlchemy Core in
batches: the same on SQLite and PostgreSQL.
"""

import re
from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

import bot.core.clock
import bot.core.models

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BATCH = 1000
_orders = sa.table(
    "orders",
    sa.column("id", sa.Integer),
    sa.column("store_id", sa.String),
    sa.column("order_number", sa.String),
    sa.column("lookup_key", sa.String),
)


def _lookup_key(order_number: str) -> str:
    key = re.sub(r"[\W_]+", "", order_number).upper()
    if key.isascii() and key.isdigit():
        key = key.lstrip("0") or "0"
    return key[:64]


def _old_lookup_key(order_number: str) -> str:
    return re.sub(r"[\s#]", "", order_number).upper()[:64]


def _shape(order_number: str) -> str | None:
    runs = re.findall(r"[A-Za-z]+|[0-9]+|[^A-Za-z0-9]+", order_number.strip().strip("#").strip())
    if not runs or not any(run.isdigit() for run in runs) or len(order_number) > 40:
        return None
    parts = []
    for index, run in enumerate(runs):
        if run.isdigit():
            parts.append("9" * len(run))
        elif run.isascii() and run.isalpha():
            literal = (index == 0 and len(run) <= 6) or (index == len(runs) - 1 and len(run) <= 2)
            parts.append(run.upper() if literal else "a" * len(run))
        elif run.isspace():
            parts.append(" ")
        elif all(ch in "-#_./: " for ch in run):
            parts.append(run.strip()[:1] or " ")
        else:
            return None
    shape = "".join(parts)
    return shape if len(shape) <= 64 else None


def _rekey(key_of: Callable[[str], str]) -> Counter[tuple[str, str]]:
    """Every order's lookup_key by ``key_of``, in batches by id; the shapes counted per store."""
    bind = op.get_bind()
    shapes: Counter = Counter()
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(_orders.c.id, _orders.c.store_id, _orders.c.order_number)
            .where(_orders.c.id > last_id)
            .order_by(_orders.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return shapes
        bind.execute(
            _orders.update().where(_orders.c.id == sa.bindparam("row_id")).values(lookup_key=sa.bindparam("key")),
            [{"row_id": row.id, "key": key_of(row.order_number)} for row in rows],
        )
        for row in rows:
            shape = _shape(row.order_number)
            if shape is not None:
                shapes[(row.store_id, shape)] += 1
        last_id = rows[-1].id


_failures = sa.table(
    "identity_check_failures",
    sa.column("id", sa.Integer),
    sa.column("store_id", sa.String),
    sa.column("scope", sa.String),
    sa.column("key", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("locks", sa.Integer),
    sa.column("locked_until", bot.core.models.UTCDateTime(timezone=True)),
)


def _rekey_failures(key_of: Callable[[str], str]) -> None:
    """The identity-check counters of order numbers are kept by lookup key: re-key them too,
    so that no order's failures (or lock) are forgotten by the upgrade. Counters that now
    share a key (say "FZ-20266" and "FZ20266") keep the one furthest along: locked the
    latest, then most locks, then most attempts."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            _failures.c.id,
            _failures.c.store_id,
            _failures.c.key,
            _failures.c.attempts,
            _failures.c.locks,
            _failures.c.locked_until,
        ).where(_failures.c.scope == "order")
    ).all()
    groups: dict = {}
    for row in rows:
        groups.setdefault((row.store_id, key_of(row.key)[:100]), []).append(row)
    floor = bot.core.clock.utc_now().replace(year=1970)
    for (_, key), members in groups.items():
        members.sort(key=lambda r: (r.locked_until or floor, r.locks, r.attempts, -r.id), reverse=True)
        kept, dropped = members[0], members[1:]
        if dropped:
            bind.execute(_failures.delete().where(_failures.c.id.in_([r.id for r in dropped])))
        if kept.key != key:
            bind.execute(_failures.update().where(_failures.c.id == kept.id).values(key=key))


def upgrade() -> None:
    shapes_table = op.create_table(
        "order_number_shapes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("shape", sa.String(length=64), nullable=False),
        sa.Column("order_count", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", bot.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("store_id", "shape"),
    )
    shapes = _rekey(_lookup_key)
    _rekey_failures(_lookup_key)
    if shapes:
        now = bot.core.clock.utc_now()
        op.bulk_insert(
            shapes_table,
            [
                {"store_id": store_id, "shape": shape, "order_count": count, "last_seen_at": now}
                for (store_id, shape), count in sorted(shapes.items())
            ],
        )


def downgrade() -> None:
    op.drop_table("order_number_shapes")
    _rekey(_old_lookup_key)
    # The old key can't be told from the new one ("FZ20266" was "FZ-20266"): the counters
    # keep the new keys, which the old code never looks up, and start afresh.
