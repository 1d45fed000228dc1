"""Backfill: a store's past orders from its shop's own files, imported all or nothing.

A provider module offers ``backfill_orders(data) -> Iterator[(line, ShopOrder | BadShopData)]``
(the line each order starts on: physical lines for a CSV, where a quoted note may hold newlines).
If any order is bad, every bad line is reported and nothing is imported: a seller fixes the file and
sends it again, rather than hunting for which half went in. Otherwise every order is written in one
transaction with ``notify=False``: a parcel delivered months ago is not news to its shopper.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import Store
from bot.core.text_input import BadInput, check_json
from bot.integrations.shop_orders import BadShopData, ShopOrder, write_shop_order
from bot.orders.lookup import order_lookup_key

#: The largest backfill file: a year of a busy shop's export (about 5,000 orders of a few lines).
MAX_BACKFILL_BYTES = 10 * 1024 * 1024

Backfill = Callable[[bytes], Iterator[tuple[int, "ShopOrder | BadShopData"]]]


@dataclass(frozen=True)
class BackfillError:
    line: int
    error: str
    code: str

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "error": self.error, "code": self.code}


@dataclass
class BackfillReport:
    #: ``csv`` or ``json``.
    format: str
    imported: int = 0
    errors: list[BackfillError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def backfill_format(data: bytes) -> str:
    """``json`` when the file starts (after a BOM and blanks) with an object or array, else ``csv``."""
    return "json" if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[") else "csv"


def _backfills() -> dict[str, Backfill]:
    # Imported here: the providers' modules use this one's readers.
    from bot.integrations import shopify, woocommerce

    return {"shopify": shopify.backfill_orders, "woocommerce": woocommerce.backfill_orders}


def backfill_providers() -> frozenset[str]:
    return frozenset(_backfills())


async def import_shop_orders(
    sessions: async_sessionmaker[AsyncSession],
    store_id: str,
    provider: str,
    data: bytes,
    progress: Callable[[str, int], None] | None = None,
) -> BackfillReport:
    """Read every order of the file, then (if none is bad) write them all in one transaction.
    ``progress`` is told ``("read", count)`` as orders are read, then ``("written", count)``. Raises
    :class:`LookupError` for an unknown store or a provider without a backfill."""
    read = _backfills().get(provider)
    if read is None:
        raise LookupError(provider)
    async with sessions() as session:
        if await session.get(Store, store_id) is None:
            raise LookupError(store_id)
    report = BackfillReport(backfill_format(data))
    orders: list[tuple[int, ShopOrder]] = []
    for line, order in read(data):
        if isinstance(order, BadShopData):
            report.errors.append(BackfillError(line, order.english, order.code))
        else:
            orders.append((line, order))
        if progress is not None:
            progress("read", len(orders) + len(report.errors))
    report.errors.extend(_clashes_within(orders))
    if report.errors:
        report.errors.sort(key=lambda e: e.line)
        return report
    try:
        async with sessions() as session, session.begin():
            # One flush at the end instead of one per order (a 1,000-order file in a few seconds): the
            # file's orders are checked against each other above, the writer checks them against the store's.
            with session.no_autoflush:
                await _write_all(session, store_id, orders, report, progress)
            if report.errors:
                raise _NothingImported
    except _NothingImported:
        return report
    report.imported = len(orders)
    return report


def _clashes_within(orders: list[tuple[int, ShopOrder]]) -> Iterator[BackfillError]:
    """An order twice in the file, or two whose numbers a shopper could not tell apart."""
    by_id: dict[str, int] = {}
    by_key: dict[str, str] = {}
    for line, order in orders:
        key = order_lookup_key(order.order_number)
        if order.external_id in by_id:
            refused = BadShopData("backfill_order_repeated", order_number=order.order_number, line=by_id[order.external_id])
        elif key in by_key:
            refused = BadShopData("shop_order_number_clash", order_number=order.order_number, other=by_key[key])
        else:
            by_id[order.external_id], by_key[key] = line, order.order_number
            continue
        yield BackfillError(line, refused.english, refused.code)


async def _write_all(
    session: AsyncSession,
    store_id: str,
    orders: list[tuple[int, ShopOrder]],
    report: BackfillReport,
    progress: Callable[[str, int], None] | None,
) -> None:
    for done, (line, order) in enumerate(orders, start=1):
        try:
            # No savepoint per order (a round trip each): one refusal rolls the whole file back anyway.
            await write_shop_order(session, store_id, order, notify=False)
        except BadShopData as refused:
            report.errors.append(BackfillError(line, refused.english, refused.code))
        if progress is not None:
            progress("written", done)


class _NothingImported(Exception):
    """Leaves the transaction, rolled back: an order of the file was refused by the writer."""


# --- the readers the providers' backfills share ---


def csv_text(data: bytes) -> str:
    """The file as text: UTF-8, without its byte-order mark (spreadsheets add one)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadShopData("backfill_not_utf8", line=line) from None


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


