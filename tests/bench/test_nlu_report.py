"""bench.nlu_report: the figures and target verdicts read from a `rasa test nlu` folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.nlu_report import confusions, main, measured


def _row(precision: float, recall: float, f1: float, support: int) -> dict:
    return {"precision": precision, "recall": recall, "f1-score": f1, "support": support}


REPORT = {
    "accuracy": 0.9,
    "macro avg": _row(0.9, 0.9, 0.9, 20),
    "weighted avg": _row(0.9, 0.9, 0.9, 20),
    "out_of_scope": _row(0.8, 0.9, 0.847, 10),
    "report_damaged": _row(1.0, 0.9, 0.947, 5),
    "report_wrong_item": _row(0.8, 1.0, 0.889, 5),
}
ERRORS = [
    {"text": "a", "intent": "out_of_scope", "intent_prediction": {"name": "track_order", "confidence": 0.5}},
    {"text": "b", "intent": "out_of_scope", "intent_prediction": {"name": "track_order", "confidence": 0.6}},
    {"text": "c", "intent": "report_damaged", "intent_prediction": {"name": "nlu_fallback", "confidence": 0.4}},
]


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "intent_report.json").write_text(json.dumps(REPORT))
    (tmp_path / "intent_errors.json").write_text(json.dumps(ERRORS))
    return tmp_path


def test_confusions_are_counted_per_pair_most_frequent_first() -> None:
    assert confusions(ERRORS) == [
        (("out_of_scope", "track_order"), 2),
        (("report_damaged", "nlu_fallback"), 1),
    ]


def test_report_target_is_judged_on_the_weakest_report_intent() -> None:
    rows = {name: row for name, row in REPORT.items() if name.startswith(("report_", "out_"))}
    assert measured("each report_* F1", REPORT, rows) == (0.889, "weakest report_wrong_item")
    assert measured("out_of_scope F1", REPORT, rows) == (0.847, "out_of_scope")
    assert measured("intent accuracy", REPORT, rows) == (0.9, "all")


def test_the_printed_verdicts_follow_each_sets_targets(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = _folder(tmp_path)
    assert main([f"holdout={folder}", f"shopper_dev={folder}"]) == 0
    out = capsys.readouterr().out
    assert "target intent accuracy >= 0.95: 0.900 (all) NOT MET" in out
    assert "target each report_* F1 >= 0.90: 0.889 (weakest report_wrong_item) NOT MET" in out
    assert "target intent accuracy >= 0.90: 0.900 (all) MET" in out
    assert "target out_of_scope F1 >= 0.85: 0.847 (out_of_scope) NOT MET" in out
    assert "out_of_scope -> track_order: 2" in out
    assert "targets met: 1 of 4" in out


def test_a_folder_without_a_report_is_refused(tmp_path: Path) -> None:
    assert main([f"holdout={tmp_path}"]) == 2
    assert main([str(_folder(tmp_path))]) == 2


def test_entity_f1_is_shown_per_extractor(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = _folder(tmp_path)
    (folder / "RegexEntityExtractor_report.json").write_text(
        json.dumps(
            {
                "order_id": _row(1.0, 1.0, 1.0, 12),
                "product": _row(0.0, 0.0, 0.0, 0),
                "macro avg": _row(1.0, 1.0, 1.0, 12),
            }
        )
    )
    main([f"holdout={folder}"])
    assert "RegexEntityExtractor entity F1: order_id 1.00\n" in capsys.readouterr().out
