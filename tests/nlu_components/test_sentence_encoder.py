"""The sentence encoder inside the engine: pinned weights, bounded input, and what it buys.

These run in the engine's own Python (the application never imports rasa), through
``engine_python``.
"""

from __future__ import annotations

import json

import pytest

from tests.engine import engine_python

pytestmark = pytest.mark.engine


def test_the_pinned_weights_load_and_give_unit_length_sentence_vectors() -> None:
    result = engine_python(
        "from nlu_components.sentence_encoder import load_checked_encoder\n"
        "import json, numpy\n"
        "vectors = load_checked_encoder().query(['where is my order?', '我的订单在哪里？'])\n"
        "print(json.dumps({'shape': list(vectors.shape), 'norms': [float(n) for n in numpy.linalg.norm(vectors, axis=1)],"
        " 'similarity': float(vectors[0] @ vectors[1])}))"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["shape"] == [2, 384]
    assert all(abs(norm - 1.0) < 1e-3 for norm in found["norms"])
    # The same question in two languages lands close: what lets untrained languages work.
    assert found["similarity"] > 0.8


def test_weights_that_are_not_the_pinned_ones_stop_the_component() -> None:
    result = engine_python(
        "from nlu_components.sentence_encoder import load_checked_encoder, EncoderWeightsMismatch\n"
        "try:\n"
        "    load_checked_encoder(expected_sha256='0' * 64)\n"
        "except EncoderWeightsMismatch as error:\n"
        "    print('refused:', error)\n"
        "else:\n"
        "    print('loaded')\n"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "refused:" in result.stdout and "expected 0000" in result.stdout


def test_a_pasted_essay_is_encoded_from_its_start_only() -> None:
    result = engine_python(
        "from rasa.shared.nlu.training_data.message import Message\n"
        "from nlu_components.sentence_encoder import _text_of, MAX_ENCODED_CHARS\n"
        "text = _text_of(Message(data={'text': 'where is my order ' + 'x' * 500_000}))\n"
        "print(len(text), MAX_ENCODED_CHARS, text.startswith('where is my order'))\n"
        "print(_text_of(Message(data={'text': '   '})))"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    first, second = result.stdout.strip().splitlines()[-2:]
    length, limit, starts = first.split()
    assert int(length) == int(limit) and starts == "True"
    assert second == "None"
