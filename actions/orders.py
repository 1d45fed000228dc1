"""Order status: the identity-checked "where is my order?" form."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import chat_context, identity_checks, order_service
from actions.escalations import escalate, next_steps
from actions.forms import FormValidationWithChoices, ask
from bot.chat import replies
from bot.chat.form_interruptions import answer_intents
from bot.orders.lookup import OrderAnswer, find_order_number, find_proof, read_order_answer
from bot.shipping.tracking import describe_order

FORM_SLOTS_RESET = {"order_number": None, "order_verification": None, "requested_slot": None}
#: What a lock is on, as the escalation's details say it.
LOCKED_WHAT = {"order": "this order number", "address": "checks from this shopper's address"}


def _stop_form(**slots: Any) -> dict[str, Any]:
    """Slot updates that end the form: requested_slot None deactivates it."""
    return {**FORM_SLOTS_RESET, **slots}


def _asking_for(tracker: Tracker) -> str | None:
    """The slot the form asked for before this message."""
    return tracker.get_slot("requested_slot")


def _earlier_value(tracker: Tracker, slot: str) -> Any:
    """``slot``'s value before this message's candidates (which trail the events)."""
    events = tracker.events
    index = len(events)
    while index > 0 and events[index - 1].get("event") == "slot":
        index -= 1  # this turn's candidates
    for event in reversed(events[:index]):
        if event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


async def _read_answer(tracker: Tracker, store_id: str) -> OrderAnswer | None:
    """The order number and proof in the shopper's whole latest message, read with the
    store's own number shapes. The NLU entity may hold only part of the number ("77001"
    of "h 77001"), so the message text is the authority. ``None`` when the tracker has no
    message text (made without one): each slot's value is then read on its own."""
    text = str((tracker.latest_message or {}).get("text") or "")
    if not text.strip():
        return None
    shapes = await order_service().order_number_shapes(store_id)
    answer = read_order_answer(text, shapes, asking_for_proof=_asking_for(tracker) == "order_verification")
    if _asking_for(tracker) is None and answer.number is None and answer.proof is None:
        # The form is starting with answers carried over from the form it replaced ("it
        # arrived damaged" in the middle of the lookup): this message holds none of them.
        return None
    return answer


#: At most this many words make a message "typed alone" (``_typed_alone``).
TYPED_ALONE_MAX_WORDS = 3


async def _typed_alone(tracker: Tracker, slot: str) -> dict[str, Any]:
    """An order number, email or postcode typed alone ("PO#88812", "h 77001") answers the
    question whatever intent the NLU gave it; the domain's mappings take it from answer
    intents only (bot/chat/form_interruptions.py), so that other requests can interrupt."""
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    text = str((tracker.latest_message or {}).get("text") or "")
    store_id = chat_context(tracker).store_id
    if _asking_for(tracker) != slot or intent in answer_intents(slot) or store_id is None:
        return {}
    if not text.strip() or text.startswith("/") or len(text.split()) > TYPED_ALONE_MAX_WORDS:
        return {}
    answer = await _read_answer(tracker, store_id)
    found = answer is not None and (answer.number if slot == "order_number" else answer.proof)
    return {slot: text} if found else {}


