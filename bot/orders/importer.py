"""Import stores, products and orders from JSON Lines (the public import format).

Each line is one object with a ``type`` (store, product, order) and is
upserted in its own transaction: a bad line is reported with its number and
reason and the good lines are still imported. How the fields are checked is in
``import_fields.py``; how each type is written, in ``import_stores.py`` and ``import_orders.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.text_input import BadInput, loads
from bot.orders.import_fields import ImportErrorInLine
from bot.orders.import_orders import _import_order
from bot.orders.import_stores import _import_agent, _import_canned_reply, _import_product, _import_store

MAX_LINE_BYTES = 1_000_000


@dataclass
class ImportReport:
    #: Stores, products and orders are always counted; canned replies and agents once a file has some.
    imported: dict[str, int] = field(default_factory=lambda: {"store": 0, "product": 0, "order": 0})
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


_IMPORTERS: dict[str, Callable[[AsyncSession, dict[str, Any]], Any]] = {
    "store": _import_store,
    "product": _import_product,
    "order": _import_order,
    "canned_reply": _import_canned_reply,
    "agent": _import_agent,
}


async def import_lines(
    sessions: async_sessionmaker[AsyncSession],
    lines: Iterable[str],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    for number, line in enumerate(lines, start=1):
        if progress is not None:
            progress(number)
        if not line.strip():
            continue
        try:
            if len(line) > MAX_LINE_BYTES:
                raise ImportErrorInLine(f"line is longer than {MAX_LINE_BYTES} characters")
            try:
                obj = loads(line)
            except json.JSONDecodeError as exc:
                raise ImportErrorInLine(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
            except BadInput as exc:  # a lone surrogate, too deep, a number too large: the field is named
                raise ImportErrorInLine(str(exc)) from None
            if not isinstance(obj, dict):
                raise ImportErrorInLine("a line must be a JSON object")
            kind = obj.get("type")
            if kind not in _IMPORTERS:
                raise ImportErrorInLine(
                    f"unknown or missing 'type': {kind!r} (store, product, order, canned_reply or agent)"
                )
            async with sessions() as session, session.begin():
                await _IMPORTERS[kind](session, obj)
            report.imported[kind] = report.imported.get(kind, 0) + 1
        except ImportErrorInLine as exc:
            report.errors.append((number, str(exc)))
        except SQLAlchemyError as exc:
            report.errors.append(
                (number, f"database refused the line: {exc.__class__.__name__}: {exc.args[0] if exc.args else exc}")
            )
    return report
