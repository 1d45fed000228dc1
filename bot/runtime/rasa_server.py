"""The Rasa server's process: ``rasa run`` whose log holds nothing a shopper wrote.

bot/runtime/stack.py starts it in the engine's Python (3.10, rasa 3.6) as ``python -m bot.runtime.rasa_server
run …``; it needs nothing but the standard library and Rasa, and imports nothing else of ours.

At its default level Rasa writes shopper text into its log in a few places, all of them for
messages it could not handle: the "/intent{…}" reader warns with the whole message when it
cannot read it (a structlog warning, and a Python warning through ``raise_warning``), the
REST channel logs the text of a turn that failed or timed out, and an event it cannot read
back is logged whole. The gateway lets only button payloads the bot offered reach Rasa, but
the log must not depend on that: these loggers are quieted here, once, before Rasa starts,
and Python warnings go through logging, where the ones Rasa raises about messages
(``UserWarning``) are dropped. Rasa's own start-up and model lines stay.

Two costs of Rasa 3.6 are also taken off the one core its event loop runs on (see
``tune_engine``): understanding a message no longer blocks every other conversation, and the
action server's answers are checked against a schema that is prepared once.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

#: Rasa loggers whose records at these levels and below carry what a shopper wrote.
QUIETED = {
    # "message.parsing.failed" with the user_text (WARNING).
    "rasa.shared.core.training_data.story_reader.yaml_story_reader": logging.ERROR,
    # "rest.message.received.failure" / ".timeout" with the text (ERROR); the gateway logs the failure.
    "rasa.core.channels.rest": logging.CRITICAL,
    # "event.deserialization.failed" with the event, a user message's text included (WARNING).
    "rasa.shared.core.events": logging.ERROR,
}


class NoMessageWarnings(logging.Filter):
    """Drops the Python warnings Rasa raises while it handles messages (``raise_warning`` makes
    ``UserWarning``s that quote the message or its entities); library deprecations stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "UserWarning: " not in record.getMessage()


def quiet_shopper_text() -> None:
    for name, level in QUIETED.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").addFilter(NoMessageWarnings())


#: Where messages are understood. One thread: parses stay one at a time, as on the event loop
#: (the sentence encoder's C engine is not documented as safe to call from two threads), but the
#: loop goes on with other conversations' tracker reads and writes, action calls and policies
#: meanwhile. The encoder releases the GIL, so on 2 cores the two really overlap.
NLU_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")


def _finish_without_awaiting(coroutine: Any) -> Any:
    """The result of a coroutine that never waits for anything, run in the calling thread."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    coroutine.close()
    raise RuntimeError("the message parser waited for I/O, which it cannot do off the event loop")


def parse_messages_off_the_event_loop() -> None:
    """Rasa 3.6 runs the NLU graph (tokenizer, sentence encoder, classifier) synchronously on its
    event loop, so while one message is encoded (about 13 ms of C) no other conversation moves.
    ``parse_message`` is an ``async def`` that waits for nothing when the NLU runs in-process,
    so here the whole of it, unchanged, runs in ``NLU_THREAD``; an NLU server over HTTP
    (``http_interpreter``) stays on the loop, where it awaits."""
    from rasa.core.processor import MessageProcessor

    parse_on_loop = MessageProcessor.parse_message
    if getattr(parse_on_loop, "off_the_event_loop", False):
        return

    async def parse_message(self: Any, message: Any, tracker: Any = None, only_output_properties: bool = True) -> Any:
        if self.http_interpreter:
            return await parse_on_loop(self, message, tracker, only_output_properties)
        return await asyncio.get_running_loop().run_in_executor(
            NLU_THREAD,
            lambda: _finish_without_awaiting(parse_on_loop(self, message, tracker, only_output_properties)),
        )

    parse_message.off_the_event_loop = True  # type: ignore[attr-defined]
    parse_message.__doc__ = parse_on_loop.__doc__
    MessageProcessor.parse_message = parse_message  # type: ignore[method-assign]


def check_action_responses_with_a_prepared_schema() -> None:
    """Rasa checks every action-server answer with ``jsonschema.validate(result, spec)``, which
    first re-checks the spec itself against the JSON Schema meta-schema: 1.5 of its 2 ms, several
    times per turn. The spec is Rasa's own constant, so it is checked once here and the same
    validator is reused; answers are checked exactly as before and fail with Rasa's message."""
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    validate_on_each_call = RemoteAction._validate_action_result
    if getattr(validate_on_each_call, "prepared_schema", False):
        return
    spec = RemoteAction.action_response_format_spec()
    schema_class = validator_for(spec)
    schema_class.check_schema(spec)
    validator = schema_class(spec)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        # The answer is invalid: Rasa's own method raises the error with Rasa's explanation.
        return validate_on_each_call(self, result)

    _validate_action_result.prepared_schema = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def tune_engine() -> None:
    parse_messages_off_the_event_loop()
    check_action_responses_with_a_prepared_schema()


def main() -> None:
    quiet_shopper_text()
    tune_engine()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