class ValidateOrderStatusForm(FormValidationWithChoices):
    """Checks each answer's shape, then the identity check once both are in."""

    async def extract_order_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await _typed_alone(tracker, "order_number")

    async def extract_order_verification(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await _typed_alone(tracker, "order_verification")

    def name(self) -> str:
        return "validate_order_status_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        # A shopper the store vouched for needs no email or postcode check.
        context = chat_context(tracker)
        if context.store_id and context.shopper_email:
            return [slot for slot in domain_slots if slot != "order_verification"]
        return domain_slots

    async def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        context = chat_context(tracker)
        if context.store_id is None:
            dispatcher.utter_message(text=replies.NO_STORE)
            return _stop_form()
        answer = await _read_answer(tracker, context.store_id) or OrderAnswer(
            find_order_number(str(value or ""), await order_service().order_number_shapes(context.store_id)), None
        )
        if answer.number is None and _asking_for(tracker) == "order_verification":
            # The message answered the proof question ("94110-1234" looks like an order
            # number too): the order number given before stays.
            earlier = _earlier_value(tracker, "order_number")
            if earlier:
                return {"order_number": earlier}
        if answer.number is None:
            dispatcher.utter_message(text=replies.NOT_AN_ORDER_NUMBER)
            return {"order_number": None}
        number = answer.number
        if context.shopper_email:
            order = await order_service().find_shopper_order(context.store_id, number, context.shopper_email)
            if order is None:
                dispatcher.utter_message(text=replies.NOT_YOUR_ORDER.format(order_number=number))
                return {"order_number": None}
            return {"order_number": order.order_number, "verified_order_number": order.order_number}
        return {"order_number": number}

    async def validate_order_verification(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        context = chat_context(tracker)
        if context.store_id is None:
            return _stop_form()
        answer = await _read_answer(tracker, context.store_id) or OrderAnswer(None, find_proof(str(value or "")))
        if answer.proof is None and answer.number is None:
            dispatcher.utter_message(text=replies.NOT_AN_EMAIL_OR_POSTCODE)
        # No proof and an order number: the message gave (or corrected) the number, and
        # its digits are no postcode; the proof is asked for next, without a complaint.
        return {"order_verification": answer.proof}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(events)
        # One identity check per turn, whichever answer came last.
        context = chat_context(tracker)
        number, proof = tracker.get_slot("order_number"), tracker.get_slot("order_verification")
        if context.store_id is None or context.shopper_email or not (number and proof):
            return events
        outcome = await self._check_identity(context.store_id, number, proof, dispatcher, tracker)
        return events + [SlotSet(slot, value) for slot, value in outcome.items()]

    @staticmethod
    async def _check_identity(
        store_id: str, number: str, proof: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        # Failures are counted in the store database, per order and per client address
        # (bot/orders/identity_checks.py), never in this conversation's slots: /restart or a new
        # conversation forgets nothing.
        check = await identity_checks().check(
            store_id, number, proof, chat_context(tracker).client_key, conversation_id=tracker.sender_id
        )
        if check.order is not None:
            return {"order_number": check.order.order_number, "verified_order_number": check.order.order_number}
        if check.locked:
            # Nothing was compared; the same words whichever number was given.
            reference = tracker.get_slot("identity_check_escalation")
            if reference:
                dispatcher.utter_message(
                    text=replies.IDENTITY_CHECK_STILL_LOCKED.format(
                        reference=reference, next_steps=await next_steps(tracker, reference=reference)
                    )
                )
            else:
                dispatcher.utter_message(text=replies.IDENTITY_CHECK_PAUSED)
            return _stop_form()
        if check.newly_locked:
            # This failure locked the order (or the address): the store's people hear of it
            # once, here. The record names the order number tried, never the proof offered.
            about = " and ".join(LOCKED_WHAT[scope] for scope in check.newly_locked)
            recorded = await escalate(
                dispatcher, tracker, "identity_check_failed", f"Locked: {about}. Order number tried last: {number}", number
            )
            return _stop_form(identity_check_escalation=recorded.reference if recorded is not None else None)
        # One reply for a wrong number and a wrong email or postcode alike.
        dispatcher.utter_message(text=replies.IDENTITY_CHECK_FAILED)
        return {"order_number": None, "order_verification": None}


class ActionAskOrderNumber(Action):
    """Ask for the order number; an identified shopper picks from their recent orders."""

    def name(self) -> str:
        return "action_ask_order_number"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = chat_context(tracker)
        if context.store_id and context.shopper_email:
            orders = await order_service().recent_orders(context.store_id, context.shopper_email)
            if orders:
                buttons = [
                    {
                        "title": f"{o.order_number} · {o.placed_at_iso[:10]} · {', '.join(o.item_names)[:60]}",
                        "payload": replies.button_payload("inform", {"order_id": o.order_number}),
                    }
                    for o in orders
                ]
                return ask(dispatcher, tracker, "order_number", replies.CHOOSE_ORDER, buttons)
        return ask(dispatcher, tracker, "order_number", replies.ASK_ORDER_NUMBER)


class ActionAskOrderVerification(Action):
    def name(self) -> str:
        return "action_ask_order_verification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return ask(dispatcher, tracker, "order_verification", replies.ASK_ORDER_VERIFICATION)


class ActionReportOrderStatus(Action):
    """Answer with the verified order's shipments, then forget the form's answers."""

    def name(self) -> str:
        return "action_report_order_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = chat_context(tracker)
        number = tracker.get_slot("verified_order_number")
        events: list[EventType] = [SlotSet(slot, None) for slot in ("order_number", "order_verification")]
        if not number or context.store_id is None:
            return events  # the form already told the shopper why it stopped
        order = await order_service().find_order(context.store_id, number)
        if order is None:
            dispatcher.utter_message(text=replies.IDENTITY_CHECK_FAILED)
        else:
            dispatcher.utter_message(text=describe_order(order))
        return [*events, SlotSet("verified_order_number", None)]
