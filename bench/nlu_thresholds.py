"""Sweep the FallbackClassifier's two thresholds on evaluation sets, without retraining.

Runs in the engine's environment (it imports rasa): `.venv-rasa/bin/python -m bench.nlu_thresholds
--model models/assistant.tar.gz tests/nlu_holdout.yml ../shared/eval/shopper_dev.yml`.

Why: `rasa test nlu` reports a message that fell back as `nlu_fallback` and drops the classifier's
own ranking, so it cannot say what another threshold would do. Here each message is parsed once,
the fallback is undone, and every (threshold, ambiguity_threshold) pair is replayed on the ranking.
A fallback costs the shopper one "could you rephrase?", a confident wrong intent sends them down the
wrong path, so the suggested pair maximises correct answers minus confident wrong ones.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass

THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
AMBIGUITY_THRESHOLDS = (0.0, 0.05, 0.1, 0.15, 0.2)


@dataclass(frozen=True)
class Parsed:
    """One message: its true intent and the classifier's ranking as (intent, confidence) pairs."""

    intent: str
    ranking: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Outcome:
    """What one threshold pair does to a set: counts of right, fallen back and confidently wrong."""

    correct: int
    fallback: int
    wrong: int

    @property
    def net(self) -> int:
        return self.correct - self.wrong


def replay(parsed: list[Parsed], threshold: float, ambiguity: float) -> Outcome:
    """Apply FallbackClassifier's rule (top below threshold, or top two closer than ambiguity)."""
    correct = fallback = wrong = 0
    for message in parsed:
        top_name, top = message.ranking[0]
        second = message.ranking[1][1] if len(message.ranking) > 1 else 0.0
        if top < threshold or top - second < ambiguity:
            fallback += 1
        elif top_name == message.intent:
            correct += 1
        else:
            wrong += 1
    return Outcome(correct, fallback, wrong)


async def parse_all(model: str, paths: list[str]) -> dict[str, list[Parsed]]:
    """Parse every example of every set once, with the fallback undone."""
    import logging

    from rasa.core.agent import Agent
    from rasa.nlu.classifiers.fallback_classifier import undo_fallback_prediction
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.utils.log_utils import configure_structlog

    # One debug line per parsed message otherwise: the grid is the output.
    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)
    agent = Agent.load(model)
    sets: dict[str, list[Parsed]] = {}
    for path in paths:
        examples = load_data(path).intent_examples
        print(f"==> parsing {len(examples)} messages of {path}", flush=True)
        parsed = []
        for example in examples:
            result = await agent.parse_message(example.get("text"))
            if result["intent"]["name"] == "nlu_fallback":
                result = undo_fallback_prediction(result)
            ranking = tuple(
                (row["name"], row["confidence"]) for row in result["intent_ranking"] if row["name"] != "nlu_fallback"
            )
            parsed.append(Parsed(example.get("intent"), ranking))
        sets[path] = parsed
    return sets


def report(name: str, parsed: list[Parsed]) -> None:
    """Print the grid for one set and the pair with the best correct-minus-wrong."""
    print(f"\n=== {name}: {len(parsed)} messages; cells are accuracy / fallback share / wrong share")
    print("threshold " + " ".join(f"{'amb ' + str(a):>18}" for a in AMBIGUITY_THRESHOLDS))
    best: tuple[int, float, float] | None = None
    for threshold in THRESHOLDS:
        cells = []
        for ambiguity in AMBIGUITY_THRESHOLDS:
            outcome = replay(parsed, threshold, ambiguity)
            n = len(parsed)
            cells.append(f"{outcome.correct / n:.3f}/{outcome.fallback / n:.2f}/{outcome.wrong / n:.2f}")
            if best is None or outcome.net > best[0]:
                best = (outcome.net, threshold, ambiguity)
        print(f"{threshold:>9.2f} " + " ".join(f"{cell:>18}" for cell in cells))
    if best:
        outcome = replay(parsed, best[1], best[2])
        print(
            f"best correct-minus-wrong: threshold {best[1]:.2f}, ambiguity_threshold {best[2]:.2f}"
            f" (accuracy {outcome.correct / len(parsed):.3f}, fallback {outcome.fallback},"
            f" wrong {outcome.wrong})"
        )


def main() -> int:
    """Parse the sets with the model and print one grid per set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/assistant.tar.gz")
    parser.add_argument("sets", nargs="+", help="NLU files in Rasa's YAML format")
    arguments = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sets = asyncio.run(parse_all(arguments.model, arguments.sets))
    for name, parsed in sets.items():
        report(name, parsed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
