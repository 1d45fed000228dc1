"""Small talk in the store's own words: the greeting is the seller's template."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import chat_context, settings_service


class ActionGreet(Action):
    """Hello, as the store words it (read on every message: a change applies at once)."""

    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = chat_context(tracker)
        dispatcher.utter_message(text=await settings_service().greeting(context.store_id, context.shopper_email))
        return []
