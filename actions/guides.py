"""Installation guides: "how do I install it?" and "I'm stuck at step 3"."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import chat_context, guide_service, order_service, say
from bot import replies
from bot.guides import (
    GuideItem,
    best_match,
    choose_product_message,
    find_step_number,
    guide_messages,
    has_guide,
    no_guide_messages,
    step_messages,
)
from bot.models import Product

#: At most this many products offered as buttons when the bot knows no order.
PRODUCT_CHOICES = 6


class ActionSendInstallationGuide(Action):
    """Sends the guide of the item the shopper means, from the order the chat
    knows of, or from the product they name; asks when it can't tell."""

    def name(self) -> str:
        return "action_send_installation_guide"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = chat_context(tracker)
        if context.store_id is None:
            dispatcher.utter_message(text=replies.NO_STORE)
            return []
        guides = guide_service()
        items = await self._order_items(tracker, context.store_id, context.shopper_email)
        # The longest name wins: "brake pads" (the lookup table) over "pads" (DIET).
        named = max(tracker.get_latest_entity_values("product"), key=lambda value: len(str(value)), default=None)
        step = find_step_number((tracker.latest_message or {}).get("text") or "")

        product: Product | None = None
        unguided: GuideItem | None = None
        if named:
            with_products = [item.product for item in items if item.product is not None]
            product = best_match(with_products, str(named)) or best_match(await guides.products(context.store_id), str(named))
            if product is None:
                unguided = next((i for i in items if str(named).lower() in i.name.lower()), None)
                if unguided is None:
                    dispatcher.utter_message(text=replies.GUIDE_UNKNOWN_PRODUCT.format(product=str(named)[:80]))
                    return await self._ask_which(dispatcher, context.store_id, items)
        elif step is not None and tracker.get_slot("guide_product"):
            # "Stuck at step 3" follows the guide already sent.
            product = await order_service().product(context.store_id, tracker.get_slot("guide_product"))
        if product is None and unguided is None:
            if len(items) != 1:
                return await self._ask_which(dispatcher, context.store_id, items)
            product, unguided = items[0].product, items[0]

        if product is None:
            say(dispatcher, no_guide_messages(unguided.name if unguided else str(named)))
            return []
        say(dispatcher, step_messages(product, step) if step is not None else guide_messages(product))
        return [SlotSet("guide_product", product.sku)] if has_guide(product) else []

    @staticmethod
    async def _order_items(tracker: Tracker, store_id: str, shopper_email: str | None) -> list[GuideItem]:
        order_number = tracker.get_slot("verified_order_number")
        if order_number:
            return await guide_service().order_items(store_id, order_number)
        if shopper_email:
            return await guide_service().latest_order_items(store_id, shopper_email)
        return []

    @staticmethod
    async def _ask_which(dispatcher: CollectingDispatcher, store_id: str, items: list[GuideItem]) -> list[EventType]:
        if items:
            choices = [(item.sku, item.name) for item in items]
        else:
            products = await guide_service().products(store_id)
            choices = [(p.sku, p.name) for p in products][:PRODUCT_CHOICES]
        say(dispatcher, [choose_product_message(choices, from_order=bool(items))])
        return [SlotSet("guide_product", None)]
