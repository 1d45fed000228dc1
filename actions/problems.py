"""After delivery: "it never came", "it's damaged", "parts are missing",
"wrong item". Each records an escalation (see actions/escalations.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import chat_context, conversation_photos, guide_service, product_matcher
from actions.escalations import escalate
from actions.forms import ask
from actions.orders import ValidateOrderStatusForm
from bot.chat import replies
from bot.guides.catalogue_index import CatalogueItem

ORDER_SLOTS = ("order_number", "order_verification")
#: The problems a photo helps the store judge; "it never came" has nothing to photograph.
PHOTO_PROBLEMS = frozenset({"damaged", "missing_parts", "wrong_item"})
#: What the gateway sends Rasa for a message of photos alone (bot/web/turns.py: PHOTOS_INTENT).
PHOTOS_MESSAGE = "/share_photos"
MIN_DESCRIPTION_CHARS = 3
MAX_DESCRIPTION_CHARS = 2000
#: The line added to a report for the store's team when the shopper names an item of the order.
ITEM_NAMED = "Item named: {items}"


class ValidateProblemReportForm(ValidateOrderStatusForm):
    """The order (checked exactly as for "where is my order?"), then the shopper's description,
    then, for what a photo can show, the photos (or Skip)."""

    def name(self) -> str:
        return "validate_problem_report_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        if tracker.get_slot("problem_type") not in PHOTO_PROBLEMS:
            slots = [slot for slot in slots if slot != "problem_photos"]
        if tracker.get_slot("verified_order_number"):
            # The chat already knows the order: the delivery message named it,
            # or the shopper proved it earlier.
            return [slot for slot in slots if slot not in ORDER_SLOTS]
        return slots

    async def validate_problem_photos(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Photos end the step (alone, or with words: "here they are"), and so do Skip and words instead
        of photos: the report goes ahead either way."""
        sent = str(value or "").strip().startswith(PHOTOS_MESSAGE) or _photos_came(tracker)
        return {"problem_photos": "sent" if sent else "skipped"}

    async def validate_problem_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if len(text) < MIN_DESCRIPTION_CHARS:
            dispatcher.utter_message(text=replies.PROBLEM_DESCRIPTION_TOO_SHORT)
            return {"problem_description": None}
        described = {"problem_description": text[:MAX_DESCRIPTION_CHARS]}
        if _photos_came(tracker):
            # Photos sent with the description: the photo step has its answer already.
            return {**described, "problem_photos": "sent"}
        return described


class ActionAskProblemDescription(Action):
    """Ask for what a person will need, in the words that fit the problem."""

    def name(self) -> str:
        return "action_ask_problem_description"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        problem = tracker.get_slot("problem_type") or "damaged"
        question = replies.ASK_PROBLEM_DESCRIPTION.get(problem, replies.ASK_PROBLEM_DESCRIPTION["damaged"])
        return ask(dispatcher, tracker, "problem_description", question)


def _photos_came(tracker: Tracker) -> bool:
    """Whether the shopper's latest message carried photos (the gateway counts them in its metadata)."""
    count = ((tracker.latest_message or {}).get("metadata") or {}).get("photo_count")
    return isinstance(count, int) and not isinstance(count, bool) and count > 0


class ActionAskProblemPhotos(Action):
    """Ask for the photos that help the store decide, with a Skip."""

    def name(self) -> str:
        return "action_ask_problem_photos"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        problem = tracker.get_slot("problem_type") or "damaged"
        question = replies.ASK_PROBLEM_PHOTOS.get(problem, replies.ASK_PROBLEM_PHOTOS["damaged"])
        return ask(dispatcher, tracker, "problem_photos", question, buttons=[replies.SKIP_PHOTOS_BUTTON])


class ActionAcknowledgePhotos(Action):
    """Photos sent outside the report's photo step: where they went. Never a word about what they
    show: nobody has looked yet."""

    def name(self) -> str:
        return "action_acknowledge_photos"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        store_id = chat_context(tracker).store_id
        case = await conversation_photos().open_case(store_id, tracker.sender_id) if store_id else None
        if case is not None:
            # The gateway filed them with the open case as they arrived.
            dispatcher.utter_message(text=replies.PHOTOS_ADDED_TO_CASE.format(reference=f"E-{case}"))
        elif tracker.active_loop_name == "problem_report_form":
            # The report under way takes them when it is recorded.
            dispatcher.utter_message(text=replies.PHOTOS_KEPT_FOR_REPORT)
        else:
            dispatcher.utter_message(text=replies.PHOTOS_KEPT, buttons=replies.PHOTOS_KEPT_BUTTONS)
        return []


class ActionRecordProblemReport(Action):
    """Record the escalation with the order and the shopper's words, and say what happens next."""

    def name(self) -> str:
        return "action_record_problem_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset: list[EventType] = [
            SlotSet(slot, None) for slot in (*ORDER_SLOTS, "problem_description", "problem_photos", "problem_type")
        ]
        number = tracker.get_slot("verified_order_number")
        description = tracker.get_slot("problem_description")
        problem = tracker.get_slot("problem_type")
        if not (number and description and problem):
            return reset  # the form already said why it stopped
        item = await named_item_line(tracker, number, [description, report_text(tracker)])
        recorded = await escalate(dispatcher, tracker, problem, f"{description}\n{item}" if item else description, number)
        if recorded is not None:
            filed = await conversation_photos().file_with_case(recorded.store_id, tracker.sender_id, recorded.id)
            if filed:
                dispatcher.utter_message(text=replies.PHOTOS_WITH_REPORT.format(count=filed))
        return reset


async def named_item_line(tracker: Tracker, order_number: str, texts: list[str]) -> str:
    """For the store's team: which of the order's items the shopper's words name
    ("Item named: Aluminium oil pan (OP-1001)"), or "" when they name none."""
    store_id = chat_context(tracker).store_id
    if not store_id:
        return ""
    items = await guide_service().order_items(store_id, order_number)
    if not items:
        return ""
    in_order = [CatalogueItem(item.sku, item.name) for item in items]
    for text in texts:
        match = await product_matcher().resolve(store_id, text, in_order, beyond_order=False)
        if match.candidates:
            return ITEM_NAMED.format(items=", ".join(f"{c.name} ({c.sku})" for c in match.candidates))
    return ""


def report_text(tracker: Tracker) -> str:
    """The message that started the report ("the oil pan arrived dented"): it often names the item."""
    for event in reversed(tracker.events):
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
        if event.get("event") == "user" and intent.startswith("report_"):
            return str(event.get("text") or "")
    return ""
