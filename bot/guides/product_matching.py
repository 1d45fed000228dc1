"""Which of a store's products a shopper means, read from their own words.

Shoppers rarely type a catalogue name: they say "the tent", "my grill", "oil pna", "the
headlite", "OP 1001". The NLU model can't know any store's catalogue (it is trained once for
every store), so products are found here, at run time, in the one store's catalogue as it is
now: a product the seller adds is found on the next message, with no retraining.

A name is read as words. The last word before any "for"/"with" clause is its *head* (what the
thing is: "pan" in "Aluminium oil pan"); the store's heads are its *kinds* of product. Words of a
message match words of a name exactly, as singular and plural, or with a typo (a small edit
distance, same first letter). A product is a candidate when the message names

- its SKU (any case, with or without the dash): that alone decides;
- its whole name;
- its head with the word before it ("oil pan", "dome tent"): a qualified kind;
- its head, one of the store's kinds that the name contains ("tent" in "Tent footprint"),
  two of its words, or the word before its head when no other product has that word ("fleece").

The strongest kind of evidence wins; candidates equally strong are all returned, and the chat
asks which one.

The work per message is bounded, whatever a shopper sends:

- only the first 500 characters and 80 words are read, and each distinct word is looked up once,
  exactly (a dictionary lookup);
- at most ``MAX_TYPO_LOOKUPS`` (8) distinct words, the first ones the catalogue lacks, are looked
  up as typos, each only among the catalogue's words with its first letter and a length it can be
  a typo of (the typo rule asks both), compared in C by rapidfuzz;
- the products the found words occur in are weighed, each once: at most the catalogue, and in
  practice the few hundred that share a message's words;
- the store's index is built once and kept (see ``ProductMatcher``): a message costs one aggregate
  query, not a load of every product.

Measured with ``python -m bench.product_resolution`` (2026-11-30, 2 busy cores): against realistic
names, a message of 80 distinct unknown words or near-miss typos takes 0.6-3.4 ms with 5,000 products
(38,000 index words; 0.24-1.3 s before these bounds) and 7-46 ms with 50,000 (8-20 s before).
Building an index takes 0.2-0.5 s for 5,000 products and 3.5-5.4 s for 50,000, and matching
against a large catalogue can take tens of milliseconds, so ``ProductMatcher`` runs both in a
worker thread.
"""

from __future__ import annotations

import asyncio
import bisect
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import Product

#: Only the start of a message is read: product names come early, and hostile text stays cheap.
MAX_TEXT_CHARS = 500
MAX_MESSAGE_WORDS = 80
#: At most this many distinct words of a message, the first the catalogue lacks, are tried as typos.
MAX_TYPO_LOOKUPS = 8
#: Stores whose catalogue index one process keeps (least recently asked about dropped first) ...
MAX_INDEXED_STORES = 64
#: ... and the products all of them may hold together (about 3 kB of index each: 300 MB at most).
MAX_INDEXED_PRODUCTS = 100_000
#: A kept index is checked against the products table by an aggregate (see ``ProductMatcher``);
#: a rename that aggregate can't see is read this many seconds later at most.
CATALOGUE_RELOAD_SECONDS = 60.0
#: At most this many products are offered when several fit.
MAX_CANDIDATES = 6
#: SKUs shorter than this (after dropping dashes) are too likely to appear by chance ("12").
MIN_SKU_CHARS = 4

