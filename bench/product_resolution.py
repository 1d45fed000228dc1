"""How well the chat finds the product a shopper names: before (a global lookup table) and now.

    .venv/bin/python -m bench.product_resolution            # the figures
    .venv/bin/python -m bench.product_resolution --details  # and every message that is wrong

Messages: the product mentions annotated in tests/nlu_holdout.yml (each placed in the demo store
that sells that kind of thing) and fresh messages written for this benchmark, in shoppers' words
with typos, naming the demo stores' products (demo/demo_stores.jsonl). For each message the
answer is a set of the store's SKUs: the one product meant, every product it could mean when the
words don't tell ("the jacket" in a store with two), or none (a product the store doesn't sell,
or none named).

Scored per (message, SKU) pair: a product offered that wasn't meant is a false positive, one meant
but not offered a false negative. So asking "which one?" between two when one was meant costs
precision, and the figures don't flatter the asking.

"Before" is what the chat did until issue 14: the NLU's ``product`` lookup table (regex over the
text, with its synonyms), the longest value found, then ``best_match`` against the catalogue. It is
kept here, frozen, since data/nlu.yml no longer has the table. It is generous to the old approach:
the DIET-learned product entities (F1 0.19 on the holdout set) are not counted against it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.guides.catalogue_index import Catalogue, CatalogueItem

ROOT = Path(__file__).resolve().parent.parent
HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"
DEMO = ROOT / "demo" / "demo_stores.jsonl"

AUTO, BABY, OUTDOOR = "yangteng-auto", "bloomkids-baby", "summit-outdoor"

# Which demo store a holdout mention belongs to, and the SKU it denotes there (None: not sold there).
HOLDOUT_MENTIONS: dict[str, tuple[str, str | None]] = {
    "oil pan": (AUTO, "OP-1001"),
    "gasket": (AUTO, "GK-2040"),
    "drain plug": (AUTO, "DP-3102"),
    "brake pads": (AUTO, "BP-4410"),
    "air filter": (AUTO, "AF-5205"),
    "spark plug": (AUTO, None),
    "stroller": (BABY, "BK-ST300"),
    "car seat": (BABY, None),
    "high chair": (BABY, None),
    "diaper bag": (BABY, None),
    "baby monitor": (BABY, None),
    "bassinet": (BABY, None),
    "fleece": (OUTDOOR, "ST-FL330"),
    "down jacket": (OUTDOOR, None),
    "hiking boots": (OUTDOOR, None),
    "sleeping bag": (OUTDOOR, None),
    "backpack": (OUTDOOR, None),
    "softshell jacket": (OUTDOOR, None),
    "windbreaker": (OUTDOOR, None),
}

# Fresh messages, written for this benchmark only: (store, text, SKUs meant).
FRESH: list[tuple[str, str, frozenset[str]]] = [
    (AUTO, "how do i put the oil pna on", frozenset({"OP-1001"})),
    (AUTO, "the sump pan i got is dented", frozenset({"OP-1001"})),
    (AUTO, "need the guide for the aluminum oil pan pls", frozenset({"OP-1001"})),
    (AUTO, "which way round does the gaskit go", frozenset({"GK-2040"})),
    (AUTO, "OP1001 arrived scratched", frozenset({"OP-1001"})),
    (AUTO, "is there a video for gk 2040", frozenset({"GK-2040"})),
    (AUTO, "the magnetic plug came without a washer", frozenset({"DP-3102"})),
    (AUTO, "how tight should the drainplug be", frozenset({"DP-3102"})),
    (AUTO, "my front brake pad squeal after fitting them", frozenset({"BP-4410"})),
    (AUTO, "the break pads are the wrong size", frozenset({"BP-4410"})),
    (AUTO, "the air filtre doesnt fit the housing", frozenset({"AF-5205"})),
    (AUTO, "how do i install the pan", frozenset({"OP-1001", "GK-2040"})),
    (AUTO, "my headlight bulb is broken", frozenset()),
    (AUTO, "where is my order FZ-20931", frozenset()),
    (AUTO, "can you help me with my car", frozenset()),
    (AUTO, "i'm stuck at step 4, the bolts won't line up", frozenset()),
    (BABY, "how do i fold the stroler", frozenset({"BK-ST300"})),
    (BABY, "the travel buggy wheel is wobbly", frozenset({"BK-ST300"})),
    (BABY, "the rain cover doesnt fit over the hood", frozenset({"BK-RC310"})),
    (BABY, "how do you attach the stroller raincover", frozenset({"BK-RC310"})),
    (BABY, "my baby carier straps are confusing", frozenset({"BK-CR100"})),
    (BABY, "the ergonomic carrier buckle broke", frozenset({"BK-CR100"})),
    (BABY, "bottle warmer wont turn on", frozenset({"BK-BW200"})),
    (BABY, "the bottel warmer beeps all the time", frozenset({"BK-BW200"})),
    (BABY, "only got 2 of the swaddles, it says 3 pack", frozenset({"BK-SW500"})),
    (BABY, "the muslin blanket has a hole", frozenset({"BK-SW500"})),
    (BABY, "how do i install BK-CR100", frozenset({"BK-CR100"})),
    (BABY, "my baby hates it, can i return it", frozenset()),
    (BABY, "the crib arrived with a broken slat", frozenset()),
    (BABY, "the warmer", frozenset({"BK-BW200"})),
    (OUTDOOR, "the rain jacket zip is stuck", frozenset({"ST-RJ110"})),
    (OUTDOOR, "my waterproof jacket leaks at the seams", frozenset({"ST-RJ110"})),
    (OUTDOOR, "how do i reproof the stormline rain pants", frozenset({"ST-RP140"})),
    (OUTDOOR, "the convertable hiking trousers zip-off legs", frozenset({"ST-HP220"})),
    (OUTDOOR, "the hiking pant legs wont zip off", frozenset({"ST-HP220"})),
    (OUTDOOR, "the basecamp fleece is pilling already", frozenset({"ST-FL330"})),
    (OUTDOOR, "how do the gaitors strap under the boot", frozenset({"ST-GT450"})),
    (OUTDOOR, "trailguard gaiter hook snapped", frozenset({"ST-GT450"})),
    (OUTDOOR, "the jacket is too small", frozenset({"ST-RJ110", "ST-FL330"})),
    (OUTDOOR, "my pants came with a tear", frozenset({"ST-RP140", "ST-HP220"})),
    (OUTDOOR, "the tent poles are missing", frozenset()),
    (OUTDOOR, "i would like to talk to a person", frozenset()),
]

# The lookup table and synonyms that data/nlu.yml had until issue 14, frozen for "before".
OLD_LOOKUP = (
    "oil pan",
    "gasket",
    "drain plug",
    "oil filter",
    "spark plug",
    "brake pads",
    "air filter",
    "baby carrier",
    "stroller",
    "bottle warmer",
    "car seat",
    "high chair",
    "baby monitor",
    "diaper bag",
    "rain jacket",
    "hiking pants",
    "fleece",
    "down jacket",
    "hiking boots",
    "softshell jacket",
    "backpack",
    "sleeping bag",
)
OLD_SYNONYMS = {
    "oilpan": "oil pan",
    "oil sump": "oil pan",
    "sump": "oil pan",
    "oil pans": "oil pan",
    "gaskets": "gasket",
    "oil pan gasket": "gasket",
    "sump plug": "drain plug",
    "oil drain plug": "drain plug",
    "pram": "stroller",
    "pushchair": "stroller",
    "buggy": "stroller",
    "raincoat": "rain jacket",
    "rain coat": "rain jacket",
    "waterproof jacket": "rain jacket",
    "fleece jacket": "fleece",
}
_ANNOTATION = re.compile(r"\[([^\]]+)\]\((\w+)\)")


@dataclass(frozen=True)
class Case:
    source: str
    store: str
    text: str
    meant: frozenset[str]


def catalogues() -> dict[str, list[CatalogueItem]]:
    stores: dict[str, list[CatalogueItem]] = {}
    for line in DEMO.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("type") == "product":
            stores.setdefault(record["store"], []).append(CatalogueItem(record["sku"], record["name"]))
    return stores


def holdout_cases() -> list[Case]:
    """Every holdout example with a product annotation, as plain text, in the store that sells such things."""
    cases = []
    for block in yaml.safe_load(HOLDOUT.read_text(encoding="utf-8"))["nlu"]:
        for line in str(block.get("examples", "")).splitlines():
            example = line.strip()[2:] if line.strip().startswith("- ") else ""
            products = [value for value, entity in _ANNOTATION.findall(example) if entity == "product"]
            if not products:
                continue
            placed = [HOLDOUT_MENTIONS[p.lower()] for p in products]
            text = _ANNOTATION.sub(lambda m: m.group(1), example)
            cases.append(Case("holdout", placed[0][0], text, frozenset(sku for _, sku in placed if sku)))
    return cases


def fresh_cases() -> list[Case]:
    return [Case("fresh", store, text, meant) for store, text, meant in FRESH]


def old_resolve(items: list[CatalogueItem], text: str) -> set[str]:
    """Lookup table → synonym → longest value → best_match, as the chat did before."""
    names = sorted({*OLD_LOOKUP, *OLD_SYNONYMS}, key=len, reverse=True)
    found = re.findall(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b", text, re.IGNORECASE)
    if not found:
        return set()
    wanted = max((OLD_SYNONYMS.get(v.lower(), v.lower()) for v in found), key=len)
    best = _old_best_match(items, wanted)
    return {best.sku} if best else set()


def _old_best_match(items: list[CatalogueItem], wanted: str) -> CatalogueItem | None:
    def score(item: CatalogueItem) -> int:
        name = item.name.lower()
        if wanted == item.sku.lower():
            return 4
        if wanted == name:
            return 3
        if name.endswith(wanted) or wanted.endswith(name):
            return 2
        return 1 if wanted in name or name in wanted else 0

    scored = [(score(item), -index, item) for index, item in enumerate(items) if score(item)]
    return max(scored, key=lambda entry: entry[:2])[2] if scored else None


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    exact: int = 0
    messages: int = 0

    def add(self, meant: frozenset[str], offered: set[str]) -> None:
        self.tp += len(meant & offered)
        self.fp += len(offered - meant)
        self.fn += len(meant - offered)
        self.exact += meant == offered
        self.messages += 1

    def row(self) -> str:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return (
            f"P {precision:.2f}  R {recall:.2f}  F1 {f1:.2f}  "
            f"exactly right {self.exact}/{self.messages} ({self.exact / max(self.messages, 1):.2f})"
        )


def run(cases: Iterable[Case], details: bool) -> None:
    stores = catalogues()
    indexed = {store: Catalogue(items) for store, items in stores.items()}
    tallies: dict[tuple[str, str], Tally] = {}
    for case in cases:
        now = {item.sku for item in indexed[case.store].resolve(case.text).candidates}
        before = old_resolve(stores[case.store], case.text)
        for method, offered in (("before", before), ("now", now)):
            for source in (case.source, "all"):
                tallies.setdefault((method, source), Tally()).add(case.meant, offered)
        if details and now != case.meant:
            where = f"{case.source}/{case.store}"
            print(f"  now wrong [{where}] {case.text!r}: meant {sorted(case.meant)}, offered {sorted(now)}")
    print("product resolution against the demo stores' catalogues, per (message, SKU):")
    for source in ("holdout", "fresh", "all"):
        for method in ("before", "now"):
            tally = tallies[(method, source)]
            print(f"  {source:8} {method:7} n={tally.messages:3}  {tally.row()}")


def realistic_catalogue(products: int, seed: int = 14) -> list[CatalogueItem]:
    """A large store's catalogue with varied names, from a fixed seed: a brand, two to five
    qualifiers, a kind, sometimes "for" something, and a model code ("Vorabel kemistra dunol
    pelagor for tarvine VK-2031"). Words are made of syllables and drawn with a Zipf-like skew
    (a few common, most rare): 5,000 products have about 4,800 distinct words, and their index
    38,000 with the codes and the pairs of words typed as one, like a real store's."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["tr", "st", "pl", "gr", "sh", "ch", "nd"]
    pool: dict[str, None] = {}
    while len(pool) < products * 2:
        pool["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))] = None
    words = list(pool)
    kinds, brands, qualifiers = words[:300], words[300:800], words[800:]
    # Rank r is drawn with weight 1 / (r + 1): "the common words" and a long tail of rare ones.
    qualifier_weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(qualifiers))))
    kind_weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(kinds))))
    items = []
    for n in range(products):
        brand = rng.choice(brands)
        described = rng.choices(qualifiers, cum_weights=qualifier_weights, k=rng.randint(2, 5))
        kind = rng.choices(kinds, cum_weights=kind_weights)[0]
        purpose = f" for {rng.choices(qualifiers, cum_weights=qualifier_weights)[0]}" if rng.random() < 0.3 else ""
        code = f"{brand[:2].upper()}-{n:05d}"
        items.append(CatalogueItem(code, f"{brand.title()} {' '.join(described)} {kind}{purpose} {code}"))
    return items


