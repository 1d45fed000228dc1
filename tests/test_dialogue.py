"""Rasa's own checks of the training data and the dialogue, run with the engine's CLI."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from bot.core.config import PROJECT_ROOT
from bot.runtime.stack import DEFAULT_MODEL, ENGINE_ENV, RASA_BIN

pytestmark = pytest.mark.engine


def rasa(*args: str, cwd=PROJECT_ROOT) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [str(RASA_BIN), *args],
        cwd=cwd,
        env={**os.environ, **ENGINE_ENV},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_training_data_is_valid_without_warnings() -> None:
    result = rasa("data", "validate")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    warnings = re.findall(r"UserWarning: (.*)", output)
    # External intents come from the store's processes, and share_photos from the gateway (a message
    # of photos alone), never from text, so they have no NLU examples on purpose; any other warning fails.
    unexpected = [
        w
        for w in warnings
        if not re.fullmatch(
            r"The intent '(EXTERNAL_\w+|share_photos)' is listed in the domain file, but is not found in the NLU training data\.",
            w.strip(),
        )
    ]
    assert unexpected == [], unexpected


def test_test_stories_predict_without_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _assert_stories_predict(PROJECT_ROOT / "tests" / "test_stories.yml", tmp_path)


def test_every_form_interruption_story_predicts_without_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Every form x every requested slot x every other intent (bot/chat/form_interruptions.py).
    _assert_stories_predict(PROJECT_ROOT / "tests" / "form_interruption_stories.yml", tmp_path)


def _assert_stories_predict(stories, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = rasa(
        "test",
        "core",
        "--model",
        str(DEFAULT_MODEL),
        "--stories",
        str(stories),
        "--out",
        str(tmp_path / "results"),
        "--fail-on-prediction-errors",
    )
    output = result.stdout[-6000:] + result.stderr[-6000:]
    assert result.returncode == 0, output
    failed = tmp_path / "results" / "failed_test_stories.yml"
    assert not failed.exists() or "None of the test stories failed" in failed.read_text(), failed.read_text()
