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
- the store's index is built once and kept (see ``bot.guides.product_matching.ProductMatcher``): a
  message costs one aggregate query, not a load of every product.

Measured with ``python -m bench.product_resolution`` (2026-11-30, 2 busy cores): against realistic
names, a message of 80 distinct unknown words or near-miss typos takes 0.6-3.4 ms with 5,000 products
(38,000 index words; 0.24-1.3 s before these bounds) and 7-46 ms with 50,000 (8-20 s before).
Building an index takes 0.2-0.5 s for 5,000 products and 3.5-5.4 s for 50,000, and matching
against a large catalogue can take tens of milliseconds, so ``ProductMatcher`` runs both in a
worker thread.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.guides.product_words import _STOPWORDS, _WORD, _fold, _typo_lengths, _typo_of, name_words, singular, sku_key

#: Only the start of a message is read: product names come early, and hostile text stays cheap.
MAX_TEXT_CHARS = 500
MAX_MESSAGE_WORDS = 80
#: At most this many distinct words of a message, the first the catalogue lacks, are tried as typos.
MAX_TYPO_LOOKUPS = 8
#: At most this many products are offered when several fit.
MAX_CANDIDATES = 6
#: SKUs shorter than this (after dropping dashes) are too likely to appear by chance ("12").
MIN_SKU_CHARS = 4

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