def vocabulary_of(items: Iterable[CatalogueItem]) -> list[str]:
    """The distinct plain words of the names, in the order they first appear."""
    return list(dict.fromkeys(w for item in items for w in re.findall(r"[a-z]{3,}", item.name.lower())))


def hostile_messages(items: list[CatalogueItem], seed: int = 14) -> dict[str, str]:
    """Messages of 80 distinct words that each cost a lookup: words the catalogue lacks, typos
    one letter off the catalogue's own words, and the catalogue's own words."""
    rng = random.Random(seed)
    vocabulary = vocabulary_of(items)
    known = set(vocabulary)
    unknown: list[str] = []
    while len(unknown) < 80:
        word = "".join(rng.choice("abcdefghiklmnoprstuvw") for _ in range(rng.randint(5, 10)))
        if word not in known and word not in unknown:
            unknown.append(word)
    typos: list[str] = []
    for word in rng.sample([w for w in vocabulary if len(w) >= 5], 400):
        at = rng.randrange(1, len(word))
        typo = word[:at] + rng.choice("aeioubdgklmnprst") + word[at + 1 :]
        if typo not in known and typo not in typos:
            typos.append(typo)
        if len(typos) == 80:
            break
    return {
        "80 unknown words": " ".join(unknown),
        "80 near-miss typos": " ".join(typos),
        "80 catalogue words": " ".join(rng.sample(vocabulary, 80)),
    }


