"""Summarise a `rasa test nlu` output folder: intent accuracy and entity F1."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(folder: str) -> int:
    out = Path(folder)
    intents = json.loads((out / "intent_report.json").read_text())
    print(f"intent accuracy {intents['accuracy']:.3f}, macro F1 {intents['macro avg']['f1-score']:.3f}")
    weak = sorted(
        (name, row["f1-score"]) for name, row in intents.items()
        if isinstance(row, dict) and "support" in row and name not in ("macro avg", "weighted avg", "micro avg")
    )
    print("per intent F1: " + ", ".join(f"{name} {f1:.2f}" for name, f1 in weak))
    for report in sorted(out.glob("*Extractor_report.json")) + sorted(out.glob("DIETClassifier_report.json")):
        rows = json.loads(report.read_text())
        cells = ", ".join(
            f"{name} {row['f1-score']:.2f}" for name, row in rows.items()
            if isinstance(row, dict) and name not in ("macro avg", "weighted avg") and row.get("support")
        )
        print(f"{report.stem.replace('_report', '')} entity F1: {cells}")
    errors = json.loads((out / "intent_errors.json").read_text()) if (out / "intent_errors.json").exists() else []
    print(f"{len(errors)} misclassified; see {out / 'intent_errors.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
