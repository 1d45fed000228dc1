"""A store's catalogue as it is at each message, so a product the seller adds a moment ago is found.

Each store's word index (``bot.guides.catalogue_index.Catalogue``) is built once and kept, checked
against the products table by one aggregate query per message, and built again only when the
products changed. Building an index and matching a message against a large catalogue run in a
worker thread, so the action server keeps answering other conversations meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import Product
from bot.guides.catalogue_index import Catalogue, CatalogueItem, ProductMatch

#: Stores whose catalogue index one process keeps (least recently asked about dropped first) ...
MAX_INDEXED_STORES = 64
#: ... and the products all of them may hold together (about 3 kB of index each: 300 MB at most).
MAX_INDEXED_PRODUCTS = 100_000
#: A kept index is checked against the products table by an aggregate (see ``ProductMatcher``);
#: a rename that aggregate can't see is read this many seconds later at most.
CATALOGUE_RELOAD_SECONDS = 60.0


@dataclass
class _Indexed:
    """A store's index, and what it was last checked against."""

    catalogue: Catalogue
    #: The products table's aggregate when last checked (``ProductMatcher._fingerprint``).
    fingerprint: tuple[object, ...]
    #: When its rows were last read in full (``ProductMatcher``'s clock).
    read_at: float


def _index_of(rows: Sequence[tuple[str, str]], kept: Catalogue | None) -> Catalogue:
    """The kept index if it holds these very rows, or a new one (run in a worker thread)."""
    if kept is not None and [(item.sku, item.name) for item in kept.items] == list(rows):
        return kept
    return Catalogue(CatalogueItem(sku, name) for sku, name in rows)


class ProductMatcher:
    """Reads a store's catalogue as it is at each message: what the seller added a moment ago is found.

    Each store's index is kept, at most ``MAX_INDEXED_STORES`` stores and ``MAX_INDEXED_PRODUCTS``
    products in all (the store least recently asked about is dropped first). A message costs one
    aggregate query that checks the kept index is current: the number of products, the highest
    id and the names' total length. A product added or removed changes it, and so does a rename
    that changes a name's length; only then are the rows read, and the index is rebuilt only if
    they differ. A rename that keeps the length ("gaiters" to "raiders") is seen when the rows
    are read again anyway, at most ``CATALOGUE_RELOAD_SECONDS`` later. (The products table has no
    time of change to ask instead; SKUs never change in place, the importer adds a product.)

    Building an index (seconds for 50,000 products) and matching a message against a whole
    catalogue run in a worker thread, so the action server's event loop keeps answering other
    conversations meanwhile. One index is built at a time; messages arriving during a build wait
    for it instead of starting their own.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions = sessions
        self._clock = clock
        self._indexes: OrderedDict[str, _Indexed] = OrderedDict()
        self._building = asyncio.Lock()

    async def catalogue(self, store_id: str) -> Catalogue:
        """The store's index, current as of this call."""
        fingerprint = await self._fingerprint(store_id)
        kept = self._current(store_id, fingerprint)
        if kept is not None:
            return kept
        async with self._building:
            kept = self._current(store_id, fingerprint)  # built while this message waited
            if kept is not None:
                return kept
            read_at = self._clock()
            rows = await self._rows(store_id)
            previous = self._indexes.get(store_id)
            catalogue = await asyncio.to_thread(_index_of, rows, previous.catalogue if previous else None)
            self._keep(store_id, _Indexed(catalogue, fingerprint, read_at))
            return catalogue

    def _current(self, store_id: str, fingerprint: tuple[object, ...]) -> Catalogue | None:
        indexed = self._indexes.get(store_id)
        if indexed is None or indexed.fingerprint != fingerprint:
            return None
        if self._clock() - indexed.read_at >= CATALOGUE_RELOAD_SECONDS:
            return None
        self._indexes.move_to_end(store_id)
        return indexed.catalogue

    def _keep(self, store_id: str, indexed: _Indexed) -> None:
        self._indexes[store_id] = indexed
        self._indexes.move_to_end(store_id)
        while len(self._indexes) > 1 and (
            len(self._indexes) > MAX_INDEXED_STORES
            or sum(len(kept.catalogue) for kept in self._indexes.values()) > MAX_INDEXED_PRODUCTS
        ):
            self._indexes.popitem(last=False)

    async def _fingerprint(self, store_id: str) -> tuple[object, ...]:
        """An aggregate of the store's products that adding or removing one changes, and renaming
        one mostly does; computed in the database, in SQL that SQLite and PostgreSQL share. (Finer
        sums, of letters for instance, cost five times as much per message: a row's text is read
        anyway, but every function applied to it is paid for on every product.)"""
        query = select(func.count(), func.max(Product.id), func.sum(func.length(Product.name))).where(
            Product.store_id == store_id
        )
        async with self._sessions() as session:
            return tuple((await session.execute(query)).one())

    async def _rows(self, store_id: str) -> list[tuple[str, str]]:
        async with self._sessions() as session:
            result = await session.execute(
                select(Product.sku, Product.name).where(Product.store_id == store_id).order_by(Product.id)
            )
            return [(sku, name) for sku, name in result]

    async def resolve(
        self, store_id: str, text: str, order_items: Sequence[CatalogueItem] = (), *, beyond_order: bool = True
    ) -> ProductMatch:
        """The products the message names: among the shopper's order items first, then (unless
        ``beyond_order`` is false) the store's catalogue."""
        catalogue = await self.catalogue(store_id)
        if order_items:
            # An order's few items index and match in well under a millisecond: no thread needed.
            in_order = catalogue.restricted_to(order_items).resolve(text)
            if in_order.candidates or not beyond_order:
                return in_order
        if not beyond_order:
            return ProductMatch()
        return await asyncio.to_thread(catalogue.resolve, text)