def timing() -> None:
    """The cost per message with a large catalogue, and with hostile text."""
    words = ["oil", "pan", "tent", "dome", "grill", "kettle", "jacket", "rain", "filter", "pump", "light", "cover"]
    items = [CatalogueItem(f"SKU-{n:05d}", f"{words[n % 12]} {words[(n // 12) % 12]} model {n}") for n in range(5000)]
    Catalogue(items)  # names are normalised once per process (cached), as in the action server
    start = time.perf_counter()
    catalogue = Catalogue(items)
    print(
        f"  indexing 5,000 products (once per process and store, again when the catalogue changes): "
        f"{(time.perf_counter() - start) * 1000:.1f} ms"
    )
    for label, text in (
        ("typical", "how do i install the oil pna on my car"),
        ("hostile", "tnet " * 10_000 + "/request_installation_guide{" * 1000),
    ):
        start = time.perf_counter()
        for _ in range(20):
            catalogue.resolve(text)
        print(f"  {label} message, 5,000 products: {(time.perf_counter() - start) / 20 * 1000:.1f} ms")
    for size in (5_000, 50_000):
        items = realistic_catalogue(size)
        start = time.perf_counter()
        catalogue = Catalogue(items)
        built = time.perf_counter() - start
        print(
            f"  realistic names, {size:,} products: first index {built * 1000:.0f} ms "
            f"({len(vocabulary_of(items)):,} distinct words)"
        )
        for label, text in hostile_messages(items).items():
            start = time.perf_counter()
            for _ in range(5):
                catalogue.resolve(text)
            print(f"    hostile, {label}: {(time.perf_counter() - start) / 5 * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="print every message the resolver gets wrong")
    args = parser.parse_args()
    run([*holdout_cases(), *fresh_cases()], args.details)
    print("cost:")
    timing()


if __name__ == "__main__":
    main()
