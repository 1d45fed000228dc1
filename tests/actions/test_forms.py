"""What every form shares (actions/forms.py): choices at the second unusable answer in a
row, the question asked again with a bridge after another request, and the two actions
of the generated rules. Driven with trackers built from dicts: the counting on the review
form (whose rating check needs no database), the rest on today's forms and on a form added
later that only the domain names (no test-only Action class: the action server would serve it)."""

from __future__ import annotations

from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import forms
from actions.reviews import ValidateReviewForm
from bot.chat import replies
from bot.core.config import PROJECT_ROOT

DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
#: A form added later, as the domain would list it.
LATER_FORM_DOMAIN: dict[str, Any] = {"forms": {"colour_form": {"required_slots": ["colour", "size"]}}, "slots": {}}


def tracker(
    *,
    text: str = "",
    candidates: dict[str, Any] | None = None,
    slots: dict[str, Any] | None = None,
    active: str | None = "review_form",
    turn: list[dict[str, Any]] | None = None,
) -> Tracker:
    candidates = candidates or {}
    return Tracker.from_dict(
        {
            "sender_id": "shopper",
            "slots": {
                "requested_slot": "review_rating",
                "review_order_number": "FZ-20412",
                "review_rating": None,
                forms.UNUSABLE_ANSWERS: None,
                **(slots or {}),
                **candidates,
            },
            "latest_message": {"text": text, "intent": {"name": "inform"}, "entities": []},
            "events": [
                {"event": "active_loop", "name": "review_form"},
                {"event": "user", "text": text, "parse_data": {"intent": {"name": "inform"}}},
                *(turn or []),
                *({"event": "slot", "name": k, "value": v} for k, v in candidates.items()),
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active} if active else {},
            "latest_action_name": "action_listen",
        }
    )


