"""Summarise `rasa test nlu` output folders against issue 14's understanding targets.

Each argument is `NAME=FOLDER`, one folder per evaluated set. NAME picks the targets that apply to
the set (`holdout`: our own held-out messages; `shopper_dev`: third-party shopper messages); any
other name gets the figures without targets. The report is read from the files Rasa writes
(intent_report.json, intent_errors.json), so it shows exactly what `rasa test nlu` measured.
Rasa undoes the FallbackClassifier before scoring, so these are the classifier's own figures;
bench/nlu_thresholds.py shows what the fallback thresholds do on top of them.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Rows of intent_report.json that are averages, not intents.
SUMMARY_ROWS = frozenset({"accuracy", "macro avg", "weighted avg", "micro avg"})
TOP_CONFUSIONS = 10


@dataclass(frozen=True)
class Target:
    """One figure a set must reach: `label` names it in the report, `floor` is the minimum."""

    label: str
    floor: float


# The targets of issue 14 ("Understanding"), per set.
TARGETS: dict[str, tuple[Target, ...]] = {
    "shopper_dev": (Target("intent accuracy", 0.90), Target("out_of_scope F1", 0.85)),
    "holdout": (Target("intent accuracy", 0.95), Target("each report_* F1", 0.90)),
}


def intent_rows(report: dict) -> dict[str, dict]:
    """Per-intent rows of intent_report.json (precision, recall, f1-score, support)."""
    return {
        name: row for name, row in report.items() if name not in SUMMARY_ROWS and isinstance(row, dict) and "support" in row
    }


def confusions(errors: list[dict]) -> list[tuple[tuple[str, str], int]]:
    """(true, predicted) pairs of the misclassified messages, most frequent first."""
    pairs = Counter((error["intent"], error["intent_prediction"]["name"]) for error in errors)
    return sorted(pairs.items(), key=lambda item: (-item[1], item[0]))


def measured(label: str, report: dict, rows: dict[str, dict]) -> tuple[float, str]:
    """The figure a target is compared with, and which row it came from (the weakest, for a minimum)."""
    if label == "intent accuracy":
        return report["accuracy"], "all"
    if label == "out_of_scope F1":
        return rows.get("out_of_scope", {}).get("f1-score", 0.0), "out_of_scope"
    if label == "each report_* F1":
        reports = {name: row["f1-score"] for name, row in rows.items() if name.startswith("report_")}
        if not reports:
            return 0.0, "no report_* intent in this set"
        weakest = min(reports, key=reports.get)
        return reports[weakest], f"weakest {weakest}"
    raise ValueError(f"unknown target {label!r}")


def print_entities(folder: Path) -> None:
    """Entity F1 per extractor that Rasa scored (the regex extractor, and DIET when it is used)."""
    for report in sorted(folder.glob("*Extractor_report.json")) + sorted(folder.glob("DIETClassifier_report.json")):
        rows = json.loads(report.read_text())
        cells = ", ".join(
            f"{entity} {row['f1-score']:.2f}"
            for entity, row in rows.items()
            if isinstance(row, dict) and entity not in SUMMARY_ROWS and row.get("support")
        )
        print(f"{report.stem.replace('_report', '')} entity F1: {cells}")


def summarise(name: str, folder: Path) -> list[bool]:
    """Print one set's figures; return whether each of its targets is met."""
    report = json.loads((folder / "intent_report.json").read_text())
    errors_file = folder / "intent_errors.json"
    errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
    rows = intent_rows(report)
    total = sum(row["support"] for row in rows.values())
    print(f"\n=== {name} ({folder}): {total} messages")
    print(f"intent accuracy {report['accuracy']:.3f}   macro F1 {report['macro avg']['f1-score']:.3f}   wrong {len(errors)}")
    print(f"{'intent':<28} {'prec':>6} {'recall':>6} {'F1':>6} {'support':>8}")
    for intent in sorted(rows):
        row = rows[intent]
        print(f"{intent:<28} {row['precision']:>6.2f} {row['recall']:>6.2f} {row['f1-score']:>6.2f} {row['support']:>8}")
    oos = rows.get("out_of_scope")
    if oos:
        print(f"out_of_scope F1 {oos['f1-score']:.3f} (precision {oos['precision']:.2f}, recall {oos['recall']:.2f})")
    top = confusions(errors)[:TOP_CONFUSIONS]
    if top:
        print(
            "top confusions (true -> predicted: count): "
            + "; ".join(f"{true} -> {predicted}: {count}" for (true, predicted), count in top)
        )
    print_entities(folder)
    met = []
    for target in TARGETS.get(name, ()):
        value, source = measured(target.label, report, rows)
        ok = value >= target.floor
        met.append(ok)
        print(f"target {target.label} >= {target.floor:.2f}: {value:.3f} ({source}) {'MET' if ok else 'NOT MET'}")
    return met


def main(arguments: list[str]) -> int:
    """Summarise every NAME=FOLDER given; exit 2 on a malformed argument or a missing report."""
    met: list[bool] = []
    for argument in arguments:
        name, separator, folder = argument.partition("=")
        if not separator or not (Path(folder) / "intent_report.json").exists():
            print(f"expected NAME=FOLDER holding a `rasa test nlu` report, got {argument!r}", file=sys.stderr)
            return 2
        met += summarise(name, Path(folder))
    if met:
        print(f"\ntargets met: {sum(met)} of {len(met)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
