"""Reading a job's earlier answer back from Rasa's tracker (bot/chat/rasa_client.py), so that a retry
never asks Rasa to send it twice. The end-to-end check against the real tracker is in
tests/security/test_no_lost_replies.py."""

from __future__ import annotations

from typing import Any

from bot.chat.rasa_client import JOB_ENTITY, RETRY_METADATA, replies_after, sent_again_by, triggered_by

PDF = {"attachment": {"type": "pdf", "url": "https://shop.example/manual.pdf", "title": "Manual"}}


def trigger(key: str) -> dict[str, Any]:
    return {
        "event": "user",
        "text": "EXTERNAL: EXTERNAL_package_delivered",
        "parse_data": {
            "intent": {"name": "EXTERNAL_package_delivered"},
            "entities": [{"entity": "order_id", "value": "FZ-1"}, {"entity": JOB_ENTITY, "value": key}],
        },
    }


def bot(text: str | None, **data: Any) -> dict[str, Any]:
    return {
        "event": "bot",
        "text": text,
        "data": {"buttons": None, "custom": None, "image": None, "attachment": None, **data},
    }


def test_the_bot_events_after_the_jobs_trigger_come_back_as_the_rest_channel_gave_them() -> None:
    events = [
        trigger("delivery_confirmation:1"),
        bot("an older one"),
        {"event": "action", "name": "action_listen"},
        trigger("delivery_confirmation:2"),
        {"event": "action", "name": "action_send_delivery_confirmation"},
        bot("Delivered!\n\nEnjoy."),  # Rasa's collector splits paragraphs
        bot("Here is the manual.", custom=PDF),  # and sends the custom JSON as a message of its own
        bot("Anything else?", buttons=[{"title": "No", "payload": "/deny"}]),
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "thanks", "metadata": {}},
        bot("You're welcome"),
    ]
    assert replies_after(events, triggered_by("delivery_confirmation:2")) == [
        {"text": "Delivered!"},
        {"text": "Enjoy."},
        {"text": "Here is the manual."},
        {"custom": PDF},
        {"buttons": [{"title": "No", "payload": "/deny"}], "text": "Anything else?"},
    ]
    assert replies_after(events, triggered_by("delivery_confirmation:3")) is None  # never reached Rasa


def test_a_trigger_the_action_failed_on_has_no_answer_to_reuse() -> None:
    events = [
        trigger("k"),
        {"event": "action", "name": "action_send_delivery_confirmation"},
        {"event": "action", "name": "action_listen"},
    ]
    assert replies_after(events, triggered_by("k")) == []


def test_a_shopper_message_sent_again_is_found_by_its_metadata() -> None:
    events = [
        {"event": "user", "text": "hello", "metadata": {"store_id": "s"}},
        bot("first try?"),
        {"event": "user", "text": "hello", "metadata": {"store_id": "s", RETRY_METADATA: "unanswered_turn:c:1"}},
        bot("Hi!"),
    ]
    assert replies_after(events, sent_again_by("unanswered_turn:c:1")) == [{"text": "Hi!"}]