async def validate(t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The review form's validation: a real form, whose rating check needs no database."""
    dispatcher = CollectingDispatcher()
    events = await ValidateReviewForm().get_validation_events(dispatcher, t, DOMAIN)
    return events, dispatcher.messages


async def test_the_first_unusable_answer_says_why() -> None:
    events, messages = await validate(tracker(text="great", candidates={"review_rating": "great"}))
    assert [m["text"] for m in messages] == [replies.REVIEW_RATING_INVALID]
    assert SlotSet("review_rating", None) in events and SlotSet(forms.UNUSABLE_ANSWERS, 1.0) in events


async def test_the_second_in_a_row_offers_choices_instead() -> None:
    second = tracker(text="lovely", candidates={"review_rating": "lovely"}, slots={forms.UNUSABLE_ANSWERS: 1.0})
    events, messages = await validate(second)
    [choices] = messages
    assert choices["text"] == replies.FORM_CHOICES
    assert [(b["title"], b["payload"]) for b in choices["buttons"]] == [
        ("Try again", "/affirm"),
        ("Talk to a person", "/request_human"),
        ("Something else", "/stop"),
    ]
    assert SlotSet(forms.UNUSABLE_ANSWERS, 2.0) in events


async def test_a_usable_answer_ends_the_run() -> None:
    events, messages = await validate(
        tracker(text="5", candidates={"review_rating": "5"}, slots={forms.UNUSABLE_ANSWERS: 2.0})
    )
    assert messages == []
    assert SlotSet("review_rating", "5") in events and SlotSet(forms.UNUSABLE_ANSWERS, None) in events


async def test_a_message_that_answers_nothing_sets_nothing_so_the_form_rejects_it() -> None:
    events, messages = await validate(tracker(text="how do I install it?", slots={forms.UNUSABLE_ANSWERS: 1.0}))
    assert (events, messages) == ([], [])


async def test_a_form_starting_forgets_the_count_of_the_form_left_before() -> None:
    t = start_tracker([], {forms.UNUSABLE_ANSWERS: 2.0}, {}, "review_form")
    events, _ = await validate(t)
    assert events == [SlotSet(forms.UNUSABLE_ANSWERS, None)]


def ask(t: Tracker, events: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """What ``forms.ask`` says; the events it returns must be ``events`` (none by default)."""
    dispatcher = CollectingDispatcher()
    assert forms.ask(dispatcher, t, "order_number", replies.ASK_ORDER_NUMBER) == (events or [])
    return dispatcher.messages


def test_the_question_is_asked_in_full_at_first() -> None:
    first = tracker(turn=[{"event": "action", "name": "colour_form"}], active="colour_form")
    assert [m["text"] for m in ask(first)] == [replies.ASK_ORDER_NUMBER]


def test_after_another_request_the_question_comes_back_with_a_bridge() -> None:
    turn = [
        {"event": "action", "name": "utter_bot_challenge"},
        {"event": "bot", "text": "I'm a bot"},
        {"event": "action", "name": "order_status_form"},
    ]
    assert [m["text"] for m in ask(tracker(turn=turn, active="order_status_form"))] == [
        "Back to your order: what's the order number?"
    ]
    # A form added later without words of its own still gets a bridge.
    assert [m["text"] for m in ask(tracker(turn=turn, active="colour_form"))] == [
        "Back to where we were: what's the order number?"
    ]


def test_a_form_that_replaced_another_starts_without_a_bridge() -> None:
    turn = [
        {"event": "action", "name": "action_deactivate_loop"},
        {"event": "active_loop", "name": None},
        {"event": "active_loop", "name": "colour_form"},
        {"event": "action", "name": "colour_form"},
    ]
    assert [m["text"] for m in ask(tracker(turn=turn, active="colour_form"))] == [replies.ASK_ORDER_NUMBER]


def test_try_again_asks_in_full() -> None:
    turn = [{"event": "action", "name": forms.CONTINUE_ACTION}, {"event": "action", "name": "colour_form"}]
    assert [m["text"] for m in ask(tracker(turn=turn, active="colour_form"))] == [replies.ASK_ORDER_NUMBER]


def test_the_choices_stand_in_for_the_question() -> None:
    turn = [{"event": "action", "name": "colour_form"}, {"event": "slot", "name": forms.UNUSABLE_ANSWERS, "value": 2.0}]
    assert ask(tracker(turn=turn, active="colour_form")) == []
    # The turn after, the question is asked again (here after "how do I install it?"), and
    # the run of unusable answers is over: another request came in between.
    later = [{"event": "action", "name": "action_send_installation_guide"}, {"event": "action", "name": "colour_form"}]
    reset = [SlotSet(forms.UNUSABLE_ANSWERS, None)]
    assert len(ask(tracker(turn=later, active="colour_form", slots={forms.UNUSABLE_ANSWERS: 2.0}), reset)) == 1


def test_another_request_in_between_ends_the_run_of_unusable_answers() -> None:
    # "great" was unusable (count 1); then "are you a bot?" was answered and the question comes
    # back: the count is forgotten, so the next unusable answer says why instead of offering choices.
    turn = [
        {"event": "action", "name": "utter_bot_challenge"},
        {"event": "bot", "text": "I'm a bot"},
        {"event": "action", "name": "review_form"},
    ]
    back = tracker(turn=turn, active="review_form", slots={forms.UNUSABLE_ANSWERS: 1.0})
    assert [m["text"] for m in ask(back, [SlotSet(forms.UNUSABLE_ANSWERS, None)])] == [
        "Back to your review: what's the order number?"
    ]
    # Without a count there is nothing to forget: no event.
    assert len(ask(tracker(turn=turn, active="review_form"))) == 1
    # Asked in full (no other request in between), the count stands.
    first = tracker(turn=[{"event": "action", "name": "review_form"}], slots={forms.UNUSABLE_ANSWERS: 1.0})
    assert [m["text"] for m in ask(first)] == [replies.ASK_ORDER_NUMBER]


async def test_continue_resets_the_count_and_says_nothing() -> None:
    dispatcher = CollectingDispatcher()
    events = await forms.ActionContinueForm().run(dispatcher, tracker(slots={forms.UNUSABLE_ANSWERS: 2.0}), DOMAIN)
    assert (events, dispatcher.messages) == ([SlotSet(forms.UNUSABLE_ANSWERS, None)], [])


def start_tracker(turn: list[dict[str, Any]], slots: dict[str, Any], candidates: dict[str, Any], form: str) -> Tracker:
    """The tracker Rasa gives the validation as ``form`` starts: this turn's events, the marker, the candidates."""
    # Rasa marks the form active before its first validation.
    t = tracker(
        active=form,
        slots={**slots, "requested_slot": None},
        turn=[
            *turn,
            {"event": "active_loop", "name": form},
            {"event": "slot", "name": "requested_slot", "value": None},
            {"event": "action", "name": form},
        ],
        candidates=candidates,
    )
    t.events.insert(0, {"event": "active_loop", "name": None})
    t.events.pop(1)  # no earlier review_form in these conversations
    return t


def test_answers_left_from_an_earlier_time_are_forgotten_when_the_form_starts_again() -> None:
    # The lookup had the number, then "never mind"; now "where is my order?" again.
    t = start_tracker([], {"order_number": "FZ-20931"}, {"order_number": "FZ-20931"}, "order_status_form")
    assert forms.left_over_answers(t, "order_status_form", DOMAIN) == ["order_number"]
    forms._drop_candidates(t, ["order_number"])
    assert t.slots_to_validate() == {} and t.get_slot("order_number") is None


def test_what_this_message_gave_is_kept() -> None:
    given = [{"event": "slot", "name": "order_number", "value": "FZ-20931"}]
    t = start_tracker(given, {"order_number": "FZ-20931"}, {"order_number": "FZ-20931"}, "order_status_form")
    assert forms.left_over_answers(t, "order_status_form", DOMAIN) == []


def test_a_switch_carries_what_both_forms_ask_for_and_nothing_else() -> None:
    switch = [
        {"event": "active_loop", "name": "order_status_form"},
        {"event": "action", "name": "action_deactivate_loop"},
        {"event": "active_loop", "name": None},
    ]
    t = start_tracker(switch, {"order_number": "FZ-20931"}, {"order_number": "FZ-20931"}, "problem_report_form")
    assert forms.left_over_answers(t, "problem_report_form", DOMAIN) == []
    # From the review to the lookup: the review asked for no order number.
    switch[0] = {"event": "active_loop", "name": "review_form"}
    t = start_tracker(switch, {"order_number": "FZ-20931"}, {"order_number": "FZ-20931"}, "order_status_form")
    assert forms.left_over_answers(t, "order_status_form", DOMAIN) == ["order_number"]


async def test_the_review_starts_afresh_without_checking_an_old_rating() -> None:
    old_rating = {"review_rating": "lovely"}
    t = start_tracker([], {**old_rating, forms.UNUSABLE_ANSWERS: 1.0}, old_rating, "review_form")
    events, messages = await validate(t)
    # The old rating is not validated ("please pick a rating") but forgotten, and so is the count.
    assert messages == []
    assert SlotSet("review_rating", None) in events and SlotSet(forms.UNUSABLE_ANSWERS, None) in events
