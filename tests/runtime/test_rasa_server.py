"""bot/runtime/rasa_server.py's engine tunings, in the engine's own Python (rasa 3.6).

Parsing off the event loop and the prepared action-response schema change where and how often
work is done, never what comes out: these tests pin both halves. The end-to-end tests
(test_conversations.py and the others) run every turn through the tuned server.
"""

from __future__ import annotations

import json

import pytest

from tests.engine import engine_python

# Each test starts the engine's Python and imports rasa (seconds).
pytestmark = pytest.mark.slow

PARSE_OFF_THE_LOOP = r"""
import asyncio, json, threading
from bot.runtime.rasa_server import tune_engine
from rasa.core.processor import MessageProcessor

tune_engine()
# A second call must not wrap the wrapper: a parse that hops threads twice would wait inside the
# NLU thread, which fails.
tune_engine()

class Processor(MessageProcessor):
    def __init__(self, http_interpreter=None):
        self.http_interpreter = http_interpreter
        self.seen = []
    def _parse_message_with_graph(self, message, tracker, only_output_properties=True):
        self.seen.append(threading.current_thread().name)
        if message.text == "boom":
            raise ValueError("the graph failed")
        return {"text": message.text, "intent": {"name": "greet", "confidence": 0.9}, "entities": []}
    def _update_full_retrieval_intent(self, parse_data):
        pass
    def _check_for_unseen_features(self, parse_data):
        pass

class HttpInterpreter:
    async def parse(self, message):
        await asyncio.sleep(0)  # a real NLU server is awaited, on the loop
        return {"text": message.text, "intent": {"name": "from_http", "confidence": 1.0}, "entities": []}

class Message:
    def __init__(self, text):
        self.text, self.sender_id = text, "someone"

async def main():
    local = Processor()
    results = await asyncio.gather(*(local.parse_message(Message(f"hello {n}")) for n in range(5)))
    try:
        await local.parse_message(Message("boom"))
        failure = None
    except ValueError as error:
        failure = str(error)
    remote = Processor(HttpInterpreter())
    over_http = await remote.parse_message(Message("hi"))
    print(json.dumps({
        "loop_thread": threading.current_thread().name,
        "threads": local.seen,
        "texts": [r["text"] for r in results],
        "failure": failure,
        "over_http": over_http["intent"]["name"],
    }))

asyncio.run(main())
"""


def test_messages_are_parsed_in_the_nlu_thread_with_the_same_results_and_errors() -> None:
    result = engine_python(PARSE_OFF_THE_LOOP, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["loop_thread"] == "MainThread"
    # Every in-process parse ran in the one NLU thread, none on the event loop's thread.
    assert len(outcome["threads"]) == 6
    assert all(name.startswith("nlu") for name in outcome["threads"]), outcome["threads"]
    assert outcome["texts"] == [f"hello {n}" for n in range(5)]
    assert outcome["failure"] == "the graph failed"
    assert outcome["over_http"] == "from_http"


PREPARED_SCHEMA = r"""
import json
import jsonschema.validators
from jsonschema import ValidationError
from bot.runtime.rasa_server import tune_engine
from rasa.core.actions.action import RemoteAction

tune_engine()
schema_checks = []
for name in ("Draft3Validator", "Draft4Validator", "Draft6Validator", "Draft7Validator"):
    cls = getattr(jsonschema.validators, name, None)
    if cls is not None:
        setattr(cls, "check_schema", classmethod(lambda cls, schema: schema_checks.append(cls.__name__)))

action = RemoteAction("action_report_order_status", None)
valid = {
    "events": [{"event": "slot", "timestamp": None, "name": "order_id", "value": "10231"},
               {"event": "active_loop", "name": None}],
    "responses": [{"text": "Your order is on its way.", "buttons": []}],
}
accepted = [action._validate_action_result(valid) for _ in range(20)]
checks_while_accepting = len(schema_checks)
refused = []
for invalid in ({"events": [{"event": "no_such_event"}], "responses": []},
                {"events": "not a list"},
                {"events": [{"event": "slot"}], "responses": []}):
    try:
        action._validate_action_result(invalid)
        refused.append(None)
    except ValidationError as error:
        refused.append(error.message)
print(json.dumps({"accepted": accepted, "refused": refused, "checks_while_accepting": checks_while_accepting}))
"""


def test_action_responses_are_checked_as_before_without_rechecking_the_schema() -> None:
    result = engine_python(PREPARED_SCHEMA, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["accepted"] == [True] * 20
    # The spec was checked once, when the engine was tuned, not once per answer.
    assert outcome["checks_while_accepting"] == 0
    # Invalid answers still fail, with Rasa's explanation appended as before.
    assert len(outcome["refused"]) == 3
    for message in outcome["refused"]:
        assert message is not None
        assert "Failed to validate Action server response from API" in message
