"""The two NLU pipelines: config.yml (the sentence encoder) and config-sparse.yml (the documented
alternative without it). Both are trained from data/ and must understand shoppers they never saw.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from bot.core.config import PROJECT_ROOT
from bot.runtime.stack import DEFAULT_MODEL, ENGINE_ENV, RASA_BIN
from tests.engine import engine_python

pytestmark = pytest.mark.engine

#: Written for this test, in languages of which the training data holds no example (Italian,
#: Portuguese, Dutch, Polish, Japanese): the encoder was pretrained on them, the classifier never saw them.
OTHER_LANGUAGES = [
    ("Dov'è il mio ordine? Non è ancora arrivato", "track_order"),
    ("Vorrei parlare con un operatore, per favore", "request_human"),
    ("Onde está a minha encomenda? Já passou uma semana", "track_order"),
    ("O produto chegou partido, a tampa está rachada", "report_damaged"),
    ("Waar blijft mijn bestelling? Ik wacht al tien dagen", "track_order"),
    ("Kan ik met een medewerker praten?", "request_human"),
    ("Gdzie jest moja paczka? Nadal jej nie dostałem", "track_order"),
    ("注文した商品はいつ届きますか", "track_order"),
    ("担当者と話したいです", "request_human"),
    ("Dziękuję bardzo za pomoc", "thank"),
]


def parse(model: str, texts: list[str]) -> list[dict]:
    result = engine_python(
        "import asyncio, json, sys\n"
        "from rasa.core.agent import Agent\n"
        f"agent = Agent.load({model!r})\n"
        f"texts = json.loads({json.dumps(texts)!r})\n"
        "async def main():\n"
        "    return [await agent.parse_message(text) for text in texts]\n"
        "print('PARSED ' + json.dumps(asyncio.run(main())))\n"
    )
    assert result.returncode == 0, result.stderr[-4000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("PARSED "))
    return json.loads(line.removeprefix("PARSED "))


def test_the_encoder_pipeline_understands_languages_it_was_never_trained_on() -> None:
    parsed = parse(str(DEFAULT_MODEL), [text for text, _ in OTHER_LANGUAGES])
    found = [
        (text, expected, result["intent"]["name"]) for (text, expected), result in zip(OTHER_LANGUAGES, parsed, strict=True)
    ]
    wrong = [row for row in found if row[1] != row[2]]
    # One miss in ten is allowed: these languages are a bonus of the encoder, not trained for.
    assert len(wrong) <= 1, wrong


def test_entities_with_shapes_come_from_the_regexes_without_a_learned_extractor() -> None:
    (parsed,) = parse(str(DEFAULT_MODEL), ["my order is FZ-20931 and my email is alex@example.com"])
    entities = {entity["entity"]: entity["value"] for entity in parsed["entities"]}
    assert entities.get("email") == "alex@example.com"
    assert "FZ-20931" in entities.get("order_id", ""), entities


#: DIET's epochs for the check below. The documented config trains 100 (over 10 minutes on 2 cores
#: with today's data); DIET reaches full training accuracy within about 15, and the check is that the
#: pipeline still trains and understands, not its last percent.
SPARSE_CHECK_EPOCHS = 30


@pytest.mark.timeout(1200)
def test_the_sparse_alternative_still_trains_and_understands(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = (PROJECT_ROOT / "config-sparse.yml").read_text()
    assert "    epochs: 100\n" in config
    (tmp_path / "config-sparse.yml").write_text(config.replace("    epochs: 100\n", f"    epochs: {SPARSE_CHECK_EPOCHS}\n"))
    trained = subprocess.run(
        [
            str(RASA_BIN),
            "train",
            "nlu",
            "--config",
            str(tmp_path / "config-sparse.yml"),
            "--nlu",
            "data",
            "--out",
            str(tmp_path),
            "--fixed-model-name",
            "sparse",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, **ENGINE_ENV, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert trained.returncode == 0, trained.stdout[-3000:] + trained.stderr[-3000:]
    checks = [
        ("where is my parcel right now? can you track it", "track_order"),
        ("the box arrived crushed and the part inside is cracked", "report_damaged"),
        ("can i talk to a real person please", "request_human"),
        ("how do I fit this thing, any manual?", "request_installation_guide"),
    ]
    parsed = parse(str(tmp_path / "sparse.tar.gz"), [text for text, _ in checks])
    assert [result["intent"]["name"] for result in parsed] == [intent for _, intent in checks]