_DECODER = json.JSONDecoder(parse_constant=_not_json)
_BLANK = re.compile(r"[ \t\r\n]*")
#: ``{"orders": [`` at the start of an object: its items' lines can be told.
_ORDERS_ENVELOPE = r'\{[ \t\r\n]*"%s"[ \t\r\n]*:[ \t\r\n]*(?=\[)'


def _skip_blank(text: str, index: int) -> int:
    found = _BLANK.match(text, index)
    return found.end() if found else index


def _line_at(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _decode(text: str, index: int) -> tuple[Any, int]:
    try:
        value, end = _DECODER.raw_decode(text, index)
        return check_json(value), end
    except json.JSONDecodeError as exc:
        raise _BadJson(exc.lineno, BadShopData("backfill_json_invalid", detail=exc.msg)) from None
    except BadInput as exc:
        raise _BadJson(_line_at(text, index), BadShopData(exc.code, **exc.params)) from None
    except (RecursionError, ValueError) as exc:
        raise _BadJson(_line_at(text, index), BadShopData("backfill_json_invalid", detail=str(exc)[:100])) from None


class _BadJson(Exception):
    def __init__(self, line: int, refusal: BadShopData) -> None:
        super().__init__(refusal.english)
        self.line, self.refusal = line, refusal


def _array(text: str, index: int) -> Iterator[tuple[int, Any]]:
    """The items of the array starting at ``text[index]`` (``[``), each with the line it starts on."""
    index = _skip_blank(text, index + 1)
    if text.startswith("]", index):
        return
    while True:
        value, end = _decode(text, index)
        yield _line_at(text, index), value
        index = _skip_blank(text, end)
        if text.startswith("]", index):
            return
        if not text.startswith(",", index):
            raise _BadJson(_line_at(text, index), BadShopData("backfill_json_invalid", detail="expected ',' or ']'"))
        index = _skip_blank(text, index + 1)


def json_documents(text: str, envelopes: tuple[str, str]) -> Iterator[tuple[int, dict[str, Any] | BadShopData]]:
    """The objects of a JSON file, each with the line it starts on: one object, an array, JSON Lines
    or objects one after another; an object holding only ``envelopes[0]`` (``{"order": …}``) or
    ``envelopes[1]`` (``{"orders": [...]}``) is unwrapped. Stops at the first syntax error (what
    follows it cannot be read reliably)."""
    one, many = envelopes
    envelope = re.compile(_ORDERS_ENVELOPE % re.escape(many))
    index = _skip_blank(text, 0)
    try:
        while index < len(text):
            line = _line_at(text, index)
            wrapped = envelope.match(text, index)
            if wrapped is not None or text.startswith("[", index):
                start = wrapped.end() if wrapped is not None else index
                yield from _objects(_array(text, start))
                # The array's end, found by decoding it again (its items were read as they came).
                index = _DECODER.raw_decode(text, start)[1]
                if wrapped is not None:
                    index = _skip_blank(text, index)
                    if not text.startswith("}", index):
                        raise _BadJson(_line_at(text, index), BadShopData("backfill_json_invalid", detail="expected '}'"))
                    index += 1
            else:
                value, index = _decode(text, index)
                if isinstance(value, dict) and set(value) == {many} and isinstance(value[many], list):
                    yield from _objects((line, v) for v in value[many])
                elif isinstance(value, dict) and set(value) == {one}:
                    yield from _objects([(line, value[one])])
                else:
                    yield from _objects([(line, value)])
            index = _skip_blank(text, index)
    except _BadJson as bad:
        yield bad.line, bad.refusal


def _objects(values: Any) -> Iterator[tuple[int, dict[str, Any] | BadShopData]]:
    for line, value in values:
        if isinstance(value, dict):
            yield line, value
        else:
            yield line, BadShopData("backfill_json_not_object")
