"""What every form shares when the shopper changes the subject or cannot answer.

The decisions (answer the other request and come back, switch, leave) are a table in
bot/chat/form_interruptions.py, turned into rules; this module holds the actions' side:
the question asked again with a bridge after another request was answered (which also
ends a run of unusable answers), the count of unusable answers that turns into choices at
the second one in a row, a form's answers
left from an earlier time forgotten when it starts again, and the action the generated
rules use to ask again.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from bot.chat import replies
from bot.chat.form_interruptions import CONTINUE_ACTION

UNUSABLE_ANSWERS = "unusable_answers"
#: The answer that turns into choices: the second in a row the form could not use.
CHOICES_AT = 2
#: Actions of a turn that are the form's own business, not the answer to another request.
_FORM_TURN_ACTIONS = {"action_listen", "action_extract_slots", CONTINUE_ACTION}


def _this_turn(tracker: Tracker) -> list[dict[str, Any]]:
    """The events since the shopper's (or the store's) latest message."""
    events = tracker.events
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "user":
            return events[index + 1 :]
    return list(events)


def _back_from_another_request(turn: list[dict[str, Any]], form: str | None) -> bool:
    """Another request was answered in this turn and the form, already running, asks again."""
    started_now = any(e.get("event") == "active_loop" and e.get("name") == form for e in turn)
    answered = any(
        e.get("event") == "action" and e.get("name") not in _FORM_TURN_ACTIONS and e.get("name") != form for e in turn
    )
    return answered and not started_now


def _choices_offered(turn: list[dict[str, Any]]) -> bool:
    return any(
        e.get("event") == "slot" and e.get("name") == UNUSABLE_ANSWERS and (e.get("value") or 0) >= CHOICES_AT for e in turn
    )


def ask(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    slot: str,
    question: str,
    buttons: list[dict[str, Any]] | None = None,
) -> list[EventType]:
    """Ask for ``slot``: in full; after another request was answered, as "Back to your
    order: what's the order number?"; not at all when the choices stand in for it.

    Another request answered in between ends a run of unusable answers: "in a row" means
    in a row, so an unusable answer after it says why again rather than offering choices."""
    turn = _this_turn(tracker)
    if _choices_offered(turn):
        return []
    form = tracker.active_loop_name
    events: list[EventType] = []
    if _back_from_another_request(turn, form):
        bridge = replies.FORM_BRIDGES.get(form or "", replies.FORM_BRIDGE_DEFAULT)
        question = f"{bridge} {replies.SHORT_QUESTIONS.get(slot, question)}"
        events = unusable_count_reset(tracker)
    dispatcher.utter_message(text=question, buttons=buttons or [])
    return events


class FormValidationWithChoices(FormValidationAction):
    """A form's validation that counts the answers it could not use, for every form alike.

    An answer is unusable when the slot the form asked for comes out of validation
    empty (not an order number, not a rating, too short...) and the message gave none of
    the form's other answers either. The first time the validator's own words say why;
    the second in a row they are replaced by choices (try again, a person, something
    else), and ``ask`` then keeps the question back. A usable answer, a message that gave
    another of the form's answers ("sorry, it's H-77002" when asked for the proof: the
    number corrected, the proof asked for next), another request answered in between,
    "try again" and a fresh start of the form end the run.
    """

    @abstractmethod
    def name(self) -> str:
        """Each form's own validation names itself (abstract: the action server serves only those)."""

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if starting(tracker, self.form_name()):
            left_over = left_over_answers(tracker, self.form_name(), domain)
            _drop_candidates(tracker, left_over)
            events = await super().get_validation_events(dispatcher, tracker, domain)
            return events + [SlotSet(slot, None) for slot in left_over] + unusable_count_reset(tracker)
        asked = tracker.get_slot(REQUESTED_SLOT)
        answered = asked is not None and asked in tracker.slots_to_validate()
        said_before = len(dispatcher.messages)
        events = await super().get_validation_events(dispatcher, tracker, domain)
        if not answered or asked is None:
            return events
        if tracker.get_slot(asked) is not None:  # the validated value (the SDK keeps the tracker up to date)
            return events + unusable_count_reset(tracker)  # the run of unusable answers ends
        if _gave_another_answer(events, asked, self.domain_slots(domain)):
            return events + unusable_count_reset(tracker)  # usable, just not for the question asked
        count = int(tracker.get_slot(UNUSABLE_ANSWERS) or 0) + 1
        if count >= CHOICES_AT:
            # The choices stand in for "that's not an order number" and the question.
            del dispatcher.messages[said_before:]
            dispatcher.utter_message(text=replies.FORM_CHOICES, buttons=replies.FORM_CHOICE_BUTTONS)
        return events + [SlotSet(UNUSABLE_ANSWERS, float(count))]


