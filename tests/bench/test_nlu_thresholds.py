"""bench.nlu_thresholds: replaying FallbackClassifier's rule on a ranking (no rasa import needed)."""

from __future__ import annotations

from bench.nlu_thresholds import Outcome, Parsed, replay

PARSED = [
    Parsed("track_order", (("track_order", 0.9), ("inform", 0.05))),
    Parsed("out_of_scope", (("track_order", 0.35), ("out_of_scope", 0.3))),
    Parsed("report_damaged", (("report_damaged", 0.5), ("report_wrong_item", 0.45))),
]


def test_no_threshold_takes_every_top_intent() -> None:
    assert replay(PARSED, 0.0, 0.0) == Outcome(correct=2, fallback=0, wrong=1)


def test_a_low_top_confidence_falls_back() -> None:
    assert replay(PARSED, 0.4, 0.0) == Outcome(correct=2, fallback=1, wrong=0)


def test_two_close_intents_fall_back_even_above_the_threshold() -> None:
    outcome = replay(PARSED, 0.4, 0.1)
    assert outcome == Outcome(correct=1, fallback=2, wrong=0)
    assert outcome.net == 1
