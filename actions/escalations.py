"""Handing a conversation to a person from the store: when the shopper asks for
one, when the bot misunderstands twice in a row (and, through ``escalate``, after
an order number or an address locked by failed identity checks, and the
after-delivery problem reports).

The shopper is told in one message what was recorded (its reference) and what
honestly happens next: a person is connected now, or answers within the
store's reply time, or once the store opens again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import chat_context, escalation_service
from bot.chat import replies
from bot.core.clock import utc_now
from bot.support.business_hours import describe_duration
from bot.support.escalations import EscalationLimited, EscalationOff, RecordedEscalation

NOT_UNDERSTOOD_ACTION = "action_handle_not_understood"
NLU_FALLBACK = "nlu_fallback"
#: Events after which earlier messages no longer count as "in a row".
FRESH_START_EVENTS = ("session_started", "restart")


def clock() -> dt.datetime:
    """Now, in UTC (tests replace it)."""
    return utc_now()


async def next_steps(tracker: Tracker, store_id: str | None = None, reference: str = "") -> str:
    """What happens next, from the store's people online and its business hours.

    ``store_id`` is the store the case was recorded for (the conversation's own);
    without one, the store the message came from.
    """
    store_id = store_id or chat_context(tracker).store_id
    now = clock()
    availability = await escalation_service().availability(store_id, now) if store_id else None
    return availability.notice(now, reference) if availability is not None else replies.NEXT_STEPS_LATER


async def escalate(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    details: str = "",
    order_number: str | None = None,
) -> RecordedEscalation | None:
    """Record that this conversation needs a person, and tell the shopper in one
    message: the reference and what happens next (see ``replies.ESCALATED``).

    ``None`` (and an honest "couldn't pass this on") without a store, or for a
    conversation the store database doesn't know, or over the limits on new cases
    with no case open in the conversation. Over the limits with a case open, the
    words are added to it and the shopper is told "we already have your request".
    """
    context = chat_context(tracker)
    if context.store_id is None:
        dispatcher.utter_message(text=replies.NO_STORE)
        return None
    try:
        recorded = await escalation_service().record(
            tracker.sender_id, reason, details, order_number, client_key=context.client_key
        )
    except EscalationOff:
        dispatcher.utter_message(text=_not_taken(reason, order_number))
        return None
    except EscalationLimited as limited:
        dispatcher.utter_message(text=_limited(reason, limited.retry_after))
        return None
    if recorded is None:
        dispatcher.utter_message(text=replies.NOT_ESCALATED.get(reason, replies.ESCALATION_NOT_RECORDED))
        return None
    if recorded.already_open and reason != "identity_check_failed":
        # (The identity lock's own words already say "a person will help you (reference …)".)
        dispatcher.utter_message(
            text=replies.ESCALATION_ALREADY_OPEN.format(
                reference=recorded.reference, next_steps=await next_steps(tracker, recorded.store_id, recorded.reference)
            )
        )
        return recorded
    dispatcher.utter_message(
        text=replies.ESCALATED[reason].format(
            reference=recorded.reference,
            order_number=order_number,
            next_steps=await next_steps(tracker, recorded.store_id, recorded.reference),
        )
    )
    return recorded


def _limited(reason: str, retry_after: dt.timedelta) -> str:
    """What the shopper hears when the limits on new cases allow none now, and none is open."""
    if reason == "identity_check_failed":
        return replies.IDENTITY_CHECK_LOCKED_NOT_RECORDED
    minutes = max(1, -(-int(retry_after.total_seconds()) // 60))
    if minutes >= 90:
        minutes = -(-minutes // 60) * 60  # "3 hours", not "2.71667 hours"
    return replies.ESCALATION_LIMITED.format(wait=describe_duration(minutes))


def _not_taken(reason: str, order_number: str | None) -> str:
    """What the shopper hears when the store turned this kind of escalation off."""
    if reason == "not_understood":
        return replies.NOT_UNDERSTOOD
    if reason == "identity_check_failed":
        return replies.IDENTITY_CHECK_LOCKED_NOT_RECORDED
    return replies.PROBLEM_NOT_ESCALATED.format(
        about_order=f" and mention your order {order_number}" if order_number else ""
    )


def _current_session(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    session: list[dict[str, Any]] = []
    for event in events:
        if event.get("event") in FRESH_START_EVENTS:
            session = []
        else:
            session.append(event)
    return session


def not_understood_in_a_row(tracker: Tracker) -> list[str]:
    """The texts of the shopper's latest messages that the bot did not
    understand, oldest first, ending with the current one.

    A message was not understood when the bot's first action after it was this
    action (an NLU fallback or a core fallback). Any other answer, a message the
    store sent (an external intent), a message that a person answered while the
    bot was paused, or a new session ends the run.
    """
    turns: list[tuple[str, str | None]] = []  # (text, the bot's first action after it)
    for event in _current_session(tracker.events):
        kind = event.get("event")
        if kind == "user":
            turns.append((event.get("text") or "", None))
        elif kind == "action" and turns and turns[-1][1] is None and event.get("name") != "action_listen":
            turns[-1] = (turns[-1][0], event.get("name"))
    if not turns:
        return []
    # The current message is being answered by this action right now.
    texts = [turns[-1][0]]
    for text, answered_by in reversed(turns[:-1]):
        if answered_by != NOT_UNDERSTOOD_ACTION:
            break
        texts.insert(0, text)
    return texts


class ActionHandleNotUnderstood(Action):
    """The bot didn't understand: say so once; the second time in a row, ask a person.

    Runs for the NLU fallback (a rule) and as the core fallback (config.yml),
    where, like Rasa's own default fallback, it forgets the message so that the
    dialogue carries on where it was.
    """

    def name(self) -> str:
        return NOT_UNDERSTOOD_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        events: list[EventType] = [] if intent == NLU_FALLBACK else [UserUtteranceReverted()]
        texts = not_understood_in_a_row(tracker)
        if len(texts) < 2:
            dispatcher.utter_message(text=replies.NOT_UNDERSTOOD)
            return events
        # Two in a row: both texts. Any further one joins the same open escalation,
        # which already holds the earlier texts.
        details = "\n".join(texts) if len(texts) == 2 else texts[-1]
        await escalate(dispatcher, tracker, "not_understood", details, tracker.get_slot("verified_order_number"))
        return events


class ActionEscalateToHuman(Action):
    """The shopper asked for a person: record it, with the order if the chat knows it."""

    def name(self) -> str:
        return "action_escalate_to_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        words = (tracker.latest_message or {}).get("text") or ""
        await escalate(dispatcher, tracker, "shopper_request", words, tracker.get_slot("verified_order_number"))
        return []