def _gave_another_answer(validated: list[EventType], asked: str, form_slots: list[str]) -> bool:
    """Did this message's validated answers fill one of the form's slots other than ``asked``?"""
    return any(
        event.get("event") == "slot"
        and event.get("name") in form_slots
        and event.get("name") != asked
        and event.get("value") is not None
        for event in validated
    )


def starting(tracker: Tracker, form: str | None) -> bool:
    """Is ``form`` starting in this turn? (Rasa marks it active before its first validation.)"""
    return any(e.get("event") == "active_loop" and e.get("name") == form for e in _this_turn(tracker))


def left_over_answers(tracker: Tracker, form: str, domain: DomainDict) -> list[str]:
    """At ``form``'s start: its answers left from an earlier time (a lookup left with
    "never mind" after the number), which must not be taken as this time's. Kept: what
    this message gave, and what the form it replaced in this very turn had asked for too
    (the number given to the lookup, when "it arrived damaged" starts the problem report)."""
    events = tracker.events
    last_message = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    turn = events[last_message + 1 :]
    # Rasa hands the validation a tracker whose own candidates follow a marker: the form's action.
    marks = [i for i, e in enumerate(turn) if e.get("event") == "action" and e.get("name") == form]
    marker = marks[-1] if marks else len(turn)
    before = turn[:marker]
    given_now = {e.get("name") for e in before if e.get("event") == "slot"}
    carried: set[str] = set()
    if any(e.get("event") == "action" and e.get("name") == "action_deactivate_loop" for e in before):
        replaced = next(
            (
                e.get("name")
                for e in reversed(events[: last_message + 1 + marker])
                if e.get("event") == "active_loop" and e.get("name") not in (None, form)
            ),
            None,
        )
        carried = set(_required_slots(domain, replaced))
    return [
        slot
        for slot in _required_slots(domain, form)
        if tracker.get_slot(slot) is not None and slot not in given_now and slot not in carried
    ]


def _required_slots(domain: DomainDict, form: str | None) -> list[str]:
    return list(((domain.get("forms") or {}).get(form or "") or {}).get("required_slots") or [])


def _drop_candidates(tracker: Tracker, slots: list[str]) -> None:
    """Take left-over answers out of the candidates Rasa asks to validate (trailing slot
    events), so that no validator checks, or speaks about, a value from an earlier time."""
    for slot in slots:
        tracker.slots[slot] = None
    trailing = len(tracker.events)
    while trailing > 0 and tracker.events[trailing - 1].get("event") == "slot":
        trailing -= 1
    tracker.events[trailing:] = [e for e in tracker.events[trailing:] if e.get("name") not in slots]


def unusable_count_reset(tracker: Tracker) -> list[EventType]:
    """Forget the count of unusable answers: a usable answer, or a form starting afresh."""
    return [SlotSet(UNUSABLE_ANSWERS, None)] if tracker.get_slot(UNUSABLE_ANSWERS) is not None else []


class ActionContinueForm(Action):
    """ "Yes", "try again", or the form's own request said again: the form asks its
    question again in full, with a fresh count of unusable answers."""

    def name(self) -> str:
        return CONTINUE_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return unusable_count_reset(tracker)
