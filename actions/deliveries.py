"""Proactive delivery messages, run by the worker through EXTERNAL_package_delivered."""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import order_service, say
from bot.orders.lookup import ShopperShipment
from bot.shipping.deliveries import INSTALL_VIDEO_DUE, NOTICES, PACKAGE_DELIVERED, SHIPMENT_EXCEPTION, Outgoing


class ShipmentNotice(Action, abc.ABC):
    """A proactive message about one shipment, run by the worker through an external intent.

    What each one says is ``bot.shipping.deliveries.NOTICES``: the worker asks the same question to
    tell an action that failed from one that had nothing to say.

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
        if shipment is None:
            return []
        say(dispatcher, type(self).compose(shipment))
        # The store wrote about this order to its own shopper: what the shopper
        # says next ("how do I install it?", "it's damaged") is about it.
        return [SlotSet("verified_order_number", shipment.order.order_number)]

    @abc.abstractmethod
    def name(self) -> str: ...


class ActionSendDeliveryConfirmation(ShipmentNotice):
    statuses = NOTICES[PACKAGE_DELIVERED].statuses
    compose = staticmethod(NOTICES[PACKAGE_DELIVERED].compose)

    def name(self) -> str:
        return "action_send_delivery_confirmation"


class ActionSendExceptionNotice(ShipmentNotice):
    statuses = NOTICES[SHIPMENT_EXCEPTION].statuses
    compose = staticmethod(NOTICES[SHIPMENT_EXCEPTION].compose)

    def name(self) -> str:
        return "action_send_exception_notice"


class ActionSendInstallVideo(ShipmentNotice):
    statuses = NOTICES[INSTALL_VIDEO_DUE].statuses
    compose = staticmethod(NOTICES[INSTALL_VIDEO_DUE].compose)

    def name(self) -> str:
        return "action_send_install_video"