# Words that never name a product on their own: function words, and the words of the request itself.
_STOPWORDS = frozenset(
    """a an the my our your their his her its it this that these those i me we you he she they them
    is are was were be been am do does did done have has had of for with without to from in into on
    at by and or but not no so if as how what which who when where why can could would should will
    shall may might must please pls plz thanks thank hi hello hey just also very too any some all
    get got need want help install installing installed installation fit fitting fitted put putting
    set setting setup up assemble assembling assembly attach attaching use using guide manual video
    instruction step stuck again still there here one new old about does doesnt dont don t s im ive
    doesn isn won didn wasn aren cannot came arrived keep keeps broke broken leak leaks leaking work
    works working both each every either neither few many several two three four five another""".split()
)
# Words after "the"/"my" that aren't a product's name: "send me the manual", "my order".
_NOT_A_PRODUCT = frozenset(
    """it one thing item product order manual guide video instruction step part box package parcel
    way link pdf page website site store shop seller delivery money refund car vehicle house home baby
    kid child son daughter wife husband partner bit end start""".split()
)
# Words for people: "my baby hates it" is about a child, never the "baby carrier" on its own.
_PEOPLE = frozenset("baby kid child son daughter wife husband partner mom mum dad men women man woman".split())
# Words that describe one thing rather than name another kind: "the black stroller" is still the stroller.
_DESCRIPTIVE = frozenset(
    """black white red blue green grey gray navy pink yellow orange brown purple beige small large big little
    medium tiny huge whole entire same other second first brand cheap nice great good bad damaged cracked
    dented missing wrong faulty defective torn ripped scratched bent wet dirty used spare replacement extra
    womens mens kids""".split()
)
_CLAUSE_BREAK = re.compile(r"\s(?:for|with|to fit|compatible)\s|[(,;:–—]| - ", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")
_NAMED_AFTER_DETERMINER = re.compile(
    r"\b(?:the|my|this|that|these|those|a|an|our)\s+([^\W\d_]+(?:[\s-]+[^\W\d_]+){0,2})", re.IGNORECASE
)

# Scores: exact words count 1, typos less, so "pan" beats "pna" when both fit.
_EXACT, _TYPO, _HEAD_BONUS = 1.0, 0.8, 0.25
# Evidence tiers, strongest first.
_SKU, _WHOLE_NAME, _QUALIFIED_KIND, _WEAK = 4, 3, 2, 1


@dataclass(frozen=True)
class CatalogueItem:
    """A product as the chat can offer it: its SKU and the name the shopper knows."""

    sku: str
    name: str


@dataclass(frozen=True)
class ProductMatch:
    """What a message names: one product, several to ask between, or none.

    ``unknown_name`` is what looked like a product's name ("the headlight") when nothing in the
    catalogue fits, so the reply can say what it couldn't find.
    """

    candidates: tuple[CatalogueItem, ...] = ()
    unknown_name: str | None = None

    @property
    def product(self) -> CatalogueItem | None:
        return self.candidates[0] if len(self.candidates) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


@lru_cache(maxsize=4096)
def singular(word: str) -> str:
    """A crude English singular, applied to names and messages alike, so it needs only be consistent."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _fold(text: str) -> str:
    """Lower case without accents: "Aluminium" and "aluminium", "Café" and "cafe" compare equal."""
    if text.isascii():  # most names and messages: nothing to decompose (a third of indexing time)
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=65536)
def name_words(name: str) -> tuple[tuple[str, ...], int]:
    """A name's meaningful words (singular) and the index of its head; cached, as catalogues repeat."""
    main = _CLAUSE_BREAK.split(f" {name} ", maxsplit=1)[0]
    head_part = _meaningful(main)
    rest = _meaningful(name)[len(head_part) :]
    words = tuple(head_part + rest)
    # The head is what the thing is: the last plain word of the main part ("plug" in "drain plug M14×1.5").
    plain = [i for i, w in enumerate(head_part) if w.isalpha() and len(w) > 1]
    if plain:
        return words, plain[-1]
    fallback = [i for i, w in enumerate(words) if w.isalpha() and len(w) > 1]
    return words, (fallback[-1] if fallback else -1)


def _meaningful(text: str) -> list[str]:
    """Singular words that can name something: no function words, no lone digits or letters."""
    return [singular(w) for w in _WORD.findall(_fold(text)) if len(w) > 1 and w not in _STOPWORDS]


def sku_key(sku: str) -> str:
    """A SKU as typed numbers are compared: "OP-1001", "op 1001" and "op1001" are one."""
    return "".join(_WORD.findall(_fold(sku)))


def _typo_of(typed: str, word: str) -> bool:
    """A small slip: same first letter, and one edit for short words (two, or 80 % alike, for longer ones)."""
    if typed[0] != word[0] or min(len(typed), len(word)) < 3:
        return False
    shorter = min(len(typed), len(word))
    if OSA.distance(typed, word, score_cutoff=2) <= (1 if shorter <= 5 else 2):
        return True
    return shorter >= 5 and fuzz.ratio(typed, word) >= 80


def _typo_lengths(length: int) -> tuple[int, int]:
    """The lengths of the words a word of ``length`` letters can be a typo of, by ``_typo_of``:
    two edits apart at most, or 80 % alike, which the indel ratio allows only for lengths within a
    factor of 1.5 (|a - b| <= 0.2 (a + b)). Words under 3 letters are never typos."""
    return max(3, min(length - 2, -(-2 * length // 3))), max(length + 2, 3 * length // 2)


@dataclass
class _Entry:
    item: CatalogueItem
    words: tuple[str, ...]
    head: int


@dataclass
class _Evidence:
    """How a message's words line up with one product's name."""

    #: name word index → (score, message word positions that match it)
    hits: dict[int, tuple[float, set[int]]] = field(default_factory=dict)

    def add(self, name_index: int, positions: list[int], score: float) -> None:
        best, where = self.hits.get(name_index, (0.0, set()))
        if score > best:
            self.hits[name_index] = (score, set(positions))
        elif score == best:
            where.update(positions)

    def positions(self) -> set[int]:
        return {p for _, where in self.hits.values() for p in where}


class Catalogue:
    """One store's products, indexed by word for matching messages against them."""

    def __init__(
        self,
        items: Iterable[CatalogueItem],
        *,
        kinds: frozenset[str] | None = None,
        store_words: Collection[str] | None = None,
    ) -> None:
        self._entries: list[_Entry] = []
        #: word → (product, position of the word in its name); also two words typed as one ("drainplug").
        self._by_word: dict[str, list[tuple[int, int]]] = {}
        self._by_sku: dict[str, int] = {}
        for item in items:
            words, head = name_words(item.name)
            index = len(self._entries)
            self._entries.append(_Entry(item, words, head))
            for position, word in enumerate(words):
                self._by_word.setdefault(word, []).append((index, position))
                if position:
                    compound = self._by_word.setdefault(words[position - 1] + word, [])
                    compound += [(index, position - 1), (index, position)]
            key = sku_key(item.sku)
            if len(key) >= MIN_SKU_CHARS:
                self._by_sku.setdefault(key, index)
        # Only words can be mistyped words: codes and numbers match exactly or not at all. They are
        # kept by first letter and sorted by length, so a typo is compared only with words it can be.
        by_letter: dict[str, list[str]] = {}
        for word in self._by_word:
            if word.isalpha() and len(word) >= 3:
                by_letter.setdefault(word[0], []).append(word)
        self._spellings: dict[str, tuple[list[int], list[str]]] = {}
        for letter, spelled in by_letter.items():
            spelled.sort(key=len)
            self._spellings[letter] = ([len(word) for word in spelled], spelled)
        self._products_with = {word: len({index for index, _ in postings}) for word, postings in self._by_word.items()}
        #: The kinds of product the store sells; an order's items are judged by the whole store's.
        self.kinds = kinds if kinds is not None else frozenset(e.words[e.head] for e in self._entries if e.head >= 0)
        #: Every word of the store's names: "pad" (the brake pads) is no typo of an order's "pan".
        #: An order's catalogue shares the store's (no copy per message); its own words match exactly.
        self._store_words: Collection[str] = store_words if store_words is not None else self._by_word.keys()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def items(self) -> list[CatalogueItem]:
        return [entry.item for entry in self._entries]

    def restricted_to(self, items: Iterable[CatalogueItem]) -> Catalogue:
        """The same store's rules over fewer products (a shopper's order), so "tent" is still a kind."""
        return Catalogue(items, kinds=self.kinds, store_words=self._store_words)

    def resolve(self, text: str) -> ProductMatch:
        """The products this message names; see the module's docstring for the rules."""
        text = _fold(str(text or "")[:MAX_TEXT_CHARS])
        raw = _WORD.findall(text)[:MAX_MESSAGE_WORDS]
        by_sku = self._sku_matches(raw)
        if by_sku:
            return ProductMatch(tuple(self._entries[i].item for i in by_sku[:MAX_CANDIDATES]))
        # Function words stay as gaps (None), so "the" never joins "oil" and "pan" but keeps their order.
        message = [singular(w) if len(w) > 1 and w not in _STOPWORDS else None for w in raw]
        ranked = self._rank(message)
        if not ranked:
            return ProductMatch(unknown_name=_unknown_name(text))
        top_tier, top_score = ranked[0][0], ranked[0][1]
        # Equally strong evidence: ask. A head word, on its own, is not enough to tell apart.
        chosen = [i for tier, score, i in ranked if tier == top_tier and score >= top_score - 0.5]
        return ProductMatch(tuple(self._entries[i].item for i in chosen[:MAX_CANDIDATES]))

    def _sku_matches(self, raw: Sequence[str]) -> list[int]:
        found: list[int] = []
        for start in range(len(raw)):
            # "op-1001" arrives as two words, "bk-cr 100" as three.
            for end in range(start + 1, min(start + 3, len(raw)) + 1):
                index = self._by_sku.get("".join(raw[start:end]))
                if index is not None and index not in found:
                    found.append(index)
        return found

    def _rank(self, message: Sequence[str | None]) -> list[tuple[int, float, int]]:
        where: dict[str, list[int]] = {}
        for position, typed in enumerate(message):
            if typed is not None:
                where.setdefault(typed, []).append(position)
        evidence: dict[int, _Evidence] = {}
        typo_lookups = 0
        # Each distinct word is looked up once: repeating a word costs nothing more. Only the first
        # few the catalogue lacks are tried as typos: names come early, and a long message of
        # unknown words must not cost a typo search each.
        for typed, positions in where.items():
            if typed in self._by_word:
                words_like = [(typed, _EXACT)]
            elif typo_lookups < MAX_TYPO_LOOKUPS and self._may_be_typo(typed):
                typo_lookups += 1
                words_like = self._typos_of(typed)
            else:
                continue
            for word, score in words_like:
                for index, name_index in self._by_word[word]:
                    evidence.setdefault(index, _Evidence()).add(name_index, positions, score)
        ranked = []
        for index, found in evidence.items():
            graded = self._grade(self._entries[index], found, message)
            if graded is not None:
                ranked.append((graded[0], graded[1], index))
        ranked.sort(key=lambda r: (-r[0], -r[1], r[2]))
        return ranked

    def _may_be_typo(self, typed: str) -> bool:
        """A word the catalogue lacks that may be a slip: a word (no code) of 3 letters or more
        that no product of the store has as it is."""
        return len(typed) >= 3 and typed.isalpha() and typed not in self._store_words

    def _typo_pool(self, typed: str) -> list[str]:
        """The catalogue's words a typed word is compared with: its first letter, a length it can
        be a typo of. Typing ever more words never widens it."""
        lengths, words = self._spellings.get(typed[0], ([], []))
        shortest, longest = _typo_lengths(len(typed))
        return words[bisect.bisect_left(lengths, shortest) : bisect.bisect_right(lengths, longest)]

    def _typos_of(self, typed: str) -> list[tuple[str, float]]:
        """The catalogue's words this typed word is a typo of (rapidfuzz narrows, ``_typo_of`` decides)."""
        pool = self._typo_pool(typed)
        if not pool:
            return []
        near = {word for word, _, _ in process.extract(typed, pool, scorer=OSA.distance, score_cutoff=2, limit=None)}
        near.update(word for word, _, _ in process.extract(typed, pool, scorer=fuzz.ratio, score_cutoff=80, limit=None))
        return [(word, _TYPO) for word in sorted(near) if _typo_of(typed, word)]

    def _grade(self, entry: _Entry, found: _Evidence, message: Sequence[str | None]) -> tuple[int, float] | None:
        """(tier, score) of one product's evidence, or None when it isn't a candidate."""
        score = sum(s for s, _ in found.hits.values())
        if len(found.hits) == len(entry.words) and entry.words:
            return _WHOLE_NAME, score
        ours = found.positions()
        # "spark plug" is not the "drain plug", "down jacket" not the "rain jacket": another
        # word right before the kind names another kind of it.
        named = {i for i, (_, at) in found.hits.items() if any(not _foreign_at(message, p - 1, ours) for p in at)}
        head_hit = entry.head in named
        if head_hit:
            score += _HEAD_BONUS
            if entry.head > 0 and _adjacent(found, entry.head - 1, entry.head):
                return _QUALIFIED_KIND, score
        named_kind = any(entry.words[i] in self.kinds for i in named)
        if head_hit or named_kind or len(found.hits) >= 2 or self._qualifier_alone(entry, found, message):
            return _WEAK, score
        return None

    def _qualifier_alone(self, entry: _Entry, found: _Evidence, message: Sequence[str | None]) -> bool:
        """ "The fleece" for "Basecamp fleece jacket": the word before the head, no other product has
        it, and it isn't followed by a kind of its own ("hiking boots" is not the hiking pants)."""
        if entry.head <= 0 or (entry.head - 1) not in found.hits:
            return False
        qualifier = entry.words[entry.head - 1]
        if qualifier in _PEOPLE or self._products_with.get(qualifier, 0) != 1:
            return False
        ours = found.positions()
        return any(not _foreign_at(message, p + 1, ours) for p in found.hits[entry.head - 1][1])


def _foreign_at(message: Sequence[str | None], index: int, ours: set[int]) -> bool:
    """Whether the shopper's word at ``index`` is a word of their own that this name lacks."""
    if not 0 <= index < len(message) or index in ours:
        return False
    word = message[index]
    return word is not None and word.isalpha() and word not in _DESCRIPTIVE


def _adjacent(found: _Evidence, first: int, second: int) -> bool:
    """Two consecutive words of a name typed as consecutive words ("oil pan", not "pan ... oil"),
    or as one ("oilpan")."""
    if first not in found.hits or second not in found.hits:
        return False
    return any(p + 1 in found.hits[second][1] or p in found.hits[second][1] for p in found.hits[first][1])


def _unknown_name(text: str) -> str | None:
    """What the shopper seems to call a product ("the headlight"), for "I couldn't find …"."""
    for phrase in _NAMED_AFTER_DETERMINER.finditer(text):
        words = []
        for word in re.split(r"[\s-]+", phrase.group(1)):
            if word in _STOPWORDS:
                break
            words.append(word)
        if words and singular(words[-1]) not in _NOT_A_PRODUCT and words[-1] not in _NOT_A_PRODUCT:
            return " ".join(words)
    return None


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
