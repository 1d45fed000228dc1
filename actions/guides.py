"""Installation guides: "how do I install it?" and "I'm stuck at step 3"."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import chat_context, guide_service, order_service, product_matcher, say
from bot.chat import replies
from bot.core.models import Product
from bot.guides.catalogue_index import CatalogueItem, ProductMatch
from bot.guides.in_chat import (
    GuideItem,
    choose_product_message,
    find_step_number,
    guide_messages,
    has_guide,
    no_guide_messages,
    step_messages,
)

#: At most this many products offered as buttons when the bot knows no order.
PRODUCT_CHOICES = 6
#: A button's SKU is at most this long (the products table's column); longer is typed junk.
MAX_SKU_CHARS = 64


class ActionSendInstallationGuide(Action):
    """Sends the guide of the item the shopper means: the button they pressed, the product
    their words name (their order's items first, then the store's catalogue), the guide sent
    last for "stuck at step 3", or their order's only item; asks with buttons when it can't tell."""

    def name(self) -> str:
        return "action_send_installation_guide"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = chat_context(tracker)
        if context.store_id is None:
            dispatcher.utter_message(text=replies.NO_STORE)
            return []
        store_id = context.store_id
        items = await self._order_items(tracker, store_id, context.shopper_email)
        # Rasa reads a text that starts with "/" (after spaces) as a payload, never as words.
        text = str((tracker.latest_message or {}).get("text") or "").strip()
        step = find_step_number(text)

        chosen = button_sku(tracker, text)
        if chosen is not None:
            # A payload (pressed or typed): its SKU is looked up in this store only.
            return await self._send(dispatcher, store_id, items, CatalogueItem(chosen, chosen), step, from_button=True)
        if not text.startswith("/"):
            match = await product_matcher().resolve(store_id, text, [CatalogueItem(i.sku, i.name) for i in items])
            if match.product is not None:
                return await self._send(dispatcher, store_id, items, match.product, step)
            if match.ambiguous:
                say(dispatcher, [choose_product_message(_choices(match), question=replies.GUIDE_WHICH_MATCH)])
                return [SlotSet("guide_product", None)]
            if match.unknown_name and not (step is not None and tracker.get_slot("guide_product")):
                dispatcher.utter_message(text=replies.GUIDE_UNKNOWN_PRODUCT.format(product=match.unknown_name[:80]))
                return await self._ask_which(dispatcher, store_id, items)
        if step is not None and tracker.get_slot("guide_product"):
            # "Stuck at step 3" follows the guide already sent.
            sku = str(tracker.get_slot("guide_product"))
            return await self._send(dispatcher, store_id, items, CatalogueItem(sku, sku), step)
        if len(items) == 1:
            return await self._send(dispatcher, store_id, items, CatalogueItem(items[0].sku, items[0].name), step)
        return await self._ask_which(dispatcher, store_id, items)

    async def _send(
        self,
        dispatcher: CollectingDispatcher,
        store_id: str,
        items: list[GuideItem],
        wanted: CatalogueItem,
        step: int | None,
        *,
        from_button: bool = False,
    ) -> list[EventType]:
        """The guide (or one step of it) of the product with this SKU in this store."""
        in_order = next((item for item in items if item.sku == wanted.sku), None)
        product: Product | None = in_order.product if in_order else await order_service().product(store_id, wanted.sku)
        if product is None:
            if in_order is None and from_button:
                # Not this store's SKU: typed, not pressed. Offer this store's own choices.
                return await self._ask_which(dispatcher, store_id, items)
            say(dispatcher, no_guide_messages(in_order.name if in_order else wanted.name))
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
            question = replies.GUIDE_WHICH_ITEM
        else:
            products = await guide_service().products(store_id)
            choices = [(p.sku, p.name) for p in products][:PRODUCT_CHOICES]
            question = replies.GUIDE_WHICH_PRODUCT
        say(dispatcher, [choose_product_message(choices, question=question)])
        return [SlotSet("guide_product", None)]


def button_sku(tracker: Tracker, text: str) -> str | None:
    """The SKU a guide button carries (``/request_installation_guide{"product": "GK-2040"}``).

    Only a payload's ``product`` entity counts: what a model might tag in typed words is not a SKU,
    and those words are matched against the catalogue instead. Anyone can type a payload, so it is
    a short string or nothing.
    """
    if not text.startswith("/"):
        return None
    value = next(tracker.get_latest_entity_values("product"), None)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_SKU_CHARS:
        return None
    return value.strip()


def _choices(match: ProductMatch) -> list[tuple[str, str]]:
    return [(item.sku, item.name) for item in match.candidates]
