"""How product names and shoppers' messages are read as words, so "Aluminium oil pans", "aluminium
oil pan" and "oil pna" can be compared.

Words are lower case without accents and singular ("pans" is "pan"); function words and the words
of a request ("install", "manual") are dropped. A name's *head* is its last plain word before any
"for"/"with" clause: what the thing is ("pan" in "Aluminium oil pan"). A SKU is compared without
case or dashes. A typed word is a typo of a catalogue word when it is a small slip of it: same
first letter, one or two edits, or 80 % alike. The rules that use these words to find a product are
in ``bot.guides.catalogue_index``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

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
_CLAUSE_BREAK = re.compile(r"\s(?:for|with|to fit|compatible)\s|[(,;:–—]| - ", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")


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
