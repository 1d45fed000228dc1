"""one order per lookup key in a store; full-width characters in keys

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 14:00:00.000000

A shopper types "1047" for "#1047" and for "0001047" alike (bot/orders/order_numbers.py
``lookup_key``), so two orders of one store with the same key could not be told apart: the
order lookups would take either one, and could show a shopper someone else's order. From
here on the database refuses a second order with a key already used in its store (the
importer says so first, with the two numbers).

Keys are also computed with full-width characters read as their plain forms (NFKC), so this
revision re-keys the orders whose numbers hold anything outside ASCII (ASCII numbers keep the
key they have). The rule is copied here as it was when this revision was written.

An existing store holding two orders with one key cannot be upgraded silently: the upgrade
stops and names them, and the seller gives one of the two another number (``python -m bot
import`` with the new number, after removing the old one).
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_orders = sa.table(
    "orders",
    sa.column("id", sa.Integer),
    sa.column("store_id", sa.String),
    sa.column("order_number", sa.String),
    sa.column("lookup_key", sa.String),
)
#: How many of the clashing pairs the stopped upgrade names.
NAMED_CLASHES = 20


def _lookup_key(order_number: str) -> str:
    key = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", order_number)).upper()
    if key.isascii() and key.isdigit():
        key = key.lstrip("0") or "0"
    return key[:64]


def _rekey_non_ascii_numbers() -> None:
    bind = op.get_bind()
    rows = [
        row for row in bind.execute(sa.select(_orders.c.id, _orders.c.order_number)).all() if not row.order_number.isascii()
    ]
    if rows:
        bind.execute(
            _orders.update().where(_orders.c.id == sa.bindparam("row_id")).values(lookup_key=sa.bindparam("key")),
            [{"row_id": row.id, "key": _lookup_key(row.order_number)} for row in rows],
        )


def _refuse_clashes() -> None:
    bind = op.get_bind()
    clashing = (
        sa.select(_orders.c.store_id, _orders.c.lookup_key)
        .group_by(_orders.c.store_id, _orders.c.lookup_key)
        .having(sa.func.count() > 1)
        .limit(NAMED_CLASHES)
        .subquery()
    )
    rows = bind.execute(
        sa.select(_orders.c.store_id, _orders.c.lookup_key, _orders.c.order_number)
        .join(clashing, sa.and_(clashing.c.store_id == _orders.c.store_id, clashing.c.lookup_key == _orders.c.lookup_key))
        .order_by(_orders.c.store_id, _orders.c.lookup_key, _orders.c.order_number)
    ).all()
    if not rows:
        return
    groups: dict = {}
    for row in rows:
        groups.setdefault((row.store_id, row.lookup_key), []).append(row.order_number)
    named = "; ".join(f"store {store!r}: {', '.join(repr(n) for n in numbers)}" for (store, _), numbers in groups.items())
    raise RuntimeError(
        "these orders of one store read as the same number to a shopper (case, spaces, dashes, '#' and "
        f"leading zeros don't count), so the chat could show one shopper the other's order: {named}. "
        "Give one order of each group another number, then upgrade again."
    )


def upgrade() -> None:
    _rekey_non_ascii_numbers()
    _refuse_clashes()
    op.drop_index("ix_orders_store_lookup_key", table_name="orders")
    op.create_index("ix_orders_store_lookup_key", "orders", ["store_id", "lookup_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_orders_store_lookup_key", table_name="orders")
    op.create_index("ix_orders_store_lookup_key", "orders", ["store_id", "lookup_key"], unique=False)
