"""Review invitations and the shopper's answer: a rating, or "stop asking me".

The invitation is the same for every shopper, whatever they said before: no
review gating, no incentives (FTC 16 CFR Part 465, Amazon's policy).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import chat_context, review_service
from actions.forms import FormValidationWithChoices, ask
from bot.chat import replies

REVIEW_SLOTS = ("review_rating", "review_comment")
_RATING_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_SKIP = re.compile(r"^\s*(no|nope|skip|no thanks|nothing|none|n/a|-)\W*$", re.IGNORECASE)


def parse_rating(value: Any) -> int | None:
    """1 to 5 from "5", "five", "4 stars", "★★★★"; anything else is not a rating."""
    text = str(value or "").strip().lower()
    if text and set(text) <= {"★", "⭐", " "}:
        stars = text.count("★") + text.count("⭐")
        return stars if 1 <= stars <= 5 else None
    found = re.search(r"\b([0-9]+|one|two|three|four|five)\b", text)
    if not found:
        return None
    token = found.group(1)
    rating = int(token) if token.isdigit() else _RATING_WORDS[token]
    return rating if 1 <= rating <= 5 else None


def rating_buttons() -> list[dict[str, str]]:
    return [{"title": "★" * n + f" {n}", "payload": f'/leave_review{{"rating":"{n}"}}'} for n in range(1, 6)]


class ActionSendReviewInvitation(Action):
    """Run by the worker through EXTERNAL_review_due when an order's invitation is due."""

    def name(self) -> str:
        return "action_send_review_invitation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number = next(tracker.get_latest_entity_values("order_id"), None)
        # The conversation's own shopper must own the order, whatever the entities say.
        order = await review_service().order_for_review(tracker.sender_id, str(number)) if number else None
        if order is None:
            return []
        dispatcher.utter_message(
            text=await review_service().message(order, "review_invitation"),
            buttons=[*rating_buttons(), replies.REVIEW_DECLINE_BUTTON],
        )
        return [SlotSet("review_order_number", order.order_number)]


class ValidateReviewForm(FormValidationWithChoices):
    """Which order (the invited one, else the shopper's latest delivered one), a rating, optional words."""

    def name(self) -> str:
        return "validate_review_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return domain_slots if tracker.get_slot("review_order_number") else []

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        if tracker.get_slot("review_order_number"):
            return events
        order = await review_service().order_for_review(tracker.sender_id, tracker.get_slot("verified_order_number"))
        if order is None:
            dispatcher.utter_message(text=replies.REVIEW_NO_ORDER)
            return [*events, *(SlotSet(slot, None) for slot in REVIEW_SLOTS)]
        return [*events, SlotSet("review_order_number", order.order_number)]

    async def validate_review_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        rating = parse_rating(value)
        if rating is None:
            dispatcher.utter_message(text=replies.REVIEW_RATING_INVALID, buttons=rating_buttons())
            return {"review_rating": None}
        return {"review_rating": str(rating)}

    async def validate_review_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        text = " ".join(str(value or "").split())
        # An empty comment is an answer too: the words are optional.
        if intent == "deny" or _SKIP.match(text):
            return {"review_comment": ""}
        return {"review_comment": text[:2000]}


class ActionAskReviewRating(Action):
    def name(self) -> str:
        return "action_ask_review_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return ask(dispatcher, tracker, "review_rating", replies.ASK_REVIEW_RATING, rating_buttons())


class ActionAskReviewComment(Action):
    def name(self) -> str:
        return "action_ask_review_comment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return ask(dispatcher, tracker, "review_comment", replies.ASK_REVIEW_COMMENT, [replies.SKIP_BUTTON])


class ActionSubmitReview(Action):
    """Store the rating and words, thank the shopper, and give the store's review link if it has one."""

    def name(self) -> str:
        return "action_submit_review"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset: list[EventType] = [SlotSet(slot, None) for slot in REVIEW_SLOTS]
        rating = parse_rating(tracker.get_slot("review_rating"))
        order_number = tracker.get_slot("review_order_number")
        if rating is None or not order_number:
            return reset
        order = await review_service().order_for_review(tracker.sender_id, order_number)
        if order is None:
            dispatcher.utter_message(text=replies.REVIEW_NO_ORDER)
            return reset
        comment = tracker.get_slot("review_comment") or ""
        await review_service().record_review(order.store_id, tracker.sender_id, order.order_id, rating, comment)
        link = await review_service().review_link(order.store_id, order.order_number, order.skus[0] if order.skus else None)
        text = await review_service().message(order, "review_thanks")
        if link:
            text += " " + replies.REVIEW_LINK.format(url=link)
        dispatcher.utter_message(text=text)
        return [*reset, SlotSet("review_order_number", None)]


class ActionDeclineReviews(Action):
    """ "Stop asking me": the shopper opts out of this store's review invitations."""

    def name(self) -> str:
        return "action_decline_reviews"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = chat_context(tracker)
        email = context.shopper_email
        store_id = context.store_id
        if email is None:
            # The store's own messages go to signed-in shoppers; their order names them.
            order = await review_service().order_for_review(tracker.sender_id, tracker.get_slot("review_order_number"))
            email, store_id = (order.shopper_email, order.store_id) if order else (None, store_id)
        if store_id is None or email is None:
            dispatcher.utter_message(text=replies.REVIEW_OPT_OUT_UNKNOWN)
            return []
        await review_service().opt_out(store_id, email)
        dispatcher.utter_message(text=replies.REVIEW_OPTED_OUT)
        return [SlotSet("review_order_number", None), *(SlotSet(slot, None) for slot in REVIEW_SLOTS)]
