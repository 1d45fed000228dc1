"""The Rasa server's process: ``rasa run`` whose log holds nothing a shopper wrote.

bot/stack.py starts it in the engine's Python (3.10, rasa 3.6) as ``python -m bot.rasa_server
run …``; it needs nothing but the standard library and Rasa, and imports nothing else of ours.

At its default level Rasa writes shopper text into its log in a few places, all of them for
messages it could not handle: the "/intent{…}" reader warns with the whole message when it
cannot read it (a structlog warning, and a Python warning through ``raise_warning``), the
REST channel logs the text of a turn that failed or timed out, and an event it cannot read
back is logged whole. The gateway lets only button payloads the bot offered reach Rasa, but
the log must not depend on that: these loggers are quieted here, once, before Rasa starts,
and Python warnings go through logging, where the ones Rasa raises about messages
(``UserWarning``) are dropped. Rasa's own start-up and model lines stay.
"""

from __future__ import annotations

import logging
import sys

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


def main() -> None:
    quiet_shopper_text()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
