"""Proactive delivery messages, run by the worker through EXTERNAL_package_delivered."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import order_service
from bot.deliveries import delivery_confirmation


class ActionSendDeliveryConfirmation(Action):
    def name(self) -> str:
        return "action_send_delivery_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        tracking_number = next(tracker.get_latest_entity_values("tracking_number"), None)
        # The conversation's own shopper and store decide what may be shown,
        # not the entities, which anyone could type as "/intent{...}".
        delivered = (
            await order_service().delivered_shipment(tracker.sender_id, str(tracking_number))
            if tracking_number
            else None
        )
        if delivered is None:
            return []
        for message in delivery_confirmation(delivered):
            if message.attachment:
                dispatcher.utter_message(text=message.text, json_message={"attachment": message.attachment})
            else:
                dispatcher.utter_message(text=message.text)
        return []
