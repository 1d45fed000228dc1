"""Order numbers of any shape: each store's shapes, learned from its own orders.

Stores and marketplaces number orders in many ways ("#1047", "H-77001",
"SO-2026-00123", "PO#88812", eBay's "12-34567-89012", Amazon's
"113-4928371-0029384", Magento's zero-padded "000004321", 16-digit marketplace
numbers, "2411230ABCDEF1"). No fixed list of patterns can know them all, so
each store's orders teach us their shapes (:func:`shape_of`, kept per store in
``order_number_shapes``), and a typed message is searched with the store's
shapes first and a general fallback second (:func:`find_order_number_match`).

Typed and stored numbers are compared through one key (:func:`lookup_key`).
The rules, as docs/understanding-shoppers.md ("Order numbers") states them:

* case, spaces, dashes, "#" and other punctuation don't count:
  "so 2026 00123" = "SO-2026-00123" = "#so2026-00123"; "PO#88812" = "PO-88812";
* in a number made of digits only, leading zeros don't count:
  "4321" = "000004321" (Magento pads to nine digits; shoppers drop the zeros).

A message often holds other numbers too: a year, a price, a wattage, a postcode.
Every candidate, learned or general, is ranked together (:func:`find_order_number_match`):
first by the words just before it ("order", "order no.", "my order number is", "Bestellnummer",
"订单号" count for it; "zip", "postcode", "PLZ" against it), then by what found it (a
learned shape with letters or separators, then a learned digits-only shape, then the
fallback), then by its marks (letters, separators, a "#" just before), then the leftmost,
then the longest. A number of digits only after a currency sign or before a decimal part
("$1299.00", "1299,50 €") is a price, never an order number; a learned digits-only match
joined to more digits by "-", "/", "." or "_" ("2026-11-30", "415-555-0132") is part of
something longer. Text is compared in its NFKC form (:func:`plain_text`), so full-width
"ＦＺ-２０９３１" is "FZ-20931".

Every function here does bounded work on hostile text: only the first
:data:`MAX_SCANNED_CHARS` characters are read, a store's most common
:data:`MAX_SHAPES` shapes are tried, at most :data:`MAX_MATCHES_PER_SHAPE` matches of
each and :data:`MAX_FALLBACK_CANDIDATES` general candidates are weighed, the words
before a candidate are looked for in at most :data:`CONTEXT_CHARS` characters, and no
regex can backtrack catastrophically (every repeat is bounded or separated by characters
the next part can't take).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

#: Only this much of a message is searched: an order number is near the start of any real message.
MAX_SCANNED_CHARS = 2000
#: A store's most common shapes tried per message (a store with random letters in its numbers
#: could otherwise collect one shape per order).
MAX_SHAPES = 20
#: General candidates weighed per message: "many numbers in one message" costs no more.
MAX_FALLBACK_CANDIDATES = 5
#: Matches of one learned shape weighed per message (prices and other excluded ones not counted).
MAX_MATCHES_PER_SHAPE = 5
#: How far before a candidate the words about it are looked for ("order number is ", "zip code: ").
CONTEXT_CHARS = 32
#: Longer than this is not an order number (the column holds 64; no platform comes close).
MAX_ORDER_NUMBER_CHARS = 40
#: A number needs this many digits to be taken without a learned shape ("2 pads", "12 Nov" are not orders).
MIN_FALLBACK_DIGITS = 4
MAX_FALLBACK_DIGITS = 20
MAX_FALLBACK_LETTERS = 8
#: The longest leading letters kept literally in a shape ("SO", "ORD", "WEB"); longer runs
#: count as "this many letters".
MAX_PREFIX_LETTERS = 6
#: The longest trailing letters kept literally ("ORD-1001-X"): longer ones are random codes.
MAX_SUFFIX_LETTERS = 2
#: Shapes are stored in a String(64).
MAX_SHAPE_CHARS = 64

# What a shopper may type between two parts of a number: "SO-2026-00123", "so 2026 00123",
# "PO#88812", "PO # 88812". Bounded, and none of these is a letter or a digit, so the parts
# around it can never trade characters with it.
_BETWEEN_PARTS = r"[\s\-#_./:]{0,3}"
_RUNS = re.compile(r"[A-Za-z]+|[0-9]+|[^A-Za-z0-9]+")
_SHAPE_RUNS = re.compile(r"9+|a+|[A-Z]+|[^A-Za-z9]+")
_KEY_DROPS = re.compile(r"[\W_]+")

# The general fallback: one token of letters and digits joined by dashes, slashes, dots or
# "#", maybe after a "#". It never starts inside a longer token (two fixed-width lookbehinds)
# and never stops inside one (the lookahead): "113-4928371-0029384" is one candidate, not three.
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9@+])(?<![A-Za-z0-9][\-_/#.])(#\s?)?"
    r"([A-Za-z0-9]{1,40}(?:[\-_/#.][A-Za-z0-9]{1,40}){0,5})"
    r"(?![A-Za-z0-9@]|[\-_/#.][A-Za-z0-9])"
)
# Tokens with the digits of an order number that are something else: dates, a US phone
# number, a US ZIP+4 (a postcode the identity check asks for), times. A store whose own
# numbers look like one of these still has them found, through its learned shapes.
_NOT_ORDER_NUMBERS = (
    re.compile(r"\d{4}[-/]\d{1,2}[-/]\d{1,2}"),
    re.compile(r"\d{1,2}[-/]\d{1,2}[-/]\d{2,4}"),
    re.compile(r"\d{3}-\d{3}-\d{4}"),
    re.compile(r"\d{5}-\d{4}"),
)

# The words just before a candidate that say what it is. Latin words stand alone (a letter
# on neither side: "record 1047" and "ordered in 2026" say nothing); Chinese and Japanese
# have no spaces ("我的订单号是1047"). Then what may sit between the word and the number:
# a few of " #:.=-", maybe "is" ("my order number is 1047", "订单号是", "注文番号は").
# Every repeat is bounded and the text searched is at most CONTEXT_CHARS long.
_LETTER = r"[^\W\d_]"
_UP_TO_THE_NUMBER = r"[\s#:.=\-]{0,4}(?:(?:is|was|ist|est|es|è)(?!" + _LETTER + r")[\s#:.=\-]{0,4}|[是は][\s#:]{0,3})?$"
_ORDER_WORDS_BEFORE = re.compile(
    r"(?:(?<!" + _LETTER + r")(?:order|ord|bestellung|bestellnummer|commande|pedido|ordine)"
    r"(?:[\s\-]?(?:id|number|no|nr|num|n°))?(?!" + _LETTER + r")"
    # "number", "no.", "nr", "n°" on their own, unless they are a phone's or a parcel's
    r"|(?<!" + _LETTER + r")(?<!phone )(?<!mobile )(?<!tracking )(?<!tel )(?:number|no|nr|num|n°)(?!" + _LETTER + r")"
    r"|订单号?|注文(?:番号)?)" + _UP_TO_THE_NUMBER,
    re.IGNORECASE,
)
_POSTCODE_WORDS_BEFORE = re.compile(
    r"(?:(?<!" + _LETTER + r")(?:zip|zip[\s\-]?code|post[\s\-]?code|postal[\s\-]?code|plz|postleitzahl"
    r"|code postal|c[oó]digo postal)(?!" + _LETTER + r")|邮编|邮政编码|〒)" + _UP_TO_THE_NUMBER,
    re.IGNORECASE,
)
# A number of digits only that is an amount of money: a currency sign before or after it,
# or a decimal part after it ("$1299.00", "€ 1299", "1299,50", "1299 €", "1299円").
_CURRENCY_BEFORE = re.compile(r"[$€£¥₹]\s?$")
_AMOUNT_AFTER = re.compile(r"[.,][0-9]{1,2}(?![0-9])|\s?[$€£¥₹円元](?![0-9])")
# A digits-only match joined to more digits ("2026-11-30", "415-555-0132", "12-34567-89012").
_DIGITS_JOINED_BEFORE = re.compile(r"[0-9][\-/._]$")
_DIGITS_JOINED_AFTER = re.compile(r"[\-/._][0-9]")


def lookup_key(order_number: str) -> str:
    """How order numbers compare, stored and typed alike.

    Full-width characters count as their plain forms (NFKC: "１０４７" is "1047", as Chinese and
    Japanese keyboards type it). Case and everything but letters and digits are dropped; an
    all-digit number also drops its leading zeros. "so 2026 00123" and "#SO-2026-00123" are one
    order, "PO#88812" and "PO-88812" are one, "000004321" and "4321" are one. Two orders of one
    store never share a key (the importer refuses the second; the database enforces it).
    """
    key = _KEY_DROPS.sub("", unicodedata.normalize("NFKC", order_number)).upper()
    if key.isascii() and key.isdigit():
        key = key.lstrip("0") or "0"
    return key[:MAX_SHAPE_CHARS]


def shape_of(order_number: str) -> str | None:
    """The shape of one of the store's order numbers, as stored per store.

    Digits become "9" each; leading letters (up to six: the store's prefix) and
    trailing letters (up to two: a suffix like "-X") stay as they are, upper-cased;
    other letters become "a" each; a separator stays (any whitespace as one space).
    A leading "#" is decoration, not shape. "SO-2026-00123" -> "SO-9999-99999",
    "#1047" -> "9999", "2411230ABCDEF1" -> "9999999aaaaaa9", "ORD-1001-X" -> "ORD-9999-X".
    ``None`` for something no typed number could be matched with: no digits,
    letters outside A–Z, or too long.
    """
    runs = _RUNS.findall(order_number.strip().strip("#").strip())
    if not runs or not any(run.isdigit() for run in runs) or len(order_number) > MAX_ORDER_NUMBER_CHARS:
        return None
    parts = []
    for index, run in enumerate(runs):
        if run.isdigit():
            parts.append("9" * len(run))
        elif run.isascii() and run.isalpha():
            first, last = index == 0, index == len(runs) - 1
            literal = (first and len(run) <= MAX_PREFIX_LETTERS) or (last and len(run) <= MAX_SUFFIX_LETTERS)
            parts.append(run.upper() if literal else "a" * len(run))
        elif run.isspace():
            parts.append(" ")
        elif all(ch in "-#_./: " for ch in run):
            parts.append(run.strip()[:1] or " ")
        else:
            return None  # letters outside A-Z, emoji, brackets: not a shape to match with
    shape = "".join(parts)
    return shape if len(shape) <= MAX_SHAPE_CHARS else None


@lru_cache(maxsize=4096)
def _shape_pattern(shape: str) -> re.Pattern[str]:
    """The regex a shape matches typed text with: its parts, with any (or no) separator
    between two parts, never inside a longer run of letters or digits."""
    pieces = []
    for run in _SHAPE_RUNS.findall(shape):
        if run[0] == "9":
            pieces.append(rf"[0-9]{{{len(run)}}}")
        elif run[0] == "a":
            pieces.append(rf"[A-Za-z]{{{len(run)}}}")
        elif run.isalpha():
            pieces.append(re.escape(run))
        # a separator: _BETWEEN_PARTS stands for whatever the shopper typed there
    return re.compile(r"(?<![A-Za-z0-9])" + _BETWEEN_PARTS.join(pieces) + r"(?![A-Za-z0-9])", re.IGNORECASE)


@dataclass(frozen=True)
class OrderNumberMatch:
    """An order number found in a message: as typed (spaces tidied), and where."""

    number: str
    start: int
    end: int
    #: Found by one of the store's own shapes (not by the general fallback).
    learned: bool

    @property
    def has_letters(self) -> bool:
        return any(ch.isalpha() for ch in self.number)


def _as_typed(text: str) -> str:
    """The number as the shopper typed it, with "# 1047" as "#1047" and runs of spaces as one."""
    return re.sub(r"#\s+", "#", " ".join(text.split()))


def plain_text(text: str) -> str:
    """``text`` with full-width and other compatibility forms as their plain characters (NFKC):
    "order １０４７" is "order 1047", "ＦＺ－２０９３１" is "FZ-20931" (as Chinese and Japanese
    keyboards type them). Positions in a :class:`OrderNumberMatch` are positions in this text."""
    return unicodedata.normalize("NFKC", text)


#: What found a candidate, best first in a tie of the words before it.
_LEARNED_WITH_MARKS = 2  # a learned shape with letters or separators: "H-99999", "SO-9999-99999"
_LEARNED_DIGITS = 1  # a learned shape of digits only: "9999" (Shopify's "#1047")
_FALLBACK = 0


def is_amount(text: str, start: int, end: int) -> bool:
    """Are the digits at ``text[start:end]`` an amount of money ("$1299.00", "1299,50 €")?"""
    return bool(_CURRENCY_BEFORE.search(text, max(0, start - 2), start) or _AMOUNT_AFTER.match(text, end))


def _words_before(text: str, start: int) -> int:
    """+1 when the words just before ``start`` say "order number", -1 when they say "postcode"."""
    before = text[max(0, start - CONTEXT_CHARS) : start]
    if _POSTCODE_WORDS_BEFORE.search(before):
        return -1
    return 1 if _ORDER_WORDS_BEFORE.search(before) else 0


def _ranked(text: str, start: int, end: int, number: str, found_by: int, hashed: bool) -> tuple[int, ...]:
    """How much ``number`` at ``text[start:end]`` looks like the order number (higher is more):
    the words before it, what found it, its marks, then the leftmost and the longest."""
    marks = (0 if number.lstrip("#").strip().isdigit() else 1) + (1 if hashed else 0)
    return (_words_before(text, start), found_by, marks, -start, end - start)


def _learned_candidates(text: str, shapes: list[str]) -> list[tuple[tuple[int, ...], OrderNumberMatch]]:
    """Matches of the store's shapes: the first few of each, prices and parts of longer
    numbers left out."""
    candidates = []
    for shape in shapes[:MAX_SHAPES]:
        digits_only = shape.isdigit()
        found_by = _LEARNED_DIGITS if digits_only else _LEARNED_WITH_MARKS
        kept = 0
        for found in _shape_pattern(shape).finditer(text):
            start, end = found.span()
            if digits_only and (
                is_amount(text, start, end)
                or _DIGITS_JOINED_BEFORE.search(text, max(0, start - 2), start)
                or _DIGITS_JOINED_AFTER.match(text, end)
            ):
                continue
            hashed = text[max(0, start - 2) : start].rstrip().endswith("#")
            number = _as_typed(found.group(0))
            candidates.append(
                (_ranked(text, start, end, number, found_by, hashed), OrderNumberMatch(number, start, end, learned=True))
            )
            kept += 1
            if kept >= MAX_MATCHES_PER_SHAPE:
                break
    return candidates


def _fallback_allows(token: str) -> bool:
    """Could ``token`` be an order number without a learned shape? Not with too few or too
    many digits, nor as a decimal number, a date, a phone number, a ZIP+4, "1500mAh"."""
    digits = sum(ch.isdigit() for ch in token)
    letters = sum(ch.isalpha() for ch in token)
    if not MIN_FALLBACK_DIGITS <= digits <= MAX_FALLBACK_DIGITS or letters > MAX_FALLBACK_LETTERS:
        return False
    if len(token) > MAX_ORDER_NUMBER_CHARS or any(p.fullmatch(token) for p in _NOT_ORDER_NUMBERS):
        return False
    if letters == 0 and "." in token:
        return False  # 1299.00, 10.0.0.1, 30.11.2026
    # 1500mAh, 2000W: a quantity; "2411230ABCDEF1" has enough digits to pass
    return not (letters and not token[0].isalpha() and digits < 6)


def _fallback_candidates(text: str) -> list[tuple[tuple[int, ...], OrderNumberMatch]]:
    """The first few general candidates: tokens of letters and digits that could be order numbers."""
    candidates = []
    for found in _TOKEN.finditer(text):
        token = found.group(2)
        if not _fallback_allows(token) or (token.isdigit() and is_amount(text, found.start(2), found.end(2))):
            continue
        start, end = found.span()
        number = _as_typed(found.group(0))
        candidates.append(
            (
                _ranked(text, start, end, number, _FALLBACK, bool(found.group(1))),
                OrderNumberMatch(number, start, end, learned=False),
            )
        )
        if len(candidates) >= MAX_FALLBACK_CANDIDATES:
            break
    return candidates


def find_order_number_match(text: str, shapes: list[str] | tuple[str, ...] = ()) -> OrderNumberMatch | None:
    """The order number in ``text`` (read as :func:`plain_text`): the best ranked of the
    matches of the store's own ``shapes`` (most common first) and the general fallback's
    candidates, as the module's docstring ranks them."""
    text = plain_text(text[:MAX_SCANNED_CHARS])[:MAX_SCANNED_CHARS]
    candidates = _learned_candidates(text, list(shapes)) + _fallback_candidates(text)
    return max(candidates, key=lambda candidate: candidate[0])[1] if candidates else None


def find_order_number(text: str, shapes: list[str] | tuple[str, ...] = ()) -> str | None:
    """The order number in ``text``, as typed, if any."""
    found = find_order_number_match(text, shapes)
    return found.number if found else None
