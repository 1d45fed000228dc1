"""Proactive delivery messages, run by the worker through EXTERNAL_package_delivered."""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import order_service
from bot.deliveries import Outgoing, delivery_confirmation, exception_notice
from bot.models import TrackingTag
from bot.orders import ShopperShipment
from bot.tracking_updates import HELD_UP

DELIVERED = TrackingTag.Delivered.value


def _say(dispatcher: CollectingDispatcher, messages: list[Outgoing]) -> None:
    for message in messages:
        if message.attachment:
            dispatcher.utter_message(text=message.text, json_message={"attachment": message.attachment})
        else:
            dispatcher.utter_message(text=message.text, buttons=message.buttons)


class ShipmentNotice(Action, abc.ABC):
    """A proactive message about one shipment, run by the worker through an external intent.

    Abstract, so that rasa-sdk registers only its concrete subclasses.
    """

    #: The shipment must be in one of these statuses.
    statuses: Collection[str] = ()
    compose: Callable[[ShopperShipment], list[Outgoing]]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        tracking_number = next(tracker.get_latest_entity_values("tracking_number"), None)
        # The conversation's own shopper and store decide what may be shown,
        # not the entities, which anyone could type as "/intent{...}".
        shipment = (
            await order_service().shipment_for_conversation(tracker.sender_id, str(tracking_number), self.statuses)
            if tracking_number
            else None
        )
        if shipment is not None:
            _say(dispatcher, type(self).compose(shipment))
        return []

    @abc.abstractmethod
    def name(self) -> str: ...


class ActionSendDeliveryConfirmation(ShipmentNotice):
    statuses = (DELIVERED,)
    compose = staticmethod(delivery_confirmation)

    def name(self) -> str:
        return "action_send_delivery_confirmation"


class ActionSendExceptionNotice(ShipmentNotice):
    statuses = tuple(HELD_UP)
    compose = staticmethod(exception_notice)

    def name(self) -> str:
        return "action_send_exception_notice"
